import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../src/core/loader.ts";
import { mlp } from "../../src/train/models.ts";
import { baseline, pretrain, train, type TrainHook } from "../../src/train/index.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

const data = toyImages(14); // 120 train / 20 test: 3 steps per epoch at batch size 40
const opts = { batchSize: 40, seed: 1, optimizer: () => tf.train.adam(0.01) };
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe("TrainOptions.hooks", () => {
  it("a custom hook sees phaseBegin / steps / epochEnd / architectureChange / phaseEnd in order, with the right indices", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    const log: string[] = [];
    const rates: number[] = [];
    const hook: TrainHook = {
      name: "log",
      phaseBegin: (c) => { log.push(`begin ${c.phaseIndex} ${c.phase.kind} step ${c.step}`); },
      architectureChange: (c) => { log.push(`change step ${c.step} ${c.model.layers.length} layers`); },
      beforeStep: (c) => { log.push(`before ${c.step}/${c.phaseStep}`); rates.push((c.optimizer as unknown as { learningRate: number }).learningRate); },
      lossTerm: (c) => { log.push(`loss ${c.step} [${c.prediction.shape}]`); return undefined; },
      afterStep: (c) => { log.push(`after ${c.step}/${c.phaseStep} batch ${c.batch.index}`); },
      epochEnd: (r, c) => { log.push(`epoch ${r.epoch} (${c.phaseEpoch} of phase ${c.phaseIndex}) step ${c.step}`); },
      phaseEnd: (r) => { log.push(`end ${r.index} ${r.kind}`); },
    };
    const r = await train(model, data, pretrain({ epochs: 2, rank: 3, layers: ["fc1"] }), { ...opts, warmupSteps: 2, optimizer: () => tf.train.adam(0.04), hooks: [hook] });
    const steps = (from: number, n: number) => Array.from({ length: n }, (_, i) => {
      const s = from + i;
      return [`before ${s}/${s}`, `loss ${s} [40,10]`, `after ${s}/${s} batch ${i % 3}`];
    }).flat();
    expect(log).toEqual([
      "begin 0 factorize step 0", "change step 0 3 layers", "end 0 factorize",
      "begin 1 train step 0",
      ...steps(0, 3), "epoch 1 (0 of phase 1) step 3",
      ...steps(3, 3), "epoch 2 (1 of phase 1) step 6",
      "end 1 train",
    ]);
    // Built-in hooks run first: the caller's beforeStep sees the warm-up's rate (0.04/2, then 0.04).
    expect(rates).toEqual([0.02, 0.04, 0.04, 0.04, 0.04, 0.04]);
    expect(r.epochs.length).toBe(2);
    r.model.dispose(); model.dispose();
  });

  it("epochEnd returning true ends the train phase (stoppedEarly); a record field it adds is kept", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    const hook: TrainHook = { epochEnd: (r, c) => { r.label += "!"; return c.phaseEpoch === 1; } };
    const r = await train(model, data, baseline({ epochs: 5 }), { ...opts, hooks: [hook] });
    expect(r.epochs.map((e) => e.label)).toEqual(["train!", "train!"]);
    expect(r.phases[0].epochs).toBe(2);
    expect(r.phases[0].stoppedEarly).toBe(true);
    model.dispose();
  });

  it("a loss term is added to the loss; a hook returning none leaves the run bitwise unchanged; no leaks", async () => {
    const run = async (hooks: TrainHook[]) => {
      const model = mlp({ hidden: 8, seed: 2 });
      const r = await train(model, data, baseline({ epochs: 1 }), { ...opts, hooks });
      const out = { loss: r.epochs[0].loss, weights: weightsOf(model) };
      model.dispose();
      return out;
    };
    const n0 = tf.memory().numTensors;
    const plain = await run([]);
    const none = await run([{ lossTerm: () => undefined }, { beforeStep: () => {}, afterStep: () => {} }]);
    expect(none.loss).toBe(plain.loss);
    expect(none.weights).toEqual(plain.weights);
    // A constant term has no gradient: same weights, loss raised by exactly the constant (summed over two hooks).
    const constant = await run([{ lossTerm: () => tf.scalar(0.25) }, { lossTerm: () => tf.scalar(0.5) }]);
    expect(constant.weights).toEqual(plain.weights);
    expect(constant.loss).toBeCloseTo(plain.loss + 0.75, 5);
    // A term in the weights changes them.
    const l2 = await run([{ lossTerm: (c) => tf.mul(0.1, tf.sum(tf.square(c.model.getLayer("fc1").weights[0].read()))) as tf.Scalar }]);
    expect(l2.weights[0]).not.toEqual(plain.weights[0]);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("rejects hooks that are not objects", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    await expect(train(model, data, baseline({ epochs: 1 }), { ...opts, hooks: [3 as never] })).rejects.toThrow(/hooks = 3; expected an array of hook objects/);
    model.dispose();
  });
});
