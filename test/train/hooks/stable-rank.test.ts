import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../../src/core/loader.ts";
import { svd } from "../../../src/linalg/svd.ts";
import { mlp, vggCnn } from "../../../src/train/models.ts";
import { baseline, train } from "../../../src/train/index.ts";
import { stableRank, stableRankGram, stableRankHook, kernelMatrixShape, StableRankTracker } from "../../../src/train/hooks/stable-rank.ts";
import { toyImages } from "../../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

function rng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 4294967296; };
}
function gaussian(n: number, r: () => number) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}
/** rows × cols of rank `k` with singular values decaying (planted). */
function planted(rows: number, cols: number, k: number, seed: number) {
  const r = rng(seed), a = gaussian(rows * k, r), b = gaussian(k * cols, r);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let t = 0; t < k; t++) { const w = a[i * k + t] / (t + 1); for (let j = 0; j < cols; j++) out[i * cols + j] += w * b[t * cols + j]; }
  return out;
}
/** Reference: Σσ²/σ_max² from odecomp's full SVD. */
function reference(data: Float32Array, rows: number, cols: number) {
  const s = svd({ data, shape: [rows, cols] }, { method: "full" }).s;
  let f = 0;
  for (const x of s) f += x * x;
  return s[0] > 0 ? f / (s[0] * s[0]) : 0;
}

/** Both measurements: an ill-conditioned diagonal, the zero matrix, and bad input named. */
function illZeroAndBadInput(measure: (a: Float32Array, rows: number, cols: number) => { stableRank: number }): void {
  const ill = new Float32Array(20 * 20);
  for (let i = 0; i < 20; i++) ill[i * 21] = 10 ** (-i / 2);
  expect(measure(ill, 20, 20).stableRank).toBeCloseTo(reference(ill, 20, 20), 4);
  expect(measure(new Float32Array(12), 3, 4).stableRank).toBe(0);
  expect(() => measure(new Float32Array(5), 2, 3)).toThrow(/2 × 3/);
  expect(() => measure(Float32Array.of(1, NaN), 1, 2)).toThrow(/non-finite/);
}

describe("stableRank (power iteration)", () => {
  const sizes: [number, number][] = [[1, 1], [1, 17], [17, 1], [3, 4], [5, 3], [17, 64], [64, 17], [64, 64], [129, 33], [40, 129]];
  it.each(sizes)("random %i × %i: within 1 percent of the SVD's", (m, n) => {
    const a = gaussian(m * n, rng(m * 131 + n));
    const ref = reference(a, m, n);
    const got = stableRank(a, m, n).stableRank;
    expect(Math.abs(got - ref) / ref).toBeLessThan(0.01);
  });
  it.each([[64, 48, 1], [64, 48, 3], [129, 40, 5], [33, 200, 8]])("planted rank %i × %i rank %i: within 1 percent", (m, n, k) => {
    const a = planted(m, n, k, 7 * k + m);
    const ref = reference(a, m, n);
    const got = stableRank(a, m, n).stableRank;
    expect(Math.abs(got - ref) / ref).toBeLessThan(0.01);
    expect(got).toBeLessThanOrEqual(k + 1e-3); // stable rank ≤ rank
  });
  it("ill-conditioned, tiny (1e-40), huge (1e30) and zero matrices", () => {
    const base = planted(50, 30, 4, 3);
    const ref = reference(base, 50, 30);
    for (const scale of [1e-40, 1e30]) {
      const a = Float32Array.from(base, (x) => x * scale);
      if (!a.every(Number.isFinite)) continue;
      expect(Math.abs(stableRank(a, 50, 30).stableRank - ref) / ref).toBeLessThan(0.01);
    }
    illZeroAndBadInput(stableRank);
  });
  it("a warm start converges in fewer iterations", () => {
    const a = gaussian(60 * 40, rng(5));
    const cold = stableRank(a, 60, 40, { iterations: 200 });
    const warm = stableRank(a, 60, 40, { iterations: 200, start: cold.vector });
    expect(warm.iterations).toBeLessThan(cold.iterations);
    expect(warm.stableRank).toBeCloseTo(cold.stableRank, 4);
  });
  it("Conv2D kernels are measured as the (kh·kw·cin) × cout unfolding", () => {
    expect(kernelMatrixShape([3, 3, 8, 16])).toEqual([72, 16]);
    expect(kernelMatrixShape([10, 5])).toEqual([10, 5]);
    expect(kernelMatrixShape([3])).toBeNull();
  });
});

describe("stableRankGram (power iteration on the float32 Gram matrix)", () => {
  const sizes: [number, number][] = [[1, 1], [1, 17], [17, 1], [3, 4], [5, 3], [17, 64], [64, 17], [64, 64], [129, 33], [40, 129], [300, 129]];
  it.each(sizes)("random %i × %i: within 1 percent of the SVD's and within 1e-4 of the plain iteration", (m, n) => {
    const a = gaussian(m * n, rng(m * 131 + n));
    const ref = reference(a, m, n);
    const got = stableRankGram(a, m, n, { iterations: 500 });
    expect(Math.abs(got.stableRank - ref) / ref).toBeLessThan(0.01);
    const plain = stableRank(a, m, n, { iterations: 500 });
    expect(Math.abs(got.stableRank - plain.stableRank) / plain.stableRank).toBeLessThan(1e-4);
    expect(Math.abs(got.sigmaMax - plain.sigmaMax) / plain.sigmaMax).toBeLessThan(1e-4);
    expect(got.vector.length).toBe(Math.min(m, n));
  });
  it.each([[64, 48, 1], [64, 48, 3], [129, 40, 5], [33, 200, 8]])("planted rank %i × %i rank %i: within 1 percent, ≤ rank", (m, n, k) => {
    const a = planted(m, n, k, 7 * k + m);
    const ref = reference(a, m, n);
    const got = stableRankGram(a, m, n).stableRank;
    expect(Math.abs(got - ref) / ref).toBeLessThan(0.01);
    expect(got).toBeLessThanOrEqual(k + 1e-3);
  });
  it("ill-conditioned, tiny (1e-40), huge (1e30) and zero matrices; bad input named", () => {
    const base = planted(50, 30, 4, 3);
    const ref = reference(base, 50, 30);
    for (const scale of [1e-40, 1e30]) {
      const a = Float32Array.from(base, (x) => x * scale);
      if (!a.every(Number.isFinite)) continue;
      const r = stableRankGram(a, 50, 30);
      expect(Math.abs(r.stableRank - ref) / ref).toBeLessThan(0.01);
      expect(r.sigmaMax / scale).toBeCloseTo(stableRank(base, 50, 30).sigmaMax, 3);
    }
    illZeroAndBadInput(stableRankGram);
  });
  it("a warm start converges in fewer iterations", () => {
    const a = gaussian(200 * 64, rng(9));
    const cold = stableRankGram(a, 200, 64, { iterations: 300 });
    const warm = stableRankGram(a, 200, 64, { iterations: 300, start: cold.vector });
    expect(warm.iterations).toBeLessThan(cold.iterations);
    expect(warm.stableRank).toBeCloseTo(cold.stableRank, 4);
  });
  it("the tracker takes the Gram path for large kernels once the kernels are loaded (same figure as a direct call)", () => {
    const cnn = vggCnn({ seed: 3 });
    const big = cnn.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => ({ l, k: l.getWeights()[0] }))
      .find(({ k }) => { const [r, c] = kernelMatrixShape(k.shape)!; return r * c >= 4096 && Math.min(r, c) >= 8; })!;
    const [rows, cols] = kernelMatrixShape(big.k.shape)!;
    const got = new StableRankTracker().measure(cnn)[big.l.name];
    expect(got).toBe(stableRankGram(big.k.dataSync() as Float32Array, rows, cols).stableRank);
    cnn.dispose();
  });
});

describe("stableRankHook", () => {
  it("records every Dense/Conv2D layer at each epoch's end (and every N steps), matching a direct measurement, without leaking", async () => {
    const data = toyImages(14);
    const model = mlp({ hidden: 8, seed: 1 });
    const hook = stableRankHook({ everySteps: 2, stepsPerEpoch: 3 });
    const before = tf.memory().numTensors;
    const r = await train(model, data, baseline({ epochs: 2 }), { batchSize: 40, seed: 1, hooks: [hook] });
    expect(tf.memory().numTensors).toBe(before);
    // steps 2, 3 (epoch end), 4, 6 (epoch end and step multiple: one point)
    expect(hook.tracker.points.map((p) => p.step)).toEqual([2, 3, 4, 6]);
    const last = hook.tracker.points.at(-1)!;
    expect(Object.keys(last.ranks)).toEqual(model.layers.filter((l) => l.getClassName() === "Dense").map((l) => l.name));
    for (const [name, v] of Object.entries(last.ranks)) {
      const w = r.model.getLayer(name).getWeights()[0];
      const [m, n] = w.shape;
      expect(Math.abs(v - reference(w.dataSync() as Float32Array, m, n)) / v).toBeLessThan(0.01);
    }
    const cnn = vggCnn({ seed: 2 });
    const conv = cnn.layers.find((l) => l.getClassName() === "Conv2D")!;
    const k = conv.getWeights()[0];
    const got = stableRankHook().tracker.measure(cnn)[conv.name];
    const [rows, cols] = kernelMatrixShape(k.shape)!;
    expect(Math.abs(got - reference(k.dataSync() as Float32Array, rows, cols)) / got).toBeLessThan(0.01);
    cnn.dispose();
  });
});
