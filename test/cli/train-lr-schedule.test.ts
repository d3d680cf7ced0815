// --lr-schedule of `odecomp train` and the main job: the parsed schedule, usage errors (exit 2, naming the
// flag and the accepted values), and a tiny run whose per-epoch rates follow the cosine decay.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { lrScheduleFlag } from "../../src/cli/train.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run, tmp } from "./helpers.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

describe("--lr-schedule", () => {
  it("parses none, cosine[:min] and step[:milestones[:gamma]]", () => {
    expect(lrScheduleFlag(undefined)).toEqual({ kind: "none" });
    expect(lrScheduleFlag("none")).toEqual({ kind: "none" });
    expect(lrScheduleFlag("cosine")).toEqual({ kind: "cosine" });
    expect(lrScheduleFlag("cosine:0.05")).toEqual({ kind: "cosine", minFactor: 0.05 });
    expect(lrScheduleFlag("step")).toEqual({ kind: "step" });
    expect(lrScheduleFlag("step:0.3,0.6")).toEqual({ kind: "step", milestones: [0.3, 0.6] });
    expect(lrScheduleFlag("step:0.3,0.6:0.5")).toEqual({ kind: "step", milestones: [0.3, 0.6], gamma: 0.5 });
    for (const bad of ["linear", "", "cosine:2", "cosine:x", "cosine:0.1:3", "step:0.6,0.3", "step:", "step:0.5:0", "step:0.5:1.5", "none:1"]) {
      expect(() => lrScheduleFlag(bad), bad).toThrow(UsageError);
    }
    expect(() => lrScheduleFlag("cosine:x")).toThrow(/--lr-schedule is 'cosine:x' \('x' is not a number\); expected none, cosine, cosine:<final factor in \[0, 1\]>, step/);
  });

  it.each([
    [["train", "--lr-schedule", "linear"], /--lr-schedule is 'linear'; expected none, cosine, cosine:<final factor in \[0, 1\]>, step or step:</],
    [["train", "--lr-schedule", "step:0.9,0.2"], /--lr-schedule is 'step:0.9,0.2'; expected/],
    [["main", "--lr-schedule", "cosine:5"], /--lr-schedule is 'cosine:5'; expected/],
  ] as const)("%j → exit 2", async (argv, msg) => {
    const r = await run(...argv, "--quiet");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  it("train --lr-schedule cosine: the epochs' last-step rates follow the decay; the JSON records the schedule", async () => {
    const r = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "decompose-at", "--epochs", "3", "--at", "1", "--budget", "0.3",
      "--train-per-class", "4", "--test-per-class", "2", "--batch-size", "20", "--lr", "0.002", "--warmup", "1", "--lr-schedule", "cosine:0.1", "--backend", "cpu", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.lrSchedule).toEqual({ kind: "cosine", minFactor: 0.1 });
    // 40 images at batch 20: 2 steps per epoch, T = 6; each epoch's last step is t = 1, 3, 5.
    const expected = [1, 3, 5].map((t) => 0.002 * (0.1 + 0.9 * (1 + Math.cos(Math.PI * t / 6)) / 2));
    const got = j.epochs.map((e: { learningRate: number }) => e.learningRate);
    got.forEach((x: number, i: number) => expect(x).toBeCloseTo(expected[i], 12));
    const plain = await run("train", "--dataset", "mnist", "--model", "mlp", "--epochs", "1", "--train-per-class", "4", "--test-per-class", "2", "--backend", "cpu", "--json");
    expect(plain.code, plain.err).toBe(0);
    const p = JSON.parse(plain.out);
    expect(p.lrSchedule).toEqual({ kind: "none" });
    expect(p.epochs[0].learningRate).toBeUndefined();
  });

  it("main --lr-schedule step: the baseline and the accelerated run follow the same schedule (the low-rank part at --low-rank-lr ×); results.json records it", async () => {
    const out = join(tmp(), "out");
    const r = await run("main", "--out", out, "--model", "mlp", "--epochs", "4", "--at", "1", "--train-per-class", "3", "--test-per-class", "2", "--batch-size", "10",
      "--budget", "0.3", "--warmup", "0", "--lr-schedule", "step:0.5:0.5", "--low-rank-lr", "2.5", "--backend", "cpu", "--quiet");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(j.lrSchedule).toEqual({ kind: "step", milestones: [0.5], gamma: 0.5 });
    const rates = (x: { epochs: { learningRate: number }[] }) => x.epochs.map((e) => e.learningRate);
    // 30 images at batch 10: 3 steps per epoch, T = 12; the rate (main's default 2e-3) halves from step 6 (epoch 3) on.
    expect(rates(j.baseline)).toEqual([0.002, 0.002, 0.001, 0.001]);
    // switched after epoch 1: the rest at 2.5× the scheduled rate
    expect(rates(j.accelerated)).toEqual([0.002, 0.005, 0.0025, 0.0025].map((x) => expect.closeTo(x, 12)));
  });
});
