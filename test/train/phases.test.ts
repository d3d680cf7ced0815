import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../src/core/loader.ts";
import { mlp } from "../../src/train/models.ts";
import { phaseKinds, phaseRunners } from "../../src/train/phases/index.ts";
import { auto, baseline, decomposeAtEpoch, fading, incremental, incrementalDecompose, incrementalPredicted, pretrain, train, type Phase } from "../../src/train/schedule.ts";
import { toyImages } from "../helpers/images.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

const data = toyImages(14);
const opts = { batchSize: 40, seed: 1, optimizer: () => tf.train.adam(0.01) };

describe("phase table", () => {
  it("has one runner (validate + run) for every phase kind of the Phase union", () => {
    // Written out by hand on purpose: a kind added to the union but not the table (or the reverse) fails here.
    const all: Phase["kind"][] = ["train", "factorize", "truncate", "predictRank", "decompose", "reconstruct", "auto"];
    expect([...phaseKinds].sort()).toEqual([...all].sort());
    for (const kind of phaseKinds) {
      expect(typeof phaseRunners[kind].validate, kind).toBe("function");
      expect(typeof phaseRunners[kind].run, kind).toBe("function");
    }
  });

  it("covers every kind the builders emit", () => {
    const schedules = [
      baseline({ epochs: 1 }), pretrain({ epochs: 1, rank: 2, layers: ["fc1"] }),
      fading({ rank: 2, fromRank: 4, layers: ["fc1"], fadeEpochs: 1, fineTuneEpochs: 1 }),
      incremental({ ranks: [4, 2], fineTuneEpochs: 1, fadeEpochs: 1 }),
      incrementalPredicted({ target: 0.5, steps: 1, fineTuneEpochs: 1, warmEpochs: 1 }),
      incrementalDecompose({ steps: [{}, {}], fineTuneEpochs: 1 }),
      decomposeAtEpoch({ epochs: 3, at: 1, reconstructAt: 2 }),
      auto({ epochs: 2 }),
    ];
    const used = new Set(schedules.flatMap((s) => s.phases.map((p) => p.kind)));
    expect([...used].sort()).toEqual([...phaseKinds].sort());
  });

  it("rejects an unknown kind before training, listing every kind from the table", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    let epochs = 0;
    const bad = { name: "x", phases: [{ kind: "train", epochs: 1 } as Phase, { kind: "prune" } as unknown as Phase] };
    const err = await train(model, data, bad, { ...opts, onEpochEnd: () => { epochs++; } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`train: phase 1 (prune): unknown phase kind; expected one of ${phaseKinds.join(", ")}`);
    for (const kind of phaseKinds) expect((err as Error).message).toContain(kind);
    expect((err as Error).message).toContain("predictRank");
    expect(epochs).toBe(0);
    // A name inherited from Object.prototype is no kind either.
    await expect(train(model, data, { name: "x", phases: [{ kind: "toString" } as unknown as Phase] }, opts)).rejects.toThrow(/phase 0 \(toString\): unknown phase kind/);
    model.dispose();
  });

  it("validates each kind through its runner", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    await expect(train(model, data, { name: "x", phases: [{ kind: "factorize", layers: ["fc1"], rank: 0 }] }, opts)).rejects.toThrow(/phase 0 \(factorize\): rank = 0; expected a positive integer/);
    await expect(train(model, data, { name: "x", phases: [{ kind: "train", epochs: 1 }, { kind: "predictRank", target: 2 }] }, opts)).rejects.toThrow(/phase 1 \(predictRank\): target = 2; expected an accuracy in \(0, 1\]/);
    model.dispose();
  });
});
