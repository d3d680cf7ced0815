// Conv2D layers trained on the fused conv + bias + activation op (src/train/fused-conv.ts) through
// trainEpoch: the main job's CNN and its Tucker-2 decomposition give the same loss gradients as with
// tfjs-layers' stock call; a few epochs train to the same weights as stock (within the drift of a
// one-ulp input change), keep the model.json topology and reload in stock tfjs; numTensors stay
// stable; a gradient with respect to the model's input still comes out right; every case the op does
// not cover (dilation, other activations, the cpu backend, inference) runs the stock call.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { modelToArtifacts } from "../../src/models/convert.ts";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { vggCnn } from "../../src/train/models.ts";
import { trainEpoch } from "../../src/train/loop.ts";
import { fuseConvActivation, fusedConvCounts, isConvFused } from "../../src/train/fused-conv.ts";
import { compress } from "../../src/models/index.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

/** The model as tfjs saves it (its own save path, in memory). */
const artifacts = async (model: tfl.LayersModel) => await modelToArtifacts(model) as tf.io.ModelArtifacts;

const convs = (m: tfl.LayersModel) => m.layers.filter((l) => l.getClassName() === "Conv2D");

function lossGrads(m: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor, fused: boolean): Float32Array[] {
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const restore = fused ? fuseConvActivation(m) : () => {};
  try {
    const { value, grads } = tf.variableGrads(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    const out = vars.map((v) => grads[v.name].dataSync().slice() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    restore();
  }
}

const rel = (a: Float32Array, b: Float32Array) => { let n = 0, d = 0; for (let j = 0; j < b.length; j++) { n += b[j] ** 2; d += (a[j] - b[j]) ** 2; } return Math.sqrt(d / Math.max(n, 1e-30)); };

describe("fused conv + bias + activation in training", () => {
  it("the main CNN's and its decomposition's loss gradients equal those of the stock call, one fused call per conv", async () => {
    await tf.setBackend("wasm");
    const base = vggCnn({ seed: 2 });
    const dec = (await compress(vggCnn({ seed: 2 }), { select: { kind: "budget", keep: 0.4, metric: "flops" }, rankMultiple: 8 })).model;
    const x = tf.tidy(() => tf.randomUniform([5, 28, 28, 1], 0, 1, "float32", 3));
    const y = tf.tidy(() => tf.oneHot(tf.randomUniform([5], 0, 10, "int32", 4) as tf.Tensor1D, 10));
    for (const m of [base, dec]) {
      const c0 = { ...fusedConvCounts };
      const before = tf.memory().numTensors;
      const [gf, gs] = [lossGrads(m, x, y, true), lossGrads(m, x, y, false)];
      expect(tf.memory().numTensors).toBe(before);
      expect(fusedConvCounts.fused - c0.fused).toBe(convs(m).length);
      expect(fusedConvCounts.stock - c0.stock).toBe(0);
      // the same conv kernels on the same dz; only the bias add (in the conv's epilogue vs an Add kernel) may round differently
      for (let i = 0; i < gf.length; i++) expect(rel(gf[i], gs[i]), `${m.name} weight ${i}`).toBeLessThanOrEqual(1e-5);
      for (const l of convs(m)) expect(isConvFused(l)).toBe(false);
    }
    expect(convs(dec).length).toBeGreaterThan(convs(base).length);
    tf.dispose([x, y]); base.dispose(); dec.dispose();
  });

  it("a gradient with respect to the model's input (the first conv was told nobody needs it) equals the stock one", async () => {
    await tf.setBackend("wasm");
    const m = vggCnn({ seed: 6 });
    const x = tf.tidy(() => tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 7));
    const dxOf = (fused: boolean) => {
      const restore = fused ? fuseConvActivation(m) : () => {};
      try {
        const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx, { training: true }) as tf.Tensor, tf.reshape(tf.range(0, 10), [1, 10]))))(x);
        const out = g.dataSync().slice() as Float32Array;
        g.dispose();
        return out;
      } finally { restore(); }
    };
    const [a, b] = [dxOf(true), dxOf(false)];
    expect(Math.hypot(...b)).toBeGreaterThan(0);
    expect(rel(a, b)).toBeLessThanOrEqual(1e-5);
    x.dispose(); m.dispose();
  });

  it("trainEpoch trains with it by default: the same weights as stock within a one-ulp control, the same topology, reloads and predicts the same, no leak", async () => {
    await tf.setBackend("wasm");
    const data = toyImages(3).train;
    const models = [vggCnn({ seed: 5 }), vggCnn({ seed: 5 }), vggCnn({ seed: 5 })];
    const untrained = JSON.stringify((await artifacts(models[0])).modelTopology);
    const c0 = { ...fusedConvCounts };
    let steps = 0;
    const tensors: number[] = [];
    for (const [i, m] of models.entries()) {
      const optimizer = tf.train.sgd(0.01);
      let step = 0;
      for (let epoch = 0; epoch < 3; epoch++) {
        const r = await trainEpoch(m, data, { optimizer, batchSize: 8, seed: 3, epoch, layout: "image", step, fusedConv: i === 0,
          preprocess: i === 2 ? { kind: "meanStd", mean: [0], std: [1 + 2 ** -23] } : undefined });
        step = r.step;
        if (i === 0) { steps += r.steps; tensors.push(tf.memory().numTensors); }
      }
      optimizer.dispose();
    }
    expect(fusedConvCounts.fused - c0.fused).toBe(4 * steps); // 4 convs per step, model 0 only
    expect(tensors[2]).toBe(tensors[1]);
    for (const l of convs(models[0])) expect(Object.prototype.hasOwnProperty.call(l, "call")).toBe(false);
    const [wf, ws, wp] = models.map((m) => m.weights.map((w) => w.read().dataSync() as Float32Array));
    const dist = (a: Float32Array, b: Float32Array) => { let d = 0; for (let j = 0; j < a.length; j++) d += (a[j] - b[j]) ** 2; return Math.sqrt(d); };
    for (let i = 0; i < wf.length; i++) {
      const size = Math.sqrt(ws[i].reduce((a, v) => a + v * v, 0));
      expect(dist(wf[i], ws[i]), `weight ${i}`).toBeLessThanOrEqual(3 * dist(wp[i], ws[i]) + 1e-5 * size);
    }
    const a = await artifacts(models[0]);
    expect(JSON.stringify(a.modelTopology)).toBe(untrained);
    const x = tf.tidy(() => tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 9));
    const want = (models[0].predict(x) as tf.Tensor).dataSync().slice();
    await tf.setBackend("cpu");
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(a));
    const xc = tf.tensor(await x.data(), x.shape);
    const got = (loaded.predict(xc) as tf.Tensor).dataSync();
    for (let j = 0; j < want.length; j++) expect(Math.abs(got[j] - want[j])).toBeLessThanOrEqual(1e-5);
    await tf.setBackend("wasm");
    for (const m of models) m.dispose();
  });

  it("runs the stock call where the op does not apply: dilation, tanh, the cpu backend, inference", async () => {
    await tf.setBackend("wasm");
    const m = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 3, kernelSize: 3, dilationRate: 2, activation: "relu" }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 1, activation: "tanh" }),
      tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same", activation: "relu" }),
    ] });
    const x = tf.randomNormal([2, 8, 8, 2]);
    const restore = fuseConvActivation(m);
    try {
      let c0 = { ...fusedConvCounts };
      tf.dispose(m.apply(x, { training: true }) as tf.Tensor);
      expect([fusedConvCounts.fused - c0.fused, fusedConvCounts.stock - c0.stock]).toEqual([1, 2]);
      c0 = { ...fusedConvCounts };
      tf.dispose(m.apply(x) as tf.Tensor); // inference
      expect([fusedConvCounts.fused - c0.fused, fusedConvCounts.stock - c0.stock]).toEqual([0, 0]);
      await tf.setBackend("cpu");
      const xc = tf.randomNormal([2, 8, 8, 2]);
      c0 = { ...fusedConvCounts };
      tf.dispose(m.apply(xc, { training: true }) as tf.Tensor);
      expect([fusedConvCounts.fused - c0.fused, fusedConvCounts.stock - c0.stock]).toEqual([0, 3]);
      xc.dispose();
    } finally {
      restore();
      await tf.setBackend("wasm");
    }
    x.dispose(); m.dispose();
  });
});
