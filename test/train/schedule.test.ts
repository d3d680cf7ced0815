import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../src/core/loader.ts";
import { svd } from "../../src/linalg/svd.ts";
import { mlp } from "../../src/train/models.ts";
import { factorizeDense, findSvdPairs } from "../../src/train/factorize.ts";
import { baseline, decomposeAtEpoch, fading, incremental, incrementalDecompose, pretrain, train, type EpochRecord, type PhaseRecord } from "../../src/train/schedule.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

const data = toyImages(14); // 120 train / 20 test
const small = (seed = 1) => mlp({ hidden: 24, seed });
const opts = { batchSize: 40, seed: 1, optimizer: () => tf.train.adam(0.01) };

describe("factorizeDense", () => {
  it("svd init at full rank computes the same function; random init is seeded", async () => {
    const model = small();
    const n0 = tf.memory().numTensors;
    const f = await factorizeDense(model, { layers: ["fc1"], rank: 24, init: "svd" });
    expect(f.layers.map((l) => l.name)).toEqual(["fc1__odc_svd_0", "fc1__odc_svd_1", "fc2"]);
    expect(findSvdPairs(f)).toEqual([{ u: "fc1__odc_svd_0", v: "fc1__odc_svd_1" }]);
    const x = tf.randomUniform([4, 784], 0, 1, "float32", 3);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, f.predict(x) as tf.Tensor))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-4);
    const r1 = await factorizeDense(model, { layers: ["fc1"], rank: 5, seed: 2 }), r2 = await factorizeDense(model, { layers: ["fc1"], rank: 5, seed: 2 });
    expect(r1.getLayer("fc1__odc_svd_0").weights[0].shape).toEqual([784, 5]);
    expect(Array.from(r1.getLayer("fc1__odc_svd_0").weights[0].read().dataSync())).toEqual(Array.from(r2.getLayer("fc1__odc_svd_0").weights[0].read().dataSync()));
    expect(Array.from(r1.getLayer("fc2").weights[0].read().dataSync())).toEqual(Array.from(model.getLayer("fc2").weights[0].read().dataSync()));
    x.dispose(); f.dispose(); r1.dispose(); r2.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    await expect(factorizeDense(model, { layers: ["fc1"], rank: 25 })).rejects.toThrow(/rank = 25 for 'fc1' \[784, 24\]; expected an integer in 1..24/);
    await expect(factorizeDense(model, { layers: ["nope"], rank: 2 })).rejects.toThrow(/no layer 'nope'/);
    model.dispose();
  });
});

describe("train()", () => {
  it("baseline: one record per epoch with time, params, FLOPs, accuracy; the model learns", async () => {
    const model = small();
    const seen: EpochRecord[] = [];
    const r = await train(model, data, baseline({ epochs: 4 }), { ...opts, onEpochEnd: (e) => { seen.push(e); } });
    expect(r.model).toBe(model);
    expect(seen.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(r.epochs[3].params).toBe(784 * 24 + 24 + 250);
    expect(r.epochs[3].forwardFlops).toBe(2 * (784 * 24 + 240));
    expect(r.epochs[3].trainFlops).toBe(3 * r.epochs[3].forwardFlops * 120);
    expect(r.epochs.every((e) => e.trainSeconds > 0)).toBe(true);
    expect(r.final.accuracy).toBeGreaterThan(0.8);
    expect(r.trainSeconds).toBeLessThanOrEqual(r.totalSeconds);
    model.dispose();
  });
  it("pretrain: factorized from initialisation at rank r, then trained", async () => {
    const model = small();
    const r = await train(model, data, pretrain({ epochs: 2, rank: 3, layers: ["fc1"] }), opts);
    expect(r.phases.map((p) => p.kind)).toEqual(["factorize", "train"]);
    expect(r.phases[0].ranks).toEqual({ fc1: 3 });
    expect(r.phases[0].paramsAfter).toBe(784 * 3 + 3 * 24 + 24 + 250);
    expect(r.model.layers.map((l) => l.name)).toEqual(["fc1__odc_svd_0", "fc1__odc_svd_1", "fc2"]);
    expect(model.layers.map((l) => l.name)).toEqual(["fc1", "fc2"]); // input model untouched
    r.model.dispose(); model.dispose();
  });
  it("fading: fade, truncate to r, fine-tune; no tensor leaks across the schedule", async () => {
    const model = small();
    const n0 = tf.memory().numTensors;
    const phases: PhaseRecord[] = [];
    const r = await train(model, data, fading({ rank: 4, fromRank: 16, layers: ["fc1"], fadeEpochs: 3, fineTuneEpochs: 1, lambda: 0.01, rampSteps: 6 }),
      { ...opts, onPhaseEnd: (p) => { phases.push(p); } });
    expect(phases.map((p) => [p.kind, p.label, p.ranks.fc1])).toEqual([["factorize", "factorize", 16], ["train", "fade", 16], ["truncate", "truncate", 4], ["train", "fine-tune", 4]]);
    expect(phases[2].accuracyBefore).toBeCloseTo(phases[1].accuracy, 9);
    expect(r.model.getLayer("fc1__odc_svd_0").weights[0].shape).toEqual([784, 4]);
    expect(r.epochs.length).toBe(4);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
  it("fading shrinks the tail far more than plain training (proximal mode too)", async () => {
    const tail = async (lambda: number, mode: "penalty" | "proximal") => {
      const model = small();
      const r = await train(model, data, { name: "t", phases: [
        { kind: "factorize", layers: ["fc1"], rank: 16 },
        { kind: "train", epochs: 3, fading: { rank: 4, lambda, rampSteps: 3, mode, proximalStep: 0.01 } },
      ] }, opts);
      const U = r.model.getLayer("fc1__odc_svd_0").weights[0].read();
      const t = tf.tidy(() => tf.sum(tf.abs(tf.slice(U, [0, 4], [784, 12]))).dataSync()[0]);
      r.model.dispose(); model.dispose();
      return t;
    };
    const plain = await tail(0, "penalty");
    expect(await tail(0.05, "penalty")).toBeLessThan(plain * 0.5);
    expect(await tail(1, "proximal")).toBeLessThan(plain * 0.5); // τ = step·λ·f(t) = 0.01 per step at full ramp
  });
  it("incremental: ranks after each step", async () => {
    const model = await factorizeDense(small(), { layers: ["fc1"], rank: 16 });
    const r = await train(model, data, incremental({ ranks: [8, 4, 2], fineTuneEpochs: 1 }), opts);
    expect(r.phases.filter((p) => p.kind === "truncate").map((p) => p.ranks.fc1)).toEqual([8, 4, 2]);
    expect(r.final.params).toBe(784 * 2 + 2 * 24 + 24 + 250);
    r.model.dispose(); model.dispose();
  });
  it("early stopping by the learning-curve predictor", async () => {
    const model = small();
    const r = await train(model, data, { name: "es", phases: [{ kind: "train", epochs: 8, earlyStop: { threshold: 1 } }] }, opts);
    expect(r.epochs.length).toBe(3);
    expect(r.phases[0].stoppedEarly).toBe(true);
    expect(r.epochs[2].prediction?.stop).toBe(true);
    model.dispose();
  });
  it("rejects bad schedules with clear errors, before training", async () => {
    const model = small();
    await expect(train(model, data, baseline({ epochs: -1 }), opts)).rejects.toThrow(/phase 0 \(train\): epochs = -1; expected an integer ≥ 0/);
    await expect(train(model, data, { name: "x", phases: [] }, opts)).rejects.toThrow(/schedule has no phases/);
    await expect(train(model, data, { name: "x", phases: [{ kind: "decompose", options: 3 as never }] }, opts)).rejects.toThrow(/phase 0 \(decompose\): options = 3; expected compress options/);
    expect(() => incrementalDecompose({ steps: [], fineTuneEpochs: 1 })).toThrow(/steps is empty/);
    await expect(train(model, data, { name: "x", phases: [{ kind: "truncate", rank: 2 }] }, opts)).rejects.toThrow(/has no factorized pairs/);
    await expect(train(model, data, { name: "x", phases: [{ kind: "train", epochs: 1, fading: { rank: 2 } }] }, opts)).rejects.toThrow(/has no factorized pairs/);
    await expect(train(model, data, baseline({ epochs: 1 }), { ...opts, batchSize: 0 })).rejects.toThrow(/batchSize = 0/);
    expect(() => incremental({ ranks: [4, 8], fineTuneEpochs: 1 })).toThrow(/strictly decreasing/);
    expect(() => decomposeAtEpoch({ epochs: 3, at: 5, plan: {} })).toThrow(/at = 5; expected an integer epoch in 0..3/);
    expect(() => fading({ rank: 2, fromRank: 8, fadeEpochs: 1, fineTuneEpochs: 1 })).toThrow(/fromRank needs layers/);
    model.dispose();
  });
});

describe("train() with odecomp/models (decompose / reconstruct)", () => {
  it("decompose-at-epoch with reconstruction: architecture after each step, no leaks", async () => {
    const model = small();
    const n0 = tf.memory().numTensors;
    const r = await train(model, data, decomposeAtEpoch({ epochs: 3, at: 1, reconstructAt: 2, plan: { ranks: { fc1: 5 } } }), opts);
    expect(r.phases.map((p) => [p.kind, p.label])).toEqual([["train", "original"], ["decompose", "decompose"], ["train", "decomposed"], ["reconstruct", "reconstruct"], ["train", "reconstructed"]]);
    expect(r.phases[1].ranks).toEqual({ fc1: 5 });
    expect(r.phases[1].paramsAfter).toBe(784 * 5 + 5 * 24 + 24 + 250);
    expect(r.phases[1].report).toMatch(/fc1/);
    expect(r.phases[3].ranks).toEqual({});
    expect(r.model.layers.map((l) => [l.name, l.getClassName()])).toEqual([["fc1", "Dense"], ["fc2", "Dense"]]);
    expect(r.model.getLayer("fc1").weights[0].shape).toEqual([784, 24]);
    expect(r.epochs.map((e) => e.params)).toEqual([19090, 784 * 5 + 5 * 24 + 24 + 250, 19090]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
  it("incremental decomposition through compress/reconstruct: ranks after each step", async () => {
    const model = small();
    const r = await train(model, data, incrementalDecompose({ steps: [{ ranks: { fc1: 12 } }, { ranks: { fc1: 6 } }, { ranks: { fc1: 3 } }], fineTuneEpochs: 1 }), opts);
    expect(r.phases.filter((p) => p.kind === "decompose").map((p) => p.ranks.fc1)).toEqual([12, 6, 3]);
    expect(r.phases.filter((p) => p.kind === "reconstruct").map((p) => p.layers)).toEqual([["fc1", "fc2"], ["fc1", "fc2"]]);
    expect(r.final.params).toBe(784 * 3 + 3 * 24 + 24 + 250);
    r.model.dispose(); model.dispose();
  });
  it("fading an unfactorized Dense shrinks its SVD tail; a decompose phase then truncates it", async () => {
    const tailSum = async (lambda: number) => {
      const model = small();
      await train(model, data, { name: "dense-fade", phases: [{ kind: "train", epochs: 2, fading: { rank: 4, dense: ["fc1"], lambda, rampSteps: 3 } }] }, opts);
      const s = svd({ data: model.getLayer("fc1").weights[0].read().dataSync() as Float32Array, shape: [784, 24] }).s;
      const cut = await train(model, data, { name: "cut", phases: [{ kind: "decompose", options: { ranks: { fc1: 4 } } }] }, opts);
      const ph = cut.phases[0];
      expect(ph.ranks).toEqual({ fc1: 4 });
      expect(ph.accuracy).toBeGreaterThan(0);
      cut.model.dispose(); model.dispose();
      return { tail: s.slice(4).reduce((a, b) => a + b, 0) };
    };
    const plain = await tailSum(0), faded = await tailSum(5);
    expect(faded.tail).toBeLessThan(plain.tail * 0.7);
  });
  it("decompose on a small CNN gives Tucker-2 chains that train; reconstruct restores Conv2D layers", async () => {
    const tfl = await import("@tensorflow/tfjs-layers");
    const cnn = tfl.sequential({ layers: [
      tfl.layers.conv2d({ name: "c1", inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, activation: "relu", kernelInitializer: tfl.initializers.heNormal({ seed: 1 }) }),
      tfl.layers.conv2d({ name: "c2", filters: 8, kernelSize: 3, strides: 2, activation: "relu", kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }),
      tfl.layers.flatten({ name: "flat" }),
      tfl.layers.dense({ name: "out", units: 10, activation: "softmax", kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ] });
    const r = await train(cnn, data, decomposeAtEpoch({ epochs: 2, at: 1, reconstructAt: 2, plan: { ranks: { c2: [2, 2] }, skip: ["c1", "out"], methods: { c2: "tucker2" } } }), opts);
    expect(r.phases[1].report!).toMatch(/c2/);
    expect(r.phases[1].layers).toEqual(["c1", "c2__odc_tucker2_0", "c2__odc_tucker2_1", "c2__odc_tucker2_2", "flat", "out"]);
    expect(r.phases[3].layers).toEqual(["c1", "c2", "flat", "out"]);
    expect(r.epochs[1].params).toBeLessThan(r.epochs[0].params);
    expect(r.model.layers.map((l) => l.getClassName())).toEqual(["Conv2D", "Conv2D", "Flatten", "Dense"]);
    expect(r.model.getLayer("c2").weights[0].shape).toEqual([3, 3, 4, 8]);
    r.model.dispose(); cnn.dispose();
  });
});

describe("learning-rate warm-up after an architecture change", () => {
  it("ramps the rebuilt optimizer's rate linearly over warmupSteps, then holds it; none before the change", async () => {
    const rates: number[] = [];
    const optimizer = () => {
      const o = tf.train.adam(0.01);
      const apply = o.applyGradients.bind(o);
      o.applyGradients = (g) => { rates.push((o as unknown as { learningRate: number }).learningRate); apply(g); };
      return o;
    };
    const model = small();
    const r = await train(model, data, decomposeAtEpoch({ epochs: 3, at: 1, plan: { ranks: { fc1: 5 } } }), { ...opts, optimizer, warmupSteps: 4 });
    // 120 samples / batch 40 = 3 steps per epoch: 3 before the decomposition, 6 after.
    expect(rates.length).toBe(9);
    expect(rates.slice(0, 3)).toEqual([0.01, 0.01, 0.01]);
    expect(rates.slice(3).map((x) => +x.toFixed(6))).toEqual([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01]);
    r.model.dispose(); model.dispose();
    await expect(train(small(), data, baseline({ epochs: 1 }), { ...opts, warmupSteps: -1 })).rejects.toThrow(/warmupSteps = -1; expected an integer ≥ 0/);
  });
});

describe("incrementalPredicted: ranks chosen by the accuracy-over-rank predictor", () => {
  it("halves until 3 points exist, then applies exactly the rank nextRank picks from the run's points", async () => {
    const { nextRank } = await import("../../src/train/predictor.ts");
    const { incrementalPredicted } = await import("../../src/train/schedule.ts");
    const model = small();
    const n0 = tf.memory().numTensors;
    const schedule = { name: "p", phases: [{ kind: "factorize" as const, layers: ["fc1"], rank: 24, init: "svd" as const }, ...incrementalPredicted({ target: 0.5, steps: 4, fineTuneEpochs: 1, warmEpochs: 1, minRank: 2 }).phases] };
    const r = await train(model, data, schedule, opts);
    const picks = r.phases.filter((p) => p.kind === "predictRank");
    expect(picks.length).toBe(4);
    const rules = picks.map((p) => p.rankChoice!.rule);
    expect(rules).toEqual(["halve", "halve", "predictor", "predictor"]);
    let rank = 24;
    for (const p of picks) {
      const c = p.rankChoice!;
      if (c.rule === "halve") expect(c.rank).toBe(Math.ceil(rank / 2));
      else {
        expect(c.points.length).toBeGreaterThanOrEqual(3);
        const again = nextRank(c.points, { target: 0.5, minRank: Math.max(2, Math.ceil(rank / 2)), maxRank: rank - 1 });
        expect(c.rank).toBe(again.rank);
        if (c.rank !== null) expect(c.rank).toBeGreaterThanOrEqual(Math.ceil(rank / 2)); // at most halved per step
        if (c.rank !== null) expect(c.predicted!).toBeGreaterThanOrEqual(0.5);
      }
      if (c.rank !== null) { expect(c.rank).toBeLessThan(rank); rank = c.rank; }
      expect(p.ranks).toEqual({ fc1: rank }); // the chosen rank is the one applied
    }
    // Each point is (rank, accuracy at the end of the train phase at that rank).
    const trains = r.phases.filter((p) => p.kind === "train");
    expect(picks[2].rankChoice!.points).toEqual([{ rank: 24, accuracy: trains[0].accuracy }, { rank: 12, accuracy: trains[1].accuracy }, { rank: 6, accuracy: trains[2].accuracy }]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    await expect(train(model, data, { name: "x", phases: [{ kind: "predictRank", target: 0.5 }] }, opts)).rejects.toThrow(/has no factorized pairs/);
    expect(() => incrementalPredicted({ target: 1.5, steps: 1, fineTuneEpochs: 1 })).toThrow(/target = 1.5; expected an accuracy in \(0, 1\]/);
    model.dispose();
  });
});
