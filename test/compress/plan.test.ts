// The planner on its own (tfjs-free): layers as kernels plus input shapes.
// What EVBMF's rank 0 does, the rank vocabulary shared with the
// decompositions' selectRank, and that the plan is a value (planning twice
// gives the same plan; compressing does not alter the plan it was given).
import { beforeAll, describe, expect, it } from "vitest";
import { ready, type Tensor } from "../../src/index.ts";
import { makePlan, rankRuleOf, type Candidate, type RankSelection } from "../../src/compress/plan.ts";
import { evbmfRank } from "../../src/compress/ranks.ts";
import { selectRank } from "../../src/decompose/rank.ts";
import { gramSingularValues as singularValues } from "../../src/layers/decompositions.ts";
import { REGISTRY } from "../../src/layers/methods/index.ts";
import { randn } from "../helpers/random.ts";

beforeAll(async () => { await ready(); });

const t = (shape: number[], seed: number, scale = 1): Tensor => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed).map((x) => x * scale), shape });

/** An n×m matrix of rank r (product of two Gaussian factors) plus noise of the given scale. */
function planted(n: number, m: number, r: number, noise: number, seed: number): Tensor {
  const a = t([n, r], seed), b = t([r, m], seed + 1), e = t([n, m], seed + 2, noise);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += a.data[i * r + k] * b.data[k * m + j];
    out[i * m + j] = s + e.data[i * m + j];
  }
  return { data: out, shape: [n, m] };
}

const dense = (name: string, kernel: Tensor): Candidate => ({
  layer: { className: "Dense", name, config: { units: kernel.shape[1] }, kernel, bias: null }, inShape: [kernel.shape[0]], calls: 1,
});

describe("rank vocabulary", () => {
  it("maps each rule to the decompositions' RankRule", () => {
    expect(rankRuleOf({ kind: "evbmf" })).toEqual({ rule: "evbmf", weaken: 1, fallback: "skip" });
    expect(rankRuleOf({ kind: "evbmf", weaken: 0.5 })).toEqual({ rule: "evbmf", weaken: 0.5, fallback: "skip" });
    expect(rankRuleOf({ kind: "energy", threshold: 0.9 })).toEqual({ rule: "energy", energy: 0.9 });
    expect(rankRuleOf({ kind: "full" })).toEqual({ rule: "fraction", fraction: 1 });
    expect(rankRuleOf({ kind: "budget", keep: 0.5 })).toBeNull();
  });

  it("EVBMF and energy ranks agree with selectRank on planted-rank matrices", () => {
    for (const [n, m, r, seed] of [[40, 30, 4, 1], [17, 64, 3, 5], [64, 5, 2, 9]]) {
      const K = planted(n, m, r, 0.3, seed); // noise well above the f32 Gram spectra's accuracy (~1e-3·σ_max)
      for (const sel of [{ kind: "evbmf" }, { kind: "energy", threshold: 0.95 }] as RankSelection[]) {
        const plan = makePlan([dense("d", K)], [], n * m, { select: sel });
        const ref = selectRank(K, { decomposition: "svd", rule: rankRuleOf(sel)! });
        expect(plan.entries[0].action, `${n}×${m} ${sel.kind}`).toBe("factorize");
        expect(plan.entries[0].ranks, `${n}×${m} ${sel.kind}`).toEqual(ref.ranks);
      }
      expect(makePlan([dense("d", K)], [], n * m, { select: { kind: "evbmf" } }).entries[0].ranks).toEqual([r]);
    }
  });

  it("EVBMF rank 0 keeps the layer, with a note, where selectRank's 'skip' reports rank 0", () => {
    const K = t([24, 20], 3, 1e-2); // pure noise: EVBMF finds no signal
    expect(evbmfRank(singularValues(K), [24, 20])).toBe(0);
    expect(selectRank(K, { decomposition: "svd", rule: rankRuleOf({ kind: "evbmf" })! }).ranks).toEqual([0]);
    const plan = makePlan([dense("noise", K)], [], K.data.length, { select: { kind: "evbmf" } });
    expect(plan.entries[0]).toMatchObject({ layer: "noise", action: "keep", ranks: [], note: "evbmf rank [0] ≤ 0: left alone", paramsAfter: 480 });
    expect(plan.totals.paramsAfter).toBe(plan.totals.paramsBefore);
  });
});

describe("plans", () => {
  it("are values: planning twice gives equal plans, built from the method registry", () => {
    const cands = [dense("a", planted(30, 20, 3, 1e-3, 2)), dense("b", planted(20, 10, 2, 1e-3, 7))];
    const p1 = makePlan(cands, [], 800, { select: { kind: "budget", keep: 0.5 } });
    const p2 = makePlan(cands, [], 800, { select: { kind: "budget", keep: 0.5 } });
    expect(p1).toEqual(p2);
    expect(p1.entries.every((e) => e.method === null || e.method in REGISTRY)).toBe(true);
    expect(p1.totals.paramsAfter).toBeLessThanOrEqual(400);
  });

  it("reports the spec's dry-run error estimate: exact for SVD", () => {
    const K = planted(30, 20, 3, 1e-2, 4);
    const e = makePlan([dense("d", K)], [], 600, { ranks: { d: 2 } }).entries[0];
    expect(e.relErrorKind).toBe("exact");
    const s = singularValues(K);
    const tail = Math.sqrt(Array.from(s).slice(2).reduce((a, x) => a + x * x, 0) / Array.from(s).reduce((a, x) => a + x * x, 0));
    expect(e.relError).toBeCloseTo(tail, 6);
  });
});
