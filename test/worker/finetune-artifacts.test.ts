// finetuneArtifacts / evaluateArtifacts of the worker client (what the demo page calls: no tfjs on the
// caller's side): same figures as the LayersModel forms, each step's training loss in the progress events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { createWorker, type OdecompWorker } from "../../src/worker/index.ts";
import { artifactsToModel, modelToArtifacts } from "../../src/models/convert.ts";
import { evaluateModel } from "../../src/train/evaluate.ts";
import { smallCnn, stripesSet } from "../train/fixtures.ts";

let w: OdecompWorker;
beforeAll(async () => { await tf.setBackend("cpu"); w = await createWorker(); }, 60_000);
afterAll(async () => { await w?.terminate(); });

describe("worker finetuneArtifacts / evaluateArtifacts", () => {
  it("evaluate on artifacts equals in-process; finetune on artifacts reports per-step losses and returns artifacts", async () => {
    const train = stripesSet(48, 4, 81), test = stripesSet(32, 4, 82);
    const m = smallCnn({ classes: 4, seed: 9 });
    const a = await modelToArtifacts(m);
    const here = await evaluateModel(m, test, { teacher: m });
    const there = await w.evaluateArtifacts(a, test, {}, a);
    expect(there.top1).toBe(here.top1);
    expect(there.agreement).toBe(1);
    const steps: { step: number; loss: number }[] = [];
    const r = await w.finetuneArtifacts(a, train, { epochs: 2, batchSize: 16, learningRate: 5e-3, test, onStep: (p) => steps.push({ step: p.step, loss: p.loss }) });
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 1, 2, 3]);
    for (const s of steps) expect(Number.isFinite(s.loss) && s.loss > 0).toBe(true);
    // the epoch's mean loss is the mean of its steps' losses
    expect(r.result.epochs[0].loss).toBeCloseTo((steps[0].loss + steps[1].loss + steps[2].loss) / 3, 4);
    const tuned = await artifactsToModel(r.artifacts);
    expect((await evaluateModel(tuned, test)).top1).toBeCloseTo(r.result.final!.top1!, 10);
    // with a teacher given as artifacts: label-free distillation runs and agreement is reported
    const unlabeled = { ...test, labels: null, classes: 0, classNames: undefined };
    const d = await w.evaluateArtifacts(r.artifacts, unlabeled, {}, a);
    expect(d.top1).toBeNull();
    expect(d.agreement!).toBeGreaterThanOrEqual(0);
    expect(d.agreement!).toBeLessThanOrEqual(1);
    tuned.dispose(); m.dispose();
  }, 120_000);
});
