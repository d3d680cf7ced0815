// The schedules of train() on a user model: a small functional RGB CNN with BatchNorm and Dropout
// and a logits output (trained through softmax cross-entropy), on RGB images.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { train, decomposeAtEpoch, pretrain, fading, incrementalDecompose, baseline } from "../../src/train/index.ts";
import { smallCnn, smallSeqCnn, stripesSet } from "./fixtures.ts";
import { evaluateModel } from "../../src/train/evaluate.ts";
import type { Preprocess, PreprocessPreset } from "../../src/data/preprocess.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

const data = () => ({ train: stripesSet(64, 4, 51), test: stripesSet(32, 4, 52) });
const opts = { batchSize: 16, optimizer: () => tf.train.adam(5e-3), evalBatchSize: 32 };

describe("schedules on a user model (functional RGB CNN with BatchNorm, logits output)", () => {
  it("decompose-at with reconstruct: layers factorized then folded back; learns; no tensor leak", async () => {
    const n0 = tf.memory().numTensors;
    const m = smallCnn({ classes: 4, seed: 3, logits: true });
    const r = await train(m, data(), decomposeAtEpoch({ epochs: 3, at: 1, reconstructAt: 2, plan: { select: { kind: "budget", keep: 0.5, metric: "params" } } }), opts);
    expect(r.phases.map((p) => p.kind)).toEqual(["train", "decompose", "train", "reconstruct", "train"]);
    const dec = r.phases.find((p) => p.kind === "decompose")!;
    expect(dec.paramsAfter).toBeLessThan(dec.paramsBefore);
    expect(r.final.params).toBe(m.countParams()); // folded back to the original architecture
    expect(r.final.accuracy).toBeGreaterThan(0.5);
    if (r.model !== m) r.model.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("baseline and incremental run on it; pretrain and fading on its Sequential twin (factorizeDense needs Sequential)", async () => {
    const runs = [
      baseline({ epochs: 1 }),
      pretrain({ epochs: 1, rank: 4, layers: ["fc1"] }),
      fading({ rank: 4, fadeEpochs: 1, fineTuneEpochs: 1, layers: ["fc1"], fromRank: 32 }),
      incrementalDecompose({ steps: [{ select: { kind: "budget", keep: 0.7, metric: "params" } }, { select: { kind: "budget", keep: 0.5, metric: "params" } }], fineTuneEpochs: 1 }),
    ];
    for (const s of runs) {
      const m = s.name.startsWith("pretrain") || s.name.startsWith("fading") ? smallSeqCnn({ classes: 4, seed: 4 }) : smallCnn({ classes: 4, seed: 4 });
      const r = await train(m, data(), s, opts);
      expect(r.epochs.length, s.name).toBeGreaterThan(0);
      expect(Number.isFinite(r.final.accuracy), s.name).toBe(true);
      if (r.model !== m) r.model.dispose();
      m.dispose();
    }
  });

  it("options.preprocess maps pixels in training and evaluation: meanStd(0, 1) is the default byte/255 exactly, mobilenet trains differently and its accuracy is the model's under that mapping", async () => {
    const run = async (preprocess?: Preprocess | PreprocessPreset) => {
      const m = smallCnn({ classes: 4, seed: 6 });
      const r = await train(m, data(), baseline({ epochs: 1 }), { ...opts, seed: 2, preprocess });
      const w = r.model.getWeights().map((t) => Array.from(t.dataSync()));
      const ev = await evaluateModel(r.model, data().test, { preprocess });
      if (r.model !== m) r.model.dispose();
      m.dispose();
      return { w, acc: r.final.accuracy, top1: ev.top1 };
    };
    const unit = await run(), same = await run({ kind: "meanStd", mean: [0], std: [1] }), sym = await run("mobilenet");
    expect(same.w).toEqual(unit.w);
    expect(sym.w[0]).not.toEqual(unit.w[0]);
    for (const r of [unit, sym]) expect(r.acc).toBeCloseTo(r.top1!, 10);
    await expect(train(smallCnn({ classes: 4 }), data(), baseline({ epochs: 1 }), { ...opts, preprocess: "bogus" as never })).rejects.toThrow(/unknown preset 'bogus'; expected one of unit, mobilenet, imagenet/);
  });
});
