import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { forwardFlops, mlp, smallResNet, vggCnn } from "../../src/train/models.ts";
import { forEachBatch } from "../../src/train/batches.ts";
import { evaluate, trainEpoch } from "../../src/train/loop.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

const toyData = (n: number) => toyImages(n);

describe("reference models", () => {
  it("MLP 784→150→10, factorized first layer at rank r, seeded", () => {
    const full = mlp({ seed: 3 });
    expect(full.layers.map((l) => l.name)).toEqual(["fc1", "fc2"]);
    expect(full.countParams()).toBe(784 * 150 + 150 + 1510);
    expect(forwardFlops(full)).toBe(2 * (784 * 150 + 150 * 10));
    const f = mlp({ seed: 3, rank: 15 });
    expect(f.layers.map((l) => l.name)).toEqual(["fc1__odc_svd_0", "fc1__odc_svd_1", "fc2"]);
    expect(f.countParams()).toBe(784 * 15 + 15 * 150 + 150 + 1510);
    expect(f.getLayer("fc1__odc_svd_0").weights.length).toBe(1); // no bias
    const again = mlp({ seed: 3, rank: 15 }), other = mlp({ seed: 4, rank: 15 });
    const w = (m: typeof f) => m.getLayer("fc1__odc_svd_0").weights[0].read().dataSync();
    expect(Array.from(w(again))).toEqual(Array.from(w(f)));
    expect(Array.from(w(other))).not.toEqual(Array.from(w(f)));
    expect(() => mlp({ rank: 0 })).toThrow(/rank = 0; expected an integer in 1..150/);
    [full, f, again, other].forEach((m) => m.dispose());
  });
  it("VGG-style CNN and small ResNet map 28×28×1 to 10 probabilities", () => {
    for (const build of [vggCnn, smallResNet]) {
      const m = build({ seed: 1 });
      const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 2);
      const y = m.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 10]);
      expect(tf.tidy(() => tf.sum(y, 1).arraySync() as number[]).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, 1]);
      expect(forwardFlops(m)).toBeGreaterThan(1e6);
      tf.dispose([x, y]); m.dispose();
    }
    const res = smallResNet(), vgg = vggCnn();
    expect(res.layers.filter((l) => l.getClassName() === "Add").length).toBe(3);
    expect(vgg.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => (l.getConfig() as { filters: number }).filters)).toEqual([32, 32, 64, 64]);
    res.dispose(); vgg.dispose();
  });
});

describe("batches and the training loop", () => {
  it("yields every sample once per epoch and leaks no tensors", async () => {
    const d = toyData(14);
    const seen: number[] = [];
    const n0 = tf.memory().numTensors;
    await forEachBatch(d.train, { batchSize: 32, seed: 1, epoch: 0 }, ({ x, y, labels }) => {
      expect(x.shape[1]).toBe(784);
      expect(y!.shape).toEqual([labels!.length, 10]);
      seen.push(...labels!);
    });
    expect(tf.memory().numTensors).toBe(n0);
    expect(seen.length).toBe(d.train.count);
    expect(seen.filter((l) => l === 3).length).toBe(12);
    await expect(forEachBatch(d.train, { batchSize: 0 }, () => {})).rejects.toThrow(/batchSize = 0/);
  });
  it("trainEpoch learns a toy problem with a stable tensor count", async () => {
    const d = toyData(14);
    const model = mlp({ seed: 1, rank: 10, hidden: 32 });
    const optimizer = tf.train.adam(0.01);
    const first = await trainEpoch(model, d.train, { optimizer, batchSize: 32, seed: 1, epoch: 0 });
    const n0 = tf.memory().numTensors;
    let step = first.step;
    for (let e = 1; e < 4; e++) step = (await trainEpoch(model, d.train, { optimizer, batchSize: 32, seed: 1, epoch: e, step })).step;
    expect(tf.memory().numTensors).toBe(n0);
    expect(step).toBe(4 * Math.ceil(120 / 32));
    const acc = await evaluate(model, d.test);
    expect(tf.memory().numTensors).toBe(n0);
    expect(acc).toBeGreaterThan(0.9);
    model.dispose(); optimizer.dispose();
  });
});
