// The planner on its own (tfjs-free): layers as kernels plus input shapes.
// What EVBMF's rank 0 does, the rank vocabulary shared with the
// decompositions' selectRank, and that the plan is a value (planning twice
// gives the same plan; compressing does not alter the plan it was given).
import { beforeAll, describe, expect, it } from "vitest";
import { ready, type Tensor } from "../../src/index.ts";
import { formatPlan, makePlan, rankRuleOf, type Candidate, type RankSelection } from "../../src/compress/plan.ts";
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
    expect(plan.entries[0]).toMatchObject({ layer: "noise", action: "keep", ranks: [], note: "EVBMF found no signal above noise in the kernel, layer kept", paramsAfter: 480 });
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

describe("rankMultiple: budget ranks rounded for SIMD lanes", () => {
  // Three Dense layers with flat spectra (every rank costs and saves alike) and one narrow enough that its
  // largest rank is below the multiple.
  const cands = () => [dense("a", t([96, 80], 11)), dense("b", t([80, 72], 12)), dense("c", t([72, 6], 13))];
  const total = 96 * 80 + 80 * 72 + 72 * 6;

  it("rounds every budget rank to a multiple (nearest, at least the multiple), keeps the budget, and records it", () => {
    let rounded = 0;
    for (const q of [4, 8, 16]) {
      for (const keep of [0.2, 0.35, 0.5]) {
        const exact = makePlan(cands(), [], total, { select: { kind: "budget", keep } });
        const p = makePlan(cands(), [], total, { select: { kind: "budget", keep }, rankMultiple: q });
        // rank q in every layer must fit the budget, else the planner takes exact ranks (next test)
        const fits = q * (96 + 80) + q * (80 + 72) + (72 + 6) <= keep * total; // c at rank 1
        expect(p.rankMultiple, `q ${q} keep ${keep}`).toBe(fits ? q : 1);
        expect(exact.rankMultiple).toBe(1);
        if (!fits) continue;
        expect(p.totals.paramsAfter, `q ${q} keep ${keep}`).toBeLessThanOrEqual(keep * total);
        for (const e of p.entries.filter((x) => x.action === "factorize")) {
          for (const [i, r] of e.ranks.entries()) {
            if (e.maxRanks[i] <= q) continue;
            expect(r % q === 0 || r === e.maxRanks[i], `${e.layer} rank ${r}, q ${q}`).toBe(true);
            expect(r).toBeGreaterThanOrEqual(q);
          }
        }
        // The rounded plan is one of the same family: it spends no more than the exact one can and not far less.
        expect(p.totals.paramsAfter).toBeGreaterThan(0.5 * exact.totals.paramsAfter);
        rounded++;
      }
    }
    expect(rounded).toBeGreaterThanOrEqual(6);
    // c (72×6) has largest rank 6 < 8: it keeps an exact rank (or stays dense), never rounded up past its size.
    const c = makePlan(cands(), [], total, { select: { kind: "budget", keep: 0.5 }, rankMultiple: 8 }).entries[2];
    expect(c.ranks.every((r) => r <= 6)).toBe(true);
  });

  it("falls back to exact ranks when the rounded ranks cannot meet the budget, instead of failing", () => {
    // keep 0.05 of 96×80 + 80×72: rank 16 (the smallest multiple) costs 16·(96+80) + 16·(80+72) > 0.05 · total.
    const tight = makePlan(cands().slice(0, 2), [], 96 * 80 + 80 * 72, { select: { kind: "budget", keep: 0.05 }, rankMultiple: 16 });
    expect(tight.rankMultiple).toBe(1);
    expect(tight.totals.paramsAfter).toBeLessThanOrEqual(0.05 * (96 * 80 + 80 * 72));
    expect(tight.entries.some((e) => e.action === "factorize" && e.ranks[0] % 16 !== 0)).toBe(true);
  });

  it("applies to budgets only, says so in the plan text, and rejects a bad multiple by name", () => {
    const energy = makePlan(cands(), [], total, { select: { kind: "energy", threshold: 0.9 }, rankMultiple: 8 });
    expect(energy.rankMultiple).toBeUndefined();
    expect(energy.entries.map((e) => e.ranks)).toEqual(makePlan(cands(), [], total, { select: { kind: "energy", threshold: 0.9 } }).entries.map((e) => e.ranks));
    expect(formatPlan(makePlan(cands(), [], total, { select: { kind: "budget", keep: 0.4 }, rankMultiple: 8 }))).toContain("budget ranks rounded to multiples of 8");
    expect(formatPlan(makePlan(cands(), [], total, { select: { kind: "budget", keep: 0.4 } }))).not.toContain("rounded");
    for (const bad of [0, -8, 2.5, NaN, 4096]) {
      expect(() => makePlan(cands(), [], total, { select: { kind: "budget", keep: 0.4 }, rankMultiple: bad }), String(bad)).toThrow(/rankMultiple is .*expected an integer from 1 to 1024/);
    }
  });
});

describe("formatPlan for people", () => {
  it("summarises layers of other kinds in one line per kind with a count, and keeps their entries in the plan", () => {
    const K = t([24, 20], 3, 1);
    const others = Array.from({ length: 5 }, (_, i) => ({ name: `bn${i}`, kind: "BatchNormalization", params: 40, flops: 100, reason: "BatchNormalization is not a kind odecomp factorizes: kept as it is" }))
      .concat([{ name: "dw", kind: "DepthwiseConv2D", params: 30, flops: 900, reason: "DepthwiseConv2D is not a kind odecomp factorizes: kept as it is" }]);
    const plan = makePlan([dense("d", K)], others, K.data.length + 230, { select: { kind: "energy", threshold: 0.9 } });
    expect(plan.entries.length).toBe(7);
    const text = formatPlan(plan);
    expect(text).toContain("- BatchNormalization × 5: 200 params, 500 FLOPs per sample");
    expect(text).toContain("- DepthwiseConv2D × 1: 30 params, 900 FLOPs per sample");
    expect(text).not.toMatch(/bn\d/); // neither a table row nor a note per BN layer
    expect(text).toContain("| d ");
  });
});
