// A seed fully determines a training run on 'wasm' + odecomp's kernels: same
// seed → bitwise-identical initial weights, trained weights and losses; another
// seed → different ones. (tfjs-core's Gaussian initializers treat seed 0 as "no
// seed" and draw Math.random: models.ts maps every seed to a non-zero one.)
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { initializerSeed, mlp, smallResNet, vggCnn } from "../../src/train/models.ts";
import { baseline, decomposeAtEpoch, train } from "../../src/train/schedule.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await registerWasmKernels(); await tf.setBackend("wasm"); });

const data = toyImages(3); // 20 train / 10 test
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe("determinism", () => {
  it("seed 0 (and any seed) builds the same initial weights every time; distinct seeds differ", () => {
    for (const build of [(seed: number) => mlp({ seed, hidden: 8 }), (seed: number) => vggCnn({ seed }), (seed: number) => smallResNet({ seed })]) {
      const a = build(0), b = build(0), c = build(1);
      const wa = weightsOf(a), wb = weightsOf(b), wc = weightsOf(c);
      expect(wa).toEqual(wb);
      expect(wa[0]).not.toEqual(wc[0]);
      a.dispose(); b.dispose(); c.dispose();
    }
    expect(initializerSeed(0, 0)).toBe(1);
    expect(initializerSeed(1, 0)).not.toBe(initializerSeed(0, 1));
    expect(() => initializerSeed(-1, 0)).toThrow(/seed = -1; expected an integer ≥ 0/);
  });

  it("two CNN runs with the same seed (train, Tucker-2 decompose, train) are bitwise identical; another seed differs", async () => {
    const run = async (seed: number) => {
      const model = vggCnn({ seed });
      const r = await train(model, data, decomposeAtEpoch({ epochs: 2, at: 1, plan: { ranks: { conv2_1: [4, 4] }, skip: ["conv1_1", "conv1_2", "conv2_2", "fc1", "fc2"] } }),
        { batchSize: 8, seed, optimizer: () => tf.train.adam(1e-3) });
      const out = { losses: r.epochs.map((e) => e.loss), weights: weightsOf(r.model), layers: r.model.layers.map((l) => l.name) };
      r.model.dispose(); model.dispose();
      return out;
    };
    const n0 = tf.memory().numTensors;
    const a = await run(0), b = await run(0), c = await run(1);
    expect(a.layers).toContain("conv2_1__odc_tucker2_1");
    expect(b.losses).toEqual(a.losses); // toEqual on numbers is Object.is: bitwise for non-NaN
    expect(b.weights).toEqual(a.weights);
    expect(c.losses[0]).not.toBe(a.losses[0]);
    expect(tf.memory().numTensors).toBe(n0);
  }, 30_000);

  it("two MLP runs with the same seed give identical losses and weights", async () => {
    const run = async (seed: number) => {
      const model = mlp({ seed, hidden: 16 });
      const r = await train(model, data, baseline({ epochs: 2 }), { batchSize: 8, seed, optimizer: () => tf.train.adam(1e-2) });
      const out = { losses: r.epochs.map((e) => e.loss), weights: weightsOf(r.model) };
      model.dispose();
      return out;
    };
    const a = await run(3), b = await run(3), c = await run(4);
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
  });
});
