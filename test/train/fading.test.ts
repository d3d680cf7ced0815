import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Matrix, SingularValueDecomposition } from "ml-matrix";
import { applyFadingProximal, fadingPenalty, fadingProximal, fadingRamp, tailNorms, truncatePairs, type SvdFunction } from "../../src/train/fading.ts";
import { mlp } from "../../src/train/models.ts";
import { ready } from "../../src/core/loader.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

// Reference SVD for tests (the linalg branch's svd will replace it in src).
const svd: SvdFunction = (a) => {
  const [n, m] = a.shape;
  const M = new Matrix(n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) M.set(i, j, a.data[i * m + j]);
  const d = new SingularValueDecomposition(M, { autoTranspose: true });
  const k = Math.min(n, m);
  const u = d.leftSingularVectors.subMatrix(0, n - 1, 0, k - 1), v = d.rightSingularVectors.subMatrix(0, m - 1, 0, k - 1);
  return { u: { data: Float32Array.from(u.to1DArray()), shape: [n, k] }, s: Float32Array.from(d.diagonal.slice(0, k)), v: { data: Float32Array.from(v.to1DArray()), shape: [m, k] } };
};

const pair = { u: "fc1__odc_svd_0", v: "fc1__odc_svd_1" };
const small = (rank = 8, seed = 1) => mlp({ inputSize: 12, hidden: 9, rank, seed });

describe("fadingRamp", () => {
  it("rises linearly to 1 at T and stays there", () => {
    expect(fadingRamp(0, 1000)).toBe(0);
    expect(fadingRamp(250, 1000)).toBe(0.25);
    expect(fadingRamp(1000, 1000)).toBe(1);
    expect(fadingRamp(5000, 1000)).toBe(1);
  });
});

describe("fadingPenalty", () => {
  it("has the right value and a gradient only on the tail columns of U and tail rows of V", () => {
    const model = small();
    const r = 3, lambda = 0.01, T = 100, step = 40;
    const penalty = fadingPenalty(model, { rank: r, pairs: [pair], lambda, rampSteps: T });
    const U = model.getLayer("fc1__odc_svd_0").weights[0].read() as tf.Variable, V = model.getLayer("fc1__odc_svd_1").weights[0].read() as tf.Variable;
    const Ua = U.arraySync() as number[][], Va = V.arraySync() as number[][];
    let expected = 0;
    for (const row of Ua) for (let j = r; j < 8; j++) expected += Math.abs(row[j]);
    for (let i = r; i < 8; i++) for (const x of Va[i]) expected += Math.abs(x);
    expected *= lambda * (step / T);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => penalty(step), [U, V]);
    expect(value.dataSync()[0]).toBeCloseTo(expected, 5);
    const gU = grads[U.name].arraySync() as number[][], gV = grads[V.name].arraySync() as number[][];
    const c = lambda * (step / T);
    gU.forEach((row, i) => row.forEach((g, j) => expect(g).toBe(j < r ? 0 : Math.fround(c * Math.sign(Ua[i][j])))));
    gV.forEach((row, i) => row.forEach((g, j) => expect(g).toBe(i < r ? 0 : Math.fround(c * Math.sign(Va[i][j])))));
    // the other layers get no gradient at all from the penalty
    expect(Object.keys(grads).sort()).toEqual([U.name, V.name].sort());
    value.dispose(); tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
  it("for an unfactorized Dense: value Σ_{i≥r} σ_i, gradient U_t·V_tᵀ orthogonal to the head", () => {
    const model = mlp({ inputSize: 12, hidden: 9, seed: 2 });
    const W = model.getLayer("fc1").weights[0].read() as tf.Variable;
    const r = 4;
    const penalty = fadingPenalty(model, { rank: r, dense: ["fc1"], lambda: 1, rampSteps: 1, svd });
    const d = svd({ data: W.dataSync() as Float32Array, shape: [12, 9] });
    const s = d.s as Float32Array;
    const expected = Array.from(s.slice(r)).reduce((a, b) => a + b, 0);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => penalty(5), [W]);
    expect(value.dataSync()[0]).toBeCloseTo(expected, 4);
    // G = U_t V_tᵀ: G·v_i = 0 for head singular vectors, = u_i for tail ones
    const G = grads[W.name];
    const vCols = tf.tensor2d(d.v.data, [9, 9]);
    const gvT = tf.matMul(G, vCols), gv = gvT.arraySync() as number[][];
    gvT.dispose();
    const u = d.u.data;
    for (let i = 0; i < 12; i++) for (let k = 0; k < 9; k++) expect(gv[i][k]).toBeCloseTo(k < r ? 0 : u[i * 9 + k], 4);
    value.dispose(); tf.dispose(grads); vCols.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
  it("rejects bad options with clear errors", () => {
    const model = small();
    expect(() => fadingPenalty(model, { rank: 3 })).toThrow(/no layers to fade/);
    expect(() => fadingPenalty(model, { rank: 8, pairs: [pair] })).toThrow(/rank 8 ≥ the pair fc1__odc_svd_0→fc1__odc_svd_1's rank 8/);
    expect(() => fadingPenalty(model, { rank: 2, pairs: [{ u: "nope", v: "fc1__odc_svd_1" }] })).toThrow(/no layer 'nope' in model/);
    expect(() => fadingPenalty(model, { rank: 2, pairs: [{ u: "fc1__odc_svd_1", v: "fc1__odc_svd_0" }] })).toThrow(/expected V's rows = U's columns/);
    expect(() => fadingPenalty(model, { rank: 9, dense: ["fc2"] })).toThrow(/rank 9 ≥ min dims of 'fc2' \[9,10\]/);
    expect(() => fadingPenalty(model, { rank: 2, pairs: [pair], lambda: -1 })).toThrow(/lambda = -1/);
    model.dispose();
  });
});

describe("proximal fading (model.fit callback form)", () => {
  it("shrinks only the tail, by learningRate·λ·f(t), and zeroes it for a large step", () => {
    const model = small();
    const before = tailNorms(model, { rank: 3, pairs: [pair] })[0];
    const n0 = tf.memory().numTensors;
    applyFadingProximal(model, { rank: 3, pairs: [pair], lambda: 1e-3, rampSteps: 10, learningRate: 1 }, 5);
    expect(tf.memory().numTensors).toBe(n0);
    const mid = tailNorms(model, { rank: 3, pairs: [pair] })[0];
    expect(mid.head).toBeCloseTo(before.head, 5);
    expect(mid.tail).toBeLessThan(before.tail);
    applyFadingProximal(model, { rank: 3, pairs: [pair], lambda: 10, rampSteps: 10, learningRate: 1 }, 10);
    const after = tailNorms(model, { rank: 3, pairs: [pair] })[0];
    expect(after.tail).toBe(0);
    expect(after.head).toBeCloseTo(before.head, 5);
    model.dispose();
  });
  it.each([["ml-matrix", svd], ["odecomp wasm (default)", undefined]] as const)("soft-thresholds the tail singular values of an unfactorized layer (svd: %s)", (_name, svdFn) => {
    const model = mlp({ inputSize: 12, hidden: 9, seed: 3 });
    const W = model.getLayer("fc1").weights[0];
    const s0 = svd({ data: W.read().dataSync() as Float32Array, shape: [12, 9] }).s as Float32Array;
    const tau = 0.05;
    applyFadingProximal(model, { rank: 4, dense: ["fc1"], svd: svdFn, lambda: tau, rampSteps: 1, learningRate: 1 }, 1);
    const s1 = svd({ data: W.read().dataSync() as Float32Array, shape: [12, 9] }).s as Float32Array;
    const want = Array.from(s0).map((s, i) => (i < 4 ? s : Math.max(s - tau, 0))).sort((a, b) => b - a);
    Array.from(s1).forEach((s, i) => expect(s).toBeCloseTo(want[i], 4));
    model.dispose();
  });
  it("runs as a model.fit callback without leaking", async () => {
    const model = small();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([16, 12], 0, 1, "float32", 1), y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], "int32"), 10);
    const before = tailNorms(model, { rank: 2, pairs: [pair] })[0];
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, callbacks: [fadingProximal(model, { rank: 2, pairs: [pair], lambda: 1, rampSteps: 1, learningRate: 0.1 })] });
    const n0 = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, callbacks: [fadingProximal(model, { rank: 2, pairs: [pair], lambda: 1, rampSteps: 1, learningRate: 0.1 })] });
    expect(tf.memory().numTensors).toBe(n0);
    expect(tailNorms(model, { rank: 2, pairs: [pair] })[0].tail).toBeLessThan(before.tail * 0.9);
    x.dispose(); y.dispose(); model.dispose();
  });
});

describe("truncatePairs", () => {
  it("cuts the pair to rank r keeping the first r columns / rows and the function of the rest", async () => {
    const model = small(8);
    const n0 = tf.memory().numTensors;
    const cut = await truncatePairs(model, [pair], 3);
    expect(cut.getLayer("fc1__odc_svd_0").weights[0].shape).toEqual([12, 3]);
    expect(cut.getLayer("fc1__odc_svd_1").weights[0].shape).toEqual([3, 9]);
    expect(cut.getLayer("fc1__odc_svd_1").weights[1].shape).toEqual([9]);
    expect(cut.getLayer("fc2").weights[0].shape).toEqual([9, 10]);
    const U = model.getLayer("fc1__odc_svd_0").weights[0].read().arraySync() as number[][];
    const Uc = cut.getLayer("fc1__odc_svd_0").weights[0].read().arraySync() as number[][];
    expect(Uc).toEqual(U.map((row) => row.slice(0, 3)));
    const V = model.getLayer("fc1__odc_svd_1").weights[0].read().arraySync() as number[][];
    expect(cut.getLayer("fc1__odc_svd_1").weights[0].read().arraySync()).toEqual(V.slice(0, 3));
    expect(cut.getLayer("fc2").weights[0].read().arraySync()).toEqual(model.getLayer("fc2").weights[0].read().arraySync());
    // when the tail is zero, the truncated model computes the same function
    applyFadingProximal(model, { rank: 3, pairs: [pair], lambda: 100, rampSteps: 1, learningRate: 1 }, 1);
    const cut2 = await truncatePairs(model, [pair], 3);
    const x = tf.randomNormal([5, 12], 0, 1, "float32", 4);
    const a = model.predict(x) as tf.Tensor, b = cut2.predict(x) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(1e-6);
    tf.dispose([x, a, b]);
    cut.dispose(); cut2.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    await expect(truncatePairs(model, [pair], 0)).rejects.toThrow(/rank = 0; expected ≥ 1/);
    model.dispose();
  });
});
