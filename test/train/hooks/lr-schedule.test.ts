// The learning-rate schedule over a run (TrainOptions.lrSchedule): the rate each optimizer step runs at
// equals the closed form base·f(t/T), also across architecture changes with the warm-up (which ramps to
// the scheduled rate) and rebuilt optimizers; `none` leaves the run bitwise as it was; bad options fail
// clearly; no tensors leak.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../../src/core/loader.ts";
import { OdecompError } from "../../../src/core/errors.ts";
import { mlp } from "../../../src/train/models.ts";
import { auto, baseline, decomposeAtEpoch, lrFactor, plannedEpochs, train, type LrSchedule, type TrainOptions } from "../../../src/train/index.ts";
import { toyImages } from "../../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

const data = toyImages(12); // 120 train images: 3 steps per epoch at batch size 40
const SPE = 3;
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

/** An optimizer factory that logs, per step, the rate the step ran at and which optimizer ran it. */
function logged(make: () => tf.Optimizer) {
  const steps: { rate: number; optimizer: number }[] = [];
  let made = 0;
  const factory = () => {
    const o = make(), id = made++;
    const apply = o.applyGradients.bind(o);
    o.applyGradients = (g) => { steps.push({ rate: (o as unknown as { learningRate: number }).learningRate, optimizer: id }); apply(g); };
    return o;
  };
  return { factory, steps, made: () => made };
}

// The closed forms, written out independently of src/.
const cosine = (base: number, t: number, T: number, m = 0) => base * (m + (1 - m) * (1 + Math.cos(Math.PI * t / T)) / 2);
const close = (a: number[], b: number[]) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]), `step ${i}: ${x} vs ${b[i]}`).toBeLessThanOrEqual(1e-15 * Math.abs(b[i]) + 1e-300));
};

describe("lrFactor: the closed forms", () => {
  it("cosine runs from 1 to minFactor along (1 + cos πp)/2; step multiplies by gamma at each milestone; none is 1", () => {
    expect(lrFactor({ kind: "cosine" }, 0)).toBe(1);
    expect(lrFactor({ kind: "cosine" }, 0.5)).toBeCloseTo(0.5, 15);
    expect(lrFactor({ kind: "cosine" }, 1)).toBe(0);
    expect(lrFactor({ kind: "cosine", minFactor: 0.1 }, 1)).toBeCloseTo(0.1, 15);
    expect(lrFactor({ kind: "cosine", minFactor: 0.1 }, 0.25)).toBeCloseTo(0.1 + 0.9 * (1 + Math.SQRT1_2) / 2, 15);
    expect(lrFactor({ kind: "cosine", minFactor: 1 }, 0.7)).toBe(1);
    // Progress outside [0, 1] is clamped.
    expect(lrFactor({ kind: "cosine" }, 1.5)).toBe(0);
    expect(lrFactor({ kind: "cosine" }, -1)).toBe(1);
    const step: LrSchedule = { kind: "step" };
    expect([0, 0.49, 0.5, 0.74, 0.75, 0.99].map((p) => lrFactor(step, p))).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2]);
    expect([0.1, 0.3, 0.9].map((p) => lrFactor({ kind: "step", milestones: [0.3], gamma: 0.5 }, p))).toEqual([1, 0.5, 0.5]);
    expect(lrFactor({ kind: "none" }, 0.9)).toBe(1);
  });

  it("plannedEpochs counts train and auto phases (early-stopping ones at their maximum), not the changes between", () => {
    expect(plannedEpochs(decomposeAtEpoch({ epochs: 10, at: 1 }).phases)).toBe(10);
    expect(plannedEpochs(auto({ epochs: 7, switchAt: 2, earlyStop: { threshold: 0.01 } }).phases)).toBe(7);
    expect(plannedEpochs([{ kind: "train", epochs: 4, earlyStop: { threshold: 0.1 } }, { kind: "truncate", rank: 2 }, { kind: "train", epochs: 3 }])).toBe(7);
  });
});

describe("TrainOptions.lrSchedule in train()", () => {
  it("cosine: every step's rate is base·f(t/T) over the whole run; each epoch records its last step's rate", async () => {
    const log = logged(() => tf.train.adam(0.01));
    const model = mlp({ hidden: 8, seed: 1 });
    const r = await train(model, data, baseline({ epochs: 3 }), { batchSize: 40, seed: 1, optimizer: log.factory, lrSchedule: { kind: "cosine", minFactor: 0.05 } });
    const T = 3 * SPE;
    close(log.steps.map((s) => s.rate), Array.from({ length: T }, (_, t) => cosine(0.01, t, T, 0.05)));
    expect(r.epochs.map((e) => e.learningRate)).toEqual([log.steps[2].rate, log.steps[5].rate, log.steps[8].rate]);
    // The rate decreases strictly and stays above the floor.
    for (let t = 1; t < T; t++) expect(log.steps[t].rate).toBeLessThan(log.steps[t - 1].rate);
    expect(log.steps[T - 1].rate).toBeGreaterThan(0.05 * 0.01);
    model.dispose();
  });

  it("step: ×gamma at the milestones (fractions of the run's steps)", async () => {
    const log = logged(() => tf.train.adam(0.02));
    const model = mlp({ hidden: 8, seed: 1 });
    await train(model, data, baseline({ epochs: 4 }), { batchSize: 40, seed: 1, optimizer: log.factory, lrSchedule: { kind: "step", milestones: [0.25, 0.5], gamma: 0.5 } });
    // T = 12: steps 0–2 at base, 3–5 at base/2, 6–11 at base/4.
    expect(log.steps.map((s) => s.rate)).toEqual([...Array(3).fill(0.02), ...Array(3).fill(0.01), ...Array(6).fill(0.005)]);
    model.dispose();
  });

  it("across a decomposition with warm-up: the rebuilt optimizer ramps to the scheduled rate, then follows the schedule", async () => {
    const log = logged(() => tf.train.adam(0.04));
    const model = mlp({ hidden: 24, seed: 1 });
    const n0 = tf.memory().numTensors;
    const r = await train(model, data, decomposeAtEpoch({ epochs: 4, at: 1, plan: { ranks: { fc1: 5 } } }), { batchSize: 40, seed: 1, optimizer: log.factory, warmupSteps: 4, lrSchedule: { kind: "cosine" } });
    const T = 4 * SPE, N = 4, changed = SPE;
    const expected = Array.from({ length: T }, (_, t) => {
      const target = cosine(0.04, t, T);
      return t >= changed && t - changed < N ? target * (t - changed + 1) / N : target;
    });
    close(log.steps.map((s) => s.rate), expected);
    // Steps 0–2 by the first optimizer, 3–11 by the rebuilt one (continuing at the scheduled rate, not at 0.04).
    expect(log.steps.map((s) => s.optimizer)).toEqual([0, 0, 0, ...Array(9).fill(1)]);
    expect(log.steps[changed + N].rate).toBeLessThan(0.04 * 0.6);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });

  it("across the auto schedule's switch and reconstruction (two rebuilt optimizers), with warm-up and the low-rank part at 3×", async () => {
    const log = logged(() => tf.train.adam(0.01));
    const model = mlp({ hidden: 32, seed: 3 });
    const r = await train(model, data, auto({ epochs: 4, switchAt: 1, reconstructAt: 3, lowRankLrScale: 3 }), { batchSize: 40, seed: 3, optimizer: log.factory, warmupSteps: 2, lrSchedule: { kind: "cosine", minFactor: 0.1 } });
    expect(r.epochs.map((e) => e.label)).toEqual(["full-rank", "low-rank", "low-rank", "reconstructed"]);
    const T = 4 * SPE, N = 2, changes = [SPE, 3 * SPE];
    const expected = Array.from({ length: T }, (_, t) => {
      const target = cosine(0.01, t, T, 0.1) * (t >= SPE && t < 3 * SPE ? 3 : 1);
      const c = changes.filter((x) => x <= t).at(-1);
      return c !== undefined && t - c < N ? target * (t - c + 1) / N : target;
    });
    close(log.steps.map((s) => s.rate), expected);
    expect(log.steps.map((s) => s.optimizer)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
    r.model.dispose(); model.dispose();
  });

  it("SGD (its rate kept as a tensor) follows the schedule; no tensors leak", async () => {
    const log = logged(() => tf.train.sgd(0.1));
    const model = mlp({ hidden: 8, seed: 1 });
    const n0 = tf.memory().numTensors;
    await train(model, data, baseline({ epochs: 2 }), { batchSize: 40, seed: 1, optimizer: log.factory, lrSchedule: { kind: "cosine" } });
    close(log.steps.map((s) => s.rate), Array.from({ length: 6 }, (_, t) => cosine(0.1, t, 6)));
    expect(tf.memory().numTensors).toBe(n0);
    // The update used the scheduled rate: with every step at the base rate the weights differ.
    const plain = mlp({ hidden: 8, seed: 1 });
    await train(plain, data, baseline({ epochs: 2 }), { batchSize: 40, seed: 1, optimizer: () => tf.train.sgd(0.1) });
    expect(weightsOf(model)[0]).not.toEqual(weightsOf(plain)[0]);
    model.dispose(); plain.dispose();
  });

  it("none (or no option, or a factor that stays 1) leaves the rates and the weights bitwise as without a schedule", async () => {
    const runOnce = async (extra: Partial<TrainOptions>) => {
      const log = logged(() => tf.train.adam(0.04));
      const model = mlp({ hidden: 24, seed: 2 });
      const r = await train(model, data, decomposeAtEpoch({ epochs: 3, at: 1, plan: { ranks: { fc1: 5 } } }), { batchSize: 40, seed: 2, optimizer: log.factory, warmupSteps: 4, ...extra });
      const out = { rates: log.steps.map((s) => s.rate), weights: weightsOf(r.model), losses: r.epochs.map((e) => e.loss), recorded: r.epochs.map((e) => e.learningRate) };
      r.model.dispose(); model.dispose();
      return out;
    };
    const plain = await runOnce({});
    // The warm-up's ramp exactly as before schedules existed: base·(k+1)/N, then base.
    expect(plain.rates).toEqual([0.04, 0.04, 0.04, 0.04 * 1 / 4, 0.04 * 2 / 4, 0.04 * 3 / 4, 0.04, 0.04, 0.04]);
    expect(plain.recorded).toEqual([undefined, undefined, undefined]);
    for (const s of [{ kind: "none" }, { kind: "step", milestones: [0.5], gamma: 1 }, { kind: "cosine", minFactor: 1 }] as LrSchedule[]) {
      const o = await runOnce({ lrSchedule: s });
      expect(o.rates, s.kind).toEqual(plain.rates);
      expect(o.losses, s.kind).toEqual(plain.losses);
      expect(o.weights, s.kind).toEqual(plain.weights);
    }
  });

  it("rejects bad schedules and optimizers without a numeric rate, naming the field and what was expected", async () => {
    const bad: [unknown, RegExp][] = [
      [{ kind: "linear" }, /lrSchedule\.kind = "linear"; expected one of none, cosine, step/],
      ["cosine", /lrSchedule = cosine; expected an object/],
      [null, /lrSchedule = null; expected an object/],
      [{ kind: "cosine", minFactor: 2 }, /lrSchedule\.minFactor = 2; expected a number in \[0, 1\]/],
      [{ kind: "cosine", minFactor: NaN }, /lrSchedule\.minFactor = NaN/],
      [{ kind: "step", gamma: 0 }, /lrSchedule\.gamma = 0; expected a number in \(0, 1\]/],
      [{ kind: "step", milestones: [0.75, 0.5] }, /lrSchedule\.milestones = \[0\.75,0\.5\]; expected a non-empty, strictly increasing list of fractions/],
      [{ kind: "step", milestones: [] }, /lrSchedule\.milestones = \[\]/],
      [{ kind: "step", milestones: [1] }, /lrSchedule\.milestones = \[1\]/],
    ];
    const n0 = tf.memory().numTensors;
    const model = mlp({ hidden: 8, seed: 1 });
    for (const [s, re] of bad) {
      const p = train(model, data, baseline({ epochs: 1 }), { batchSize: 40, lrSchedule: s as LrSchedule });
      await expect(p).rejects.toThrow(re);
      await expect(p).rejects.toBeInstanceOf(OdecompError);
    }
    const noRate = () => { const o = tf.train.adam(0.01); (o as unknown as { learningRate: unknown }).learningRate = "fast"; return o; };
    await expect(train(model, data, baseline({ epochs: 1 }), { batchSize: 40, optimizer: noRate, lrSchedule: { kind: "cosine" } }))
      .rejects.toThrow(/lrSchedule cosine needs an optimizer with a positive numeric learningRate; got fast/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});
