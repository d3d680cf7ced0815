import { beforeAll, describe, expect, it } from "vitest";
import { ready, tucker, TuckerTensor, wasmMemoryBytes } from "../../src/index.ts";
import { addNoise, plantedTucker, randTensor } from "../helpers/tensors.ts";

beforeAll(() => ready());

const orthErr = (u: { data: Float32Array; shape: number[] }) => {
  const [n, r] = u.shape;
  let worst = 0;
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += u.data[i * r + a] * u.data[i * r + b];
    worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
  }
  return worst;
};

describe("tucker", () => {
  const shape = [20, 17, 9, 5];
  const ranks = [5, 4, 3, 2];
  const x = plantedTucker(shape, [0, 1, 2, 3], ranks, 1);

  for (const method of ["hosvd", "hooi"] as const) {
    it(`recovers a planted full Tucker tensor (${method}) to ≤ 1e-4`, () => {
      const d = tucker(x, { rank: ranks, method });
      expect(d).toBeInstanceOf(TuckerTensor);
      expect(d.core.shape).toEqual(ranks);
      expect(d.modes).toEqual([0, 1, 2, 3]);
      expect(d.relativeError(x)).toBeLessThan(1e-4);
      for (const f of d.factors) expect(orthErr(f)).toBeLessThan(1e-5);
      expect(d.nParams()).toBe(5 * 4 * 3 * 2 + 20 * 5 + 17 * 4 + 9 * 3 + 5 * 2);
      expect(d.increasesParams).toBe(false);
    });
  }

  it("Tucker-2 on the channel modes of a conv kernel recovers the planted ranks; Tucker-1 too", () => {
    const k = plantedTucker([33, 17, 3, 3], [0, 1], [7, 5], 2);
    const d2 = tucker(k, { rank: [7, 5], modes: [0, 1] });
    expect(d2.core.shape).toEqual([7, 5, 3, 3]);
    expect(d2.factors.map((f) => f.shape)).toEqual([[33, 7], [17, 5]]);
    expect(d2.relativeError(k)).toBeLessThan(1e-4);
    const k1 = plantedTucker([33, 4, 3, 3], [0], [6], 3);
    const d1 = tucker(k1, { rank: 6, modes: [0], method: "hooi" });
    expect(d1.core.shape).toEqual([6, 4, 3, 3]);
    expect(d1.relativeError(k1)).toBeLessThan(1e-4);
  });

  it("with noise, the error is about the noise level and HOOI ≤ HOSVD", () => {
    const clean = plantedTucker([40, 30, 3, 3], [0, 1], [8, 6], 4);
    const noisy = addNoise(clean, 0.05, 5);
    const h = tucker(noisy, { rank: [8, 6], modes: [0, 1] });
    const o = tucker(noisy, { rank: [8, 6], modes: [0, 1], method: "hooi" });
    expect(h.relativeError(noisy)).toBeGreaterThan(0.03);
    expect(h.relativeError(noisy)).toBeLessThan(0.05);
    expect(h.relativeError(clean)).toBeLessThan(0.03);
    expect(o.relativeError(noisy)).toBeLessThanOrEqual(h.relativeError(noisy) + 1e-6);
    // on a random tensor HOOI improves on HOSVD visibly
    const r = randTensor([24, 24, 3, 3], 6);
    const hr = tucker(r, { rank: [6, 6], modes: [0, 1] }).relativeError(r);
    const or = tucker(r, { rank: [6, 6], modes: [0, 1], method: "hooi", tol: 1e-6 });
    expect(or.relativeError(r)).toBeLessThan(hr);
    expect(or.iterations).toBeGreaterThan(1);
    for (let i = 1; i < or.errorHistory.length; i++) expect(or.errorHistory[i]).toBeLessThanOrEqual(or.errorHistory[i - 1] + 1e-5);
  });

  it("HOOI on a mode larger than 256 (warm subspace steps) stays exact on planted data and ≤ HOSVD on noise", () => {
    const k = plantedTucker([300, 20, 3], [0, 1], [10, 5], 21);
    const d = tucker(k, { rank: [10, 5], modes: [0, 1], method: "hooi", tol: 1e-9, maxIter: 5 });
    expect(d.relativeError(k)).toBeLessThan(1e-4);
    const r = randTensor([300, 20, 3], 22);
    const h = tucker(r, { rank: [10, 5], modes: [0, 1] }).relativeError(r);
    const o = tucker(r, { rank: [10, 5], modes: [0, 1], method: "hooi", tol: 1e-6 });
    expect(o.relativeError(r)).toBeLessThan(h);
    for (let i = 1; i < o.errorHistory.length; i++) expect(o.errorHistory[i]).toBeLessThanOrEqual(o.errorHistory[i - 1] + 1e-5);
  });

  it("random init converges on a planted tensor; results are deterministic for a seed", () => {
    const d = tucker(x, { rank: ranks, method: "hooi", init: "random", seed: 3, tol: 1e-9, maxIter: 50 });
    expect(d.relativeError(x)).toBeLessThan(1e-4);
    const a = tucker(x, { rank: ranks, method: "hooi", init: "random", seed: 9, maxIter: 3 });
    const b = tucker(x, { rank: ranks, method: "hooi", init: "random", seed: 9, maxIter: 3 });
    expect(Array.from(a.core.data)).toEqual(Array.from(b.core.data));
  });

  it("budget ranks: 'same' and { fraction } never exceed the budget", () => {
    const k = randTensor([64, 32, 3, 3], 7);
    for (const f of [0.05, 0.1, 0.25, 0.5, 1]) {
      const d = tucker(k, { rank: { fraction: f }, modes: [0, 1] });
      expect(d.nParams()).toBeLessThanOrEqual(Math.floor(f * k.data.length));
      expect(d.nParams()).toBeGreaterThan(0.5 * f * k.data.length);
    }
    expect(tucker(k, { rank: "same", modes: [0, 1] }).nParams()).toBeLessThanOrEqual(k.data.length);
  });

  it("full rank reproduces the tensor and reports no parameter increase only when true", () => {
    const t = randTensor([4, 5, 3], 8);
    const d = tucker(t, { rank: [4, 5, 3] });
    expect(d.relativeError(t)).toBeLessThan(1e-5);
    expect(d.increasesParams).toBe(true); // core as big as t plus factors
  });

  it("rejects bad options with the value and what is allowed", () => {
    const t = randTensor([6, 5, 3, 3], 9);
    expect(() => tucker(t, { rank: 2, method: "svd" as never })).toThrow(/unknown method "svd"; expected one of 'hosvd', 'hooi'/);
    expect(() => tucker(t, { rank: 2, init: "ones" as never })).toThrow(/unknown init "ones"; expected one of 'svd', 'random'/);
    expect(() => tucker(t, { rank: 0 })).toThrow(/rank 0 for mode 0 \(size 6\) is invalid; expected an integer in 1…6/);
    expect(() => tucker(t, { rank: -1 })).toThrow(/rank -1 .*expected an integer in 1…6/);
    expect(() => tucker(t, { rank: 2.5 })).toThrow(/rank 2.5 .*expected an integer/);
    expect(() => tucker(t, { rank: 0.5 })).toThrow(/rank 0.5 .*pass \{ fraction: 0.5 \}/);
    expect(() => tucker(t, { rank: [7, 2], modes: [0, 1] })).toThrow(/rank 7 for mode 0 \(size 6\).*1…6/);
    expect(() => tucker(t, { rank: [2, 2], modes: [0, 4] })).toThrow(/mode 4 is out of range for a tensor of shape \[6,5,3,3\]; expected integers in 0…3/);
    expect(() => tucker(t, { rank: [2, 2], modes: [1, 1] })).toThrow(/mode 1 is repeated/);
    expect(() => tucker(t, { rank: [2], modes: [0, 1] })).toThrow(/rank \[2\] has 1 entries but modes \[0,1\] has 2/);
    expect(() => tucker(t, { rank: { fraction: -1 } })).toThrow(/fraction: -1.*expected a fraction of parameters to keep > 0/);
    expect(() => tucker(t, { rank: 2, method: "hooi", maxIter: 0 })).toThrow(/maxIter must be an integer in 1…∞, got 0/);
    const bad = randTensor([3, 3, 3], 1);
    bad.data[4] = Infinity;
    expect(() => tucker(bad, { rank: 2 })).toThrow(/t has a non-finite value \(Infinity\) at flat index 4/);
  });

  it("does not grow wasm memory over repeated HOOI calls", () => {
    const t = randTensor([16, 16, 3, 3], 10);
    tucker(t, { rank: [4, 4], modes: [0, 1], method: "hooi" });
    const before = wasmMemoryBytes();
    for (let i = 0; i < 5; i++) tucker(t, { rank: [4, 4], modes: [0, 1], method: "hooi" });
    expect(wasmMemoryBytes()).toBe(before);
  });
});
