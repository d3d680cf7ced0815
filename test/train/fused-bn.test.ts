// BatchNormalization layers trained on the fused wasm op (src/train/fused-bn.ts) through trainEpoch:
// a ResNet-20 trained a few steps matches one trained with tfjs-layers' stock BN (same seed), saves
// the same model.json topology, loads in stock tfjs and predicts the same; numTensors stay stable;
// every unsupported case (channels not last, no center/scale, the cpu backend, odecomp's kernels
// not registered, inference) runs the stock call, and the stock call is back after training.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { registerWasmKernels, unregisterWasmKernels } from "../../src/tfjs/index.ts";
import { resNet20 } from "../../src/train/models.ts";
import { trainEpoch } from "../../src/train/loop.ts";
import { fuseBatchNorm, fusedBatchNormCounts, isBatchNormFused, withFusedBatchNorm } from "../../src/train/fused-bn.ts";
import { toyImages } from "../helpers/images.ts";

const LR = 1e-3;

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

async function artifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => { out = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
  return out!;
}

const bnLayers = (m: tfl.LayersModel) => m.layers.filter((l) => l.getClassName() === "BatchNormalization");

describe("fused BatchNorm in training", () => {
  it("a ResNet-20 trained two epochs with the fused op matches stock BN (weights, moving statistics, loss), keeps its topology, reloads in stock tfjs and predicts the same", async () => {
    await tf.setBackend("wasm");
    const data = toyImages(3).train;
    const models = [resNet20({ seed: 5 }), resNet20({ seed: 5 })];
    const untrained = JSON.stringify((await artifacts(models[0])).modelTopology);
    const losses: number[][] = [[], []];
    let steps = 0;
    const counts0 = { ...fusedBatchNormCounts };
    for (const [i, m] of models.entries()) {
      const optimizer = tf.train.adam(LR);
      let step = 0;
      for (let epoch = 0; epoch < 2; epoch++) {
        const r = await trainEpoch(m, data, { optimizer, batchSize: 8, seed: 3, epoch, layout: "image", step, fusedBatchNorm: i === 0 });
        step = r.step; losses[i].push(r.loss);
        if (i === 0) steps += r.steps;
      }
      optimizer.dispose();
      if (i === 0) {
        expect(steps).toBeGreaterThanOrEqual(4);
        expect(fusedBatchNormCounts.fused - counts0.fused).toBe(21 * steps); // 21 BN layers per step
        expect(fusedBatchNormCounts.stock - counts0.stock).toBe(0);
      }
    }
    expect(fusedBatchNormCounts.fused - counts0.fused).toBe(21 * steps);
    for (const l of bnLayers(models[0])) expect(isBatchNormFused(l)).toBe(false); // restored after training
    expect(Object.prototype.hasOwnProperty.call(bnLayers(models[0])[0], "call")).toBe(false);
    // Adam moves each weight by at most ≈ lr per step whatever the gradient's size, so rounding-level
    // differences in the gradients show up as at most a small fraction of steps·lr; the moving statistics
    // follow the batch statistics of inputs that differ by as much.
    let worst = 0;
    const [wa, wb] = models.map((m) => m.weights.map((w) => ({ name: w.name, data: w.read().dataSync() as Float32Array })));
    expect(wa.map((w) => w.name)).toEqual(wb.map((w) => w.name));
    for (let i = 0; i < wa.length; i++) {
      let scale = 0, diff = 0;
      for (let j = 0; j < wa[i].data.length; j++) { scale = Math.max(scale, Math.abs(wb[i].data[j])); diff = Math.max(diff, Math.abs(wa[i].data[j] - wb[i].data[j])); }
      worst = Math.max(worst, diff / Math.max(scale, 1));
      expect(diff, wa[i].name).toBeLessThanOrEqual(1e-3 * Math.max(scale, 1));
    }
    console.log(`fused vs stock BN ResNet-20 after ${steps} steps: worst weight difference ${worst.toExponential(2)} (lr ${LR}); losses ${JSON.stringify(losses)}`);
    for (let e = 0; e < 2; e++) expect(Math.abs(losses[0][e] - losses[1][e])).toBeLessThanOrEqual(1e-3 * Math.abs(losses[1][e]));
    // the trained models moved (so the comparison is not of two untrained models)
    const fresh = resNet20({ seed: 5 });
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(fresh.getLayer("stem").getWeights()[0], models[0].getLayer("stem").getWeights()[0]))).dataSync()[0]);
    expect(moved).toBeGreaterThan(1e-4);
    fresh.dispose();
    // saved topology unchanged (same as before training and as stock-trained), loads in stock tfjs on cpu, predicts the same
    const [a, b] = [await artifacts(models[0]), await artifacts(models[1])];
    expect(JSON.stringify(a.modelTopology)).toBe(untrained);
    expect(JSON.stringify(a.modelTopology)).toBe(JSON.stringify(b.modelTopology));
    expect(a.weightSpecs).toEqual(b.weightSpecs);
    const x = tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 1, "float32", 9));
    const inProcess = (models[0].predict(x) as tf.Tensor);
    const want = inProcess.dataSync().slice();
    await tf.setBackend("cpu");
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(a));
    const xc = tf.tensor(x.dataSync(), x.shape);
    const got = (loaded.predict(xc) as tf.Tensor).dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-4);
    loaded.dispose(); xc.dispose();
    await tf.setBackend("wasm");
    tf.dispose([x, inProcess]);
    models.forEach((m) => m.dispose());
  });

  it("numTensors stay stable across fused training epochs", async () => {
    await tf.setBackend("wasm");
    const m = resNet20({ seed: 2 });
    const optimizer = tf.train.adam(LR);
    const data = toyImages(1).train;
    await trainEpoch(m, data, { optimizer, batchSize: 5, seed: 1, layout: "image" }); // creates Adam's state
    const before = tf.memory().numTensors;
    for (let e = 1; e < 3; e++) {
      await trainEpoch(m, data, { optimizer, batchSize: 5, seed: 1, epoch: e, layout: "image" });
      expect(tf.memory().numTensors).toBe(before);
    }
    optimizer.dispose(); m.dispose();
  });

  it("unsupported cases run tfjs-layers' stock call: channels not last, no center or scale, the cpu backend, no odecomp kernels; inference runs stock", async () => {
    await tf.setBackend("wasm");
    const build = (bn: Parameters<typeof tfl.layers.batchNormalization>[0]) => {
      const input = tfl.input({ shape: [4, 5, 3] });
      const out = tfl.layers.dense({ units: 2, kernelInitializer: "ones" }).apply(tfl.layers.flatten().apply(tfl.layers.batchNormalization(bn).apply(input))) as tfl.SymbolicTensor;
      return tfl.model({ inputs: input, outputs: out });
    };
    const x = tf.tidy(() => tf.randomNormal([6, 4, 5, 3], 1, 2, "float32", 4));
    const run = (m: tfl.LayersModel, training: boolean) => {
      const before = { ...fusedBatchNormCounts };
      const restore = fuseBatchNorm(m);
      const y = tf.tidy(() => (m.apply(x, { training }) as tf.Tensor).dataSync().slice());
      restore();
      return { y, fused: fusedBatchNormCounts.fused - before.fused, stock: fusedBatchNormCounts.stock - before.stock };
    };
    // supported: fused, and equal to the stock call on a twin model
    const ok = run(build({}), true);
    expect([ok.fused, ok.stock]).toEqual([1, 0]);
    const twin = build({});
    const ref = tf.tidy(() => (twin.apply(x, { training: true }) as tf.Tensor).dataSync().slice());
    for (let i = 0; i < ref.length; i++) expect(Math.abs(ok.y[i] - ref[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref[i])));
    for (const args of [{ axis: 1 }, { axis: 2 }, { center: false }, { scale: false }]) {
      const r = run(build(args), true);
      expect([r.fused, r.stock], JSON.stringify(args)).toEqual([0, 1]);
    }
    expect([run(build({}), false).fused, run(build({}), false).stock]).toEqual([0, 0]); // inference: the stock call, not counted
    await tf.setBackend("cpu");
    const xc = x; // tensors move between backends on read
    const cpu = run(build({}), true);
    expect([cpu.fused, cpu.stock]).toEqual([0, 1]);
    await tf.setBackend("wasm");
    unregisterWasmKernels();
    try {
      const r = run(build({}), true);
      expect([r.fused, r.stock]).toEqual([0, 1]);
    } finally {
      await registerWasmKernels();
    }
    expect(xc.shape).toEqual([6, 4, 5, 3]);
    x.dispose();
  });

  it("withFusedBatchNorm restores the stock call when the work throws, and a nested fuse leaves the outer one in place", async () => {
    const m = resNet20({ seed: 1 });
    const bn = bnLayers(m)[0];
    await expect(withFusedBatchNorm(m, () => { expect(isBatchNormFused(bn)).toBe(true); throw new Error("boom"); })).rejects.toThrow("boom");
    expect(isBatchNormFused(bn)).toBe(false);
    const outer = fuseBatchNorm(m);
    const inner = fuseBatchNorm(m);
    inner();
    expect(isBatchNormFused(bn)).toBe(true);
    outer();
    expect(isBatchNormFused(bn)).toBe(false);
    m.dispose();
  });
});
