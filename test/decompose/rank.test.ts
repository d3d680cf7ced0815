import { beforeAll, describe, expect, it } from "vitest";
import { evbmf, ready, selectRank, tucker, unfoldingSpectrum, cp, type Tensor } from "../../src/index.ts";
import { addNoise, plantedTucker, randTensor } from "../helpers/tensors.ts";
import { randn } from "../helpers/random.ts";

beforeAll(() => ready());

const scale = (t: Tensor, c: number): Tensor => ({ data: t.data.map((v) => v * c), shape: [...t.shape] });

describe("EVBMF", () => {
  // a (256,256,3,3) kernel with Tucker-2 ranks (32, 48), at He-init-like scale
  const clean = scale(plantedTucker([256, 256, 3, 3], [0, 1], [32, 48], 11), 1e-3);

  for (const level of [0.01, 0.05, 0.1]) {
    it(`returns the planted ranks (32, 48) of the mode-0/1 unfoldings at ${level * 100}% noise, and after scaling by 1e-2`, () => {
      const k = addNoise(clean, level, 12);
      const plan = selectRank(k, { modes: [0, 1], rule: { rule: "evbmf" } });
      expect(plan.ranks).toEqual([32, 48]);
      expect(plan.perMode.map((p) => p.evbmfRank)).toEqual([32, 48]);
      expect(plan.perMode.every((p) => !p.fallbackUsed)).toBe(true);
      const small = selectRank(scale(k, 1e-2), { modes: [0, 1] });
      expect(small.ranks).toEqual([32, 48]);
      // σ² scales with the input: c² σ²
      expect(small.perMode[0].sigma2! / plan.perMode[0].sigma2!).toBeCloseTo(1e-4, 6);
    });
  }

  it("returns 0 on pure noise (matrix and unfolding), and the fallback decides the rank", () => {
    const noise = { data: randn(200 * 300, 13), shape: [200, 300] };
    const sv = unfoldingSpectrum(noise, 0);
    expect(evbmf(sv, 200, 300).rank).toBe(0);
    expect(evbmf(Array.from(sv, (v) => v * 1e-4), 200, 300).rank).toBe(0);
    const kn = randTensor([64, 64, 3, 3], 14);
    const p = selectRank(kn, { modes: [0, 1] });
    expect(p.perMode.map((m) => m.evbmfRank)).toEqual([0, 0]);
    expect(p.perMode.every((m) => m.fallbackUsed)).toBe(true);
    // default fallback: 90% energy
    expect(p.ranks).toEqual(selectRank(kn, { modes: [0, 1], rule: { rule: "energy", energy: 0.9 } }).ranks);
    expect(selectRank(kn, { modes: [0, 1], rule: { rule: "evbmf", fallback: "one" } }).ranks).toEqual([1, 1]);
    const skip = selectRank(kn, { modes: [0, 1], rule: { rule: "evbmf", fallback: "skip" } });
    expect(skip.ranks).toEqual([0, 0]);
    expect(skip.nParams).toBe(skip.originalParams);
  });

  it("a matrix (SVD) in either orientation; weakened ranks move toward the full rank", () => {
    const u = randn(120 * 10, 15), v = randn(10 * 80, 16);
    const m = new Float32Array(120 * 80);
    for (let i = 0; i < 120; i++) for (let j = 0; j < 80; j++) {
      let s = 0;
      for (let r = 0; r < 10; r++) s += u[i * 10 + r] * v[r * 80 + j];
      m[i * 80 + j] = s;
    }
    const a = addNoise({ data: m, shape: [120, 80] }, 0.05, 17);
    const at: Tensor = { data: new Float32Array(m.length), shape: [80, 120] };
    for (let i = 0; i < 120; i++) for (let j = 0; j < 80; j++) at.data[j * 120 + i] = a.data[i * 80 + j];
    expect(selectRank(a, { decomposition: "svd" }).ranks).toEqual([10]);
    expect(selectRank(at, { decomposition: "svd" }).ranks).toEqual([10]);
    const w = selectRank(a, { decomposition: "svd", rule: { rule: "evbmf", weaken: 0.5 } });
    expect(w.ranks).toEqual([Math.floor(80 - 0.5 * (80 - 10))]);
    expect(selectRank(a, { decomposition: "svd", rule: { rule: "evbmf", weaken: 0 } }).ranks).toEqual([80]);
    expect(selectRank(a, { decomposition: "svd", rule: { rule: "evbmf", weaken: 0 } }).increasesParams).toBe(true);
  });
});

describe("selectRank budgets and rules", () => {
  const k = randTensor([64, 48, 3, 3], 20);

  it("fraction budgets are honoured exactly by the decompositions", () => {
    for (const f of [0.05, 0.2, 0.5]) {
      const plan = selectRank(k, { modes: [0, 1], rule: { rule: "fraction", fraction: f } });
      expect(plan.nParams).toBeLessThanOrEqual(Math.floor(f * k.data.length));
      const d = tucker(k, { rank: plan.ranks, modes: [0, 1] });
      expect(d.nParams()).toBe(plan.nParams);
      const cplan = selectRank(k, { decomposition: "cp", rule: { rule: "fraction", fraction: f } });
      expect(cplan.nParams).toBeLessThanOrEqual(Math.floor(f * k.data.length));
      expect(cp(k, { rank: cplan.ranks[0], maxIter: 1 }).nParams()).toBe(cplan.nParams);
    }
    const m = randTensor([100, 60], 21);
    const sp = selectRank(m, { decomposition: "svd", rule: { rule: "fraction", fraction: 0.3 } });
    expect(sp.ranks).toEqual([Math.floor((0.3 * 6000) / 160)]);
    expect(sp.nParams).toBeLessThanOrEqual(1800);
  });

  it("energy threshold picks the smallest rank holding that share of Σσ²", () => {
    const plan = selectRank(k, { modes: [0], rule: { rule: "energy", energy: 0.5 } });
    const sv = unfoldingSpectrum(k, 0);
    const tot = sv.reduce((a, s) => a + s * s, 0);
    let acc = 0;
    for (let i = 0; i < plan.ranks[0]; i++) acc += sv[i] ** 2;
    expect(acc / tot).toBeGreaterThanOrEqual(0.5);
    expect((acc - sv[plan.ranks[0] - 1] ** 2) / tot).toBeLessThan(0.5);
    expect(plan.ranks[0]).toBeLessThanOrEqual(64);
  });

  it("reports a plan that would increase parameters instead of hiding it", () => {
    const plan = selectRank(k, { modes: [0, 1, 2, 3], rule: { rule: "fixed", rank: [64, 48, 3, 3] } });
    expect(plan.increasesParams).toBe(true);
    expect(plan.nParams).toBeGreaterThan(plan.originalParams);
  });

  it("rejects bad rules with the value and the allowed ones", () => {
    expect(() => selectRank(k, { rule: { rule: "vbmf" } as never })).toThrow(/unknown rank rule "vbmf"; expected one of 'fixed', 'fraction', 'energy', 'evbmf'/);
    expect(() => selectRank(k, { decomposition: "tt" as never })).toThrow(/unknown decomposition "tt"; expected one of 'tucker', 'cp', 'svd'/);
    expect(() => selectRank(k, { decomposition: "cp", rule: { rule: "evbmf" } })).toThrow(/rule 'evbmf' is not defined for decomposition 'cp'/);
    expect(() => selectRank(k, { decomposition: "svd" })).toThrow(/'svd' needs a 2-D matrix, got shape \[64,48,3,3\]/);
    expect(() => selectRank(k, { rule: { rule: "energy", energy: 1.5 } })).toThrow(/energy must be a finite number in \[0, 1\], got 1.5/);
    expect(() => selectRank(k, { rule: { rule: "evbmf", weaken: 2 } })).toThrow(/weaken must be a finite number in \[0, 1\], got 2/);
    expect(() => selectRank(k, { rule: { rule: "evbmf", fallback: "zero" as never } })).toThrow(/fallback "zero" is invalid; expected \{ energy: e \}/);
    expect(() => selectRank(k, { modes: [0, 0] })).toThrow(/mode 0 is repeated/);
    expect(() => selectRank(k, { rule: { rule: "fixed", rank: 65 }, modes: [0] })).toThrow(/rank 65 for mode 0 \(size 64\) is invalid; expected an integer in 1…64/);
  });
});
