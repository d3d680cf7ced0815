// BatchNorm recalibration against a scalar reference: the moving statistics become the plain average of
// the per-batch (biased) means and variances of one pass in the seeded batch order.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { batchNormLayers, recalibrateBatchNorm } from "../../src/train/recalibrate.ts";
import { finetune } from "../../src/train/finetune.ts";
import { baseline, train } from "../../src/train/schedule.ts";
import { epochOrder, type ImageSet } from "../../src/data/dataset.ts";
import { smallCnn, stripesSet } from "./fixtures.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

/** count flat "images" of `features` bytes (height 1), seeded, labeled round-robin over 2 classes. */
function flatSet(count: number, features: number, seed: number): ImageSet {
  const images = Uint8Array.from({ length: count * features }, (_, i) => (i * 37 + seed * 11 + ((i * i) % 7) * 19) % 256);
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 2), count, height: 1, width: features, channels: 1, classes: 2 };
}

function bnModel(features: number, momentum = 0.99) {
  const input = tfl.input({ shape: [features] });
  const bn = tfl.layers.batchNormalization({ name: "bn", momentum }).apply(input) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: bn });
}

/** Scalar reference: average over batches (seeded order, batches of `b`, first `max` images) of the batch mean / biased variance per feature. */
function reference(set: ImageSet, b: number, seed: number, max = Infinity) {
  const order = epochOrder(set.count, seed, 0), f = set.width;
  const means: number[][] = [], vars: number[][] = [];
  for (let s = 0, seen = 0; s < set.count && seen < max; s += b) {
    const idx = Array.from(order.subarray(s, Math.min(s + b, set.count)));
    seen += idx.length;
    const m = new Array(f).fill(0), v = new Array(f).fill(0);
    for (let j = 0; j < f; j++) {
      for (const i of idx) m[j] += set.images[i * f + j] / 255 / idx.length;
      for (const i of idx) v[j] += (set.images[i * f + j] / 255 - m[j]) ** 2 / idx.length;
    }
    means.push(m); vars.push(v);
  }
  const avg = (rows: number[][]) => rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
  return { mean: avg(means), variance: avg(vars), batches: means.length };
}

const stats = (m: tfl.LayersModel) => {
  const w = m.getLayer("bn").getWeights(); // gamma, beta, moving mean, moving variance
  return { gamma: Array.from(w[0].dataSync()), beta: Array.from(w[1].dataSync()), mean: Array.from(w[2].dataSync()), variance: Array.from(w[3].dataSync()) };
};

describe("recalibrateBatchNorm", () => {
  it("sets the moving statistics to the average of the batch statistics (7 images in batches of 3, 3, 1; 5 and 17 features); weights and momentum stay", async () => {
    for (const features of [5, 17]) {
      const set = flatSet(7, features, features);
      const m = bnModel(features);
      const before = stats(m);
      const n0 = tf.memory().numTensors;
      expect(await recalibrateBatchNorm(m, set, { batchSize: 3, seed: 4 })).toBe(3);
      expect(tf.memory().numTensors).toBe(n0);
      const ref = reference(set, 3, 4);
      const after = stats(m);
      after.mean.forEach((v, j) => expect(v).toBeCloseTo(ref.mean[j], 5));
      after.variance.forEach((v, j) => expect(v).toBeCloseTo(ref.variance[j], 5));
      expect(after.gamma).toEqual(before.gamma);
      expect(after.beta).toEqual(before.beta);
      expect((m.getLayer("bn") as unknown as { momentum: number }).momentum).toBe(0.99);
      m.dispose();
    }
  });

  it("maxImages stops after the batch that reaches it; a model without BatchNorm, or a frozen one, is left alone", async () => {
    const set = flatSet(10, 4, 1);
    const m = bnModel(4, 0.5);
    expect(await recalibrateBatchNorm(m, set, { batchSize: 4, maxImages: 5, seed: 2 })).toBe(2);
    const ref = reference(set, 4, 2, 5);
    expect(ref.batches).toBe(2);
    stats(m).mean.forEach((v, j) => expect(v).toBeCloseTo(ref.mean[j], 5));
    expect((m.getLayer("bn") as unknown as { momentum: number }).momentum).toBe(0.5);
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    expect(await recalibrateBatchNorm(dense, set)).toBe(0);
    m.getLayer("bn").trainable = false;
    expect(batchNormLayers(m)).toHaveLength(0);
    const frozen = stats(m);
    expect(await recalibrateBatchNorm(m, set)).toBe(0);
    expect(stats(m)).toEqual(frozen);
    await expect(recalibrateBatchNorm(bnModel(4), set, { batchSize: 0 })).rejects.toThrow(/recalibrateBatchNorm: batchSize = 0; expected a positive integer/);
    m.dispose(); dense.dispose();
  });

  it("finds BatchNorm inside nested models", async () => {
    const inner = tfl.sequential({ name: "inner", layers: [tfl.layers.dense({ inputShape: [4], units: 3, name: "d" }), tfl.layers.batchNormalization({ name: "bn" })] });
    const input = tfl.input({ shape: [4] });
    const outer = tfl.model({ inputs: input, outputs: inner.apply(input) as tfl.SymbolicTensor });
    expect(batchNormLayers(outer).map((l) => l.name)).toEqual(["bn"]);
    const mean0 = Array.from(inner.getLayer("bn").getWeights()[2].dataSync());
    expect(await recalibrateBatchNorm(outer, flatSet(8, 4, 3))).toBe(1);
    expect(Array.from(inner.getLayer("bn").getWeights()[2].dataSync())).not.toEqual(mean0);
    outer.dispose();
  });

  it("train() re-estimates them before each evaluation (on by default): the same weights and losses, the statistics of one seeded pass", async () => {
    const trainSet = stripesSet(48, 4, 5), test = stripesSet(16, 4, 6);
    const run = async (recalibrateBatchNorm?: boolean) => {
      const m = smallCnn({ classes: 4, seed: 2 });
      const r = await train(m, { train: trainSet, test }, baseline({ epochs: 2 }), { batchSize: 16, seed: 3, recalibrateBatchNorm });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      const names = m.weights.map((v) => v.name);
      return { r, m, w, names };
    };
    const on = await run(), off = await run(false);
    const moving = (n: string) => /moving_(mean|variance)/.test(n);
    on.names.forEach((n, i) => {
      if (moving(n)) expect(on.w[i], n).not.toEqual(off.w[i]); // only the moving statistics differ…
      else expect(on.w[i], n).toEqual(off.w[i]); // …training mode uses batch statistics, so the steps are the same
    });
    expect(on.r.epochs.map((e) => e.loss)).toEqual(off.r.epochs.map((e) => e.loss));
    // they are the ones one recalibration pass gives (seeded by the run's seed + epoch, deterministic)
    const again = smallCnn({ classes: 4, seed: 2 });
    again.setWeights(on.m.getWeights());
    await recalibrateBatchNorm(again, trainSet, { seed: 3 + 2, maxImages: 1024 });
    again.getWeights().forEach((t, i) => { if (moving(on.names[i])) expect(Array.from(t.dataSync()), on.names[i]).toEqual(on.w[i]); });
    await expect(train(smallCnn({ classes: 4 }), { train: trainSet, test }, baseline({ epochs: 1 }), { recalibrateBatchNorm: 3 as unknown as boolean }))
      .rejects.toThrow(/recalibrateBatchNorm = 3; expected true, false or recalibration options/);
    for (const m of [on.m, off.m, again]) m.dispose();
  });

  it("finetune re-estimates the statistics after each epoch (on by default), so its evaluation is of the model it returns", async () => {
    const train = stripesSet(48, 4, 5), test = stripesSet(16, 4, 6);
    const run = async (recalibrateBatchNorm?: boolean) => {
      const m = smallCnn({ classes: 4, seed: 2 });
      const r = await finetune(m, train, { epochs: 1, batchSize: 16, learningRate: 3e-3, test, seed: 1, recalibrateBatchNorm });
      const mean = Array.from(m.getLayer("bn1").getWeights()[2].dataSync());
      m.dispose();
      return { r, mean };
    };
    const on = await run(), off = await run(false);
    expect(on.r.recalibratedBatchNorm).toBe(2);
    expect(off.r.recalibratedBatchNorm).toBe(0);
    expect(on.mean).not.toEqual(off.mean); // the same training; only the statistics differ
    expect(on.r.epochs[0].loss).toBe(off.r.epochs[0].loss);
  });
});
