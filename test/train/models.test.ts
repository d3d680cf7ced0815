import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { forwardFlops, mlp, referenceModels, resNet20, smallResNet, vggCnn, wideVgg } from "../../src/train/models.ts";
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

describe("workload models (issue 17)", () => {
  const convs = (m: { layers: { getClassName(): string; getConfig(): unknown; name: string }[] }) =>
    m.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => l.getConfig() as { name: string; filters: number; kernelSize: number[]; strides: number[] });
  it("wide VGG: 64-64-128-128-256-256 3×3 convs, GAP, Dense 10; parameters and FLOPs by hand", () => {
    const m = wideVgg({ seed: 1 });
    expect(convs(m).map((c) => c.filters)).toEqual([64, 64, 128, 128, 256, 256]);
    expect(m.layers.map((l) => l.name)).toEqual(["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1", "conv3_2", "gap", "fc"]);
    const conv = (cin: number, cout: number) => 9 * cin * cout + cout;
    expect(m.countParams()).toBe(conv(1, 64) + conv(64, 64) + conv(64, 128) + conv(128, 128) + conv(128, 256) + conv(256, 256) + 256 * 10 + 10);
    const f = (cin: number, cout: number, hw: number) => 2 * 9 * cin * cout * hw * hw;
    expect(forwardFlops(m)).toBe(f(1, 64, 28) + f(64, 64, 28) + f(64, 128, 14) + f(128, 128, 14) + f(128, 256, 7) + f(256, 256, 7) + 2 * 256 * 10);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 3);
    const y = m.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    expect(Array.from(tf.tidy(() => tf.sum(y, 1).dataSync())).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, 1]);
    expect(m.getLayer("conv3_2").outputShape).toEqual([null, 7, 7, 256]);
    tf.dispose([x, y]); m.dispose();
  });
  it("ResNet-20: 19 3×3 convs in 16/32/64 stages of 3 blocks, 2 projection shortcuts, BN, GAP, Dense 10", () => {
    const m = resNet20({ seed: 1 });
    const c = convs(m);
    expect(c.filter((l) => l.kernelSize[0] === 3).length).toBe(19);
    expect(c.filter((l) => l.kernelSize[0] === 1).map((l) => [l.name, l.filters, l.strides[0]])).toEqual([["s2b1_proj", 32, 2], ["s3b1_proj", 64, 2]]);
    expect(c.filter((l) => l.kernelSize[0] === 3).map((l) => l.filters)).toEqual([16, ...Array(6).fill(16), ...Array(6).fill(32), ...Array(6).fill(64)]);
    expect(m.layers.filter((l) => l.getClassName() === "Add").length).toBe(9);
    expect(m.layers.filter((l) => l.getClassName() === "BatchNormalization").length).toBe(21);
    // Convs without bias; BN has 4 weights per channel (γ, β, moving mean and variance).
    const k3 = (cin: number, cout: number) => 9 * cin * cout + 4 * cout;
    const stage = (cin: number, ch: number) => k3(cin, ch) + k3(ch, ch) + 2 * (2 * k3(ch, ch)) + (cin === ch ? 0 : cin * ch + 4 * ch);
    expect(m.countParams()).toBe(k3(1, 16) + stage(16, 16) + stage(16, 32) + stage(32, 64) + 64 * 10 + 10);
    expect(m.countParams()).toBe(273_754);
    expect(m.getLayer("s2b1_conv1").outputShape).toEqual([null, 14, 14, 32]);
    expect(m.getLayer("s3b3_out").outputShape).toEqual([null, 7, 7, 64]);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 4);
    const y = m.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    tf.dispose([x, y]); m.dispose();
  });
  it("same seed → same weights; the registry builds each by name", () => {
    for (const build of [wideVgg, resNet20]) {
      const a = build({ seed: 5 }), b = build({ seed: 5 }), c = build({ seed: 6 });
      const w = (m: typeof a) => Array.from(m.getWeights()[0].dataSync());
      expect(w(a)).toEqual(w(b));
      expect(w(a)).not.toEqual(w(c));
      [a, b, c].forEach((m) => m.dispose());
    }
    expect(Object.keys(referenceModels)).toEqual(["mlp", "vgg", "resnet", "wide-vgg", "resnet20"]);
    for (const [name, build] of Object.entries(referenceModels)) {
      const m = build({ seed: 1, classes: 7 });
      expect(m.outputs[0].shape, name).toEqual([null, 7]);
      m.dispose();
    }
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
