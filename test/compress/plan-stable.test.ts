// The planner's scaled stable rank rule (Cuttlefish): ceil(scale · Σσ²/σ_max²) per unfolding.
import { beforeAll, describe, expect, it } from "vitest";
import { ready, type Tensor } from "../../src/index.ts";
import { makePlan, rankRuleOf, scaledStableRank, type Candidate } from "../../src/compress/plan.ts";
import { gramSingularValues as singularValues } from "../../src/layers/decompositions.ts";
import { randn } from "../helpers/random.ts";

beforeAll(async () => { await ready(); });

const t = (shape: number[], seed: number, scale = 1): Tensor => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed).map((x) => x * scale), shape });
const dense = (name: string, kernel: Tensor): Candidate => ({
  layer: { className: "Dense", name, config: { units: kernel.shape[1] }, kernel, bias: null }, inShape: [kernel.shape[0]], calls: 1,
});

describe("scaled stable rank", () => {
  it("is ceil(scale · Σσ²/σ₁²), 0 for a zero spectrum", () => {
    expect(scaledStableRank([2, 1, 1])).toBe(2); // (4+1+1)/4 = 1.5
    expect(scaledStableRank([2, 1, 1], 2)).toBe(3);
    expect(scaledStableRank([1, 1, 1, 1])).toBe(4);
    expect(scaledStableRank([3])).toBe(1);
    expect(scaledStableRank([0, 0])).toBe(0);
    expect(scaledStableRank([1e-30, 1e-30])).toBe(2);
  });
  it("the planner picks it per layer from the kernel's spectrum, honours the scale, and caps at the largest rank", () => {
    const k = t([96, 64], 3);
    const s = singularValues(k);
    const sr = Array.from(s).reduce((a, x) => a + x * x, 0) / (s[0] * s[0]);
    const plan = makePlan([dense("fc", k)], [], 96 * 64, { select: { kind: "stable" } });
    expect(plan.entries[0].ranks).toEqual([Math.ceil(sr)]);
    const half = makePlan([dense("fc", k)], [], 96 * 64, { select: { kind: "stable", scale: 0.5 } });
    expect(half.entries[0].ranks).toEqual([Math.ceil(0.5 * sr)]);
    const big = makePlan([dense("fc", k)], [], 96 * 64, { select: { kind: "stable", scale: 1000 } });
    expect(big.entries[0].action).toBe("keep"); // rank 64 saves nothing
    expect(rankRuleOf({ kind: "stable" })).toBeNull();
    expect(() => makePlan([dense("fc", k)], [], 96 * 64, { select: { kind: "stable", scale: 0 } })).toThrow(/stable rank scale is 0/);
  });
  it("a zero kernel is left alone with a note", () => {
    const z: Tensor = { data: new Float32Array(32 * 16), shape: [32, 16] };
    const plan = makePlan([dense("z", z)], [], 512, { select: { kind: "stable" } });
    expect(plan.entries[0].action).toBe("keep");
    expect(plan.entries[0].note).toMatch(/the stable rule kept no component in the kernel, layer kept/);
  });
});
