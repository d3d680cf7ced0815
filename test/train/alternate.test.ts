// The epoch-alternated harness: the runs take turns epoch by epoch, only one computes at a time, and
// each run's losses, accuracies and weights are bitwise those of the same run alone — the alternation
// shares no state between the runs (tf scopes, kernel scratch memory, seeds, augmentation draws).
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { mlp, vggCnn } from "../../src/train/models.ts";
import { auto, baseline, decomposeAtEpoch, train, type Schedule, type TrainOptions } from "../../src/train/schedule.ts";
import { epochRatios, trainAlternated } from "../../src/train/alternate.ts";
import type { TrainHook } from "../../src/train/hooks/hook.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await registerWasmKernels(); await tf.setBackend("wasm"); });

const data = toyImages(3);
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
const summary = (r: { epochs: { loss: number; accuracy: number }[]; model: { getWeights(): tf.Tensor[] } }) =>
  ({ losses: r.epochs.map((e) => e.loss), accuracies: r.epochs.map((e) => e.accuracy), weights: weightsOf(r.model) });

const cnnDecompose = (): Schedule => decomposeAtEpoch({ epochs: 3, at: 1, plan: { ranks: { conv2_1: [4, 4], fc1: [8] }, skip: ["conv1_1", "conv1_2", "conv2_2", "fc2"] } });
const opts = (seed: number, extra: Partial<TrainOptions> = {}): TrainOptions => ({ batchSize: 8, seed, optimizer: () => tf.train.adam(1e-3), warmupSteps: 2, ...extra });

describe("trainAlternated", () => {
  it("alternates epoch by epoch, and each run is bitwise identical to running it alone (CNN baseline vs decompose-at, augmented)", async () => {
    const n0 = tf.memory().numTensors;
    const aug = { augment: { pad: 2, flip: true } };
    const alone = async (schedule: Schedule, seed: number) => {
      const m = vggCnn({ seed });
      const r = await train(m, data, schedule, opts(seed, aug));
      const s = summary(r);
      if (r.model !== m) r.model.dispose();
      m.dispose();
      return s;
    };
    const soloBase = await alone(baseline({ epochs: 3 }), 1), soloDec = await alone(cnnDecompose(), 1);

    const mb = vggCnn({ seed: 1 }), md = vggCnn({ seed: 1 });
    // The step hooks see which run is computing: every step of a turn belongs to the run holding it.
    const steps: string[] = [];
    const spy = (name: string): TrainHook => ({ afterStep: () => { steps.push(name); } });
    const r = await trainAlternated(data, [
      { name: "baseline", model: mb, schedule: baseline({ epochs: 3 }), options: opts(1, { ...aug, hooks: [spy("b")] }) },
      { name: "decomposed", model: md, schedule: cnnDecompose(), options: opts(1, { ...aug, hooks: [spy("d")] }) },
    ]);
    expect(r.order).toEqual([[0, 1], [1, 1], [0, 2], [1, 2], [0, 3], [1, 3]]);
    // Every epoch's steps in one unbroken turn.
    const k = Math.ceil(data.train.count / 8);
    expect(steps.join("")).toBe(("b".repeat(k) + "d".repeat(k)).repeat(3));
    const [b, d] = r.runs;
    expect(d.result.model.layers.map((l) => l.name)).toContain("conv2_1__odc_tucker2_1");
    expect(summary(b.result)).toEqual(soloBase); // toEqual on numbers is Object.is: bitwise
    expect(summary(d.result)).toEqual(soloDec);
    // Held time: one turn per epoch plus the closing one; the decomposition lies in the decomposed run's turns.
    expect(b.turns.length).toBe(4);
    expect(d.turns.length).toBe(4);
    expect(d.heldSeconds).toBeGreaterThanOrEqual(d.result.trainSeconds);
    expect(d.heldSeconds).toBeLessThanOrEqual(r.totalSeconds);
    expect(b.heldSeconds + d.heldSeconds).toBeLessThanOrEqual(r.totalSeconds + 1e-3);
    const ratios = epochRatios(b.result, d.result);
    expect(ratios.map((x) => x.label)).toEqual(["original", "decomposed", "decomposed"]);
    expect(ratios[1].ratio).toBeCloseTo(b.result.epochs[1].trainSeconds / d.result.epochs[1].trainSeconds, 12);
    d.result.model.dispose();
    mb.dispose(); md.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  }, 60_000);

  it("the auto schedule (switch, per-layer plan by FLOPs, Frobenius decay) alternated is bitwise the auto schedule alone", async () => {
    const schedule = () => auto({ epochs: 3, switchAt: 1 });
    const m0 = vggCnn({ seed: 2 });
    const solo = await train(m0, data, schedule(), opts(2));
    const s0 = summary(solo);
    const layers = solo.model.layers.map((l) => l.name);
    solo.model.dispose(); m0.dispose();
    const mb = vggCnn({ seed: 2 }), ma = vggCnn({ seed: 2 });
    const r = await trainAlternated(data, [
      { name: "baseline", model: mb, schedule: baseline({ epochs: 3 }), options: opts(2) },
      { name: "auto", model: ma, schedule: schedule(), options: opts(2) },
    ]);
    const a = r.runs[1].result;
    expect(a.auto?.switchEpoch).toBe(1);
    expect(a.model.layers.map((l) => l.name)).toEqual(layers);
    expect(layers.some((n) => n.includes("__odc_"))).toBe(true);
    expect(summary(a)).toEqual(s0);
    a.model.dispose(); mb.dispose(); ma.dispose();
  }, 60_000);

  it("a run with fewer epochs leaves the rotation and the others go on; three runs rotate in list order", async () => {
    const ms = [1, 2, 3].map((seed) => mlp({ seed, hidden: 8 }));
    const r = await trainAlternated(data, [
      { name: "a", model: ms[0], schedule: baseline({ epochs: 3 }), options: opts(1) },
      { name: "b", model: ms[1], schedule: baseline({ epochs: 1 }), options: opts(2) },
      { name: "c", model: ms[2], schedule: baseline({ epochs: 2 }), options: opts(3) },
    ]);
    expect(r.order).toEqual([[0, 1], [1, 1], [2, 1], [0, 2], [2, 2], [0, 3]]);
    expect(r.runs.map((x) => x.result.epochs.length)).toEqual([3, 1, 2]);
    ms.forEach((m) => m.dispose());
  }, 30_000);

  it("a failing run does not stall the others; the error is thrown after they finish", async () => {
    const ms = [1, 2].map((seed) => mlp({ seed, hidden: 8 }));
    const boom: TrainHook = { epochEnd: (rec) => { if (rec.epoch === 1) throw new Error("planted failure"); } };
    let finished = 0;
    await expect(trainAlternated(data, [
      { name: "fails", model: ms[0], schedule: baseline({ epochs: 3 }), options: opts(1, { hooks: [boom] }) },
      { name: "goes on", model: ms[1], schedule: baseline({ epochs: 3 }), options: opts(2, { onEpochEnd: () => { finished++; } }) },
    ])).rejects.toThrow(/planted failure/);
    expect(finished).toBe(3);
    await expect(trainAlternated(data, [])).rejects.toThrow(/runs has 0 entries; expected at least one/);
    ms.forEach((m) => m.dispose());
  }, 30_000);
});
