// finetune and evaluate of odecomp/train proxied through the worker (Node worker_threads, the .ts entry
// via tsx): same figures as in-process, progress per step, the caller's model untouched.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { createWorker, type OdecompWorker } from "../../src/worker/index.ts";
import { evaluateModel } from "../../src/train/evaluate.ts";
import { smallCnn, stripesSet } from "../train/fixtures.ts";

let w: OdecompWorker;
beforeAll(async () => { await tf.setBackend("cpu"); w = await createWorker(); }, 60_000);
afterAll(async () => { await w?.terminate(); });

describe("worker finetune / evaluate", () => {
  it("evaluate equals in-process; finetune reports each step and returns a better model, the input untouched", async () => {
    const train = stripesSet(48, 4, 71), test = stripesSet(32, 4, 72);
    const m = smallCnn({ classes: 4, seed: 6 });
    const here = await evaluateModel(m, test, { teacher: m });
    const there = await w.evaluate(m, test, { teacher: m });
    expect(there.top1).toBe(here.top1);
    expect(there.agreement).toBe(1);
    const w0 = m.getWeights()[0].dataSync().slice();
    const steps: number[] = [];
    const r = await w.finetune(m, train, { epochs: 2, batchSize: 16, learningRate: 5e-3, test, onStep: (p) => steps.push(p.step) });
    expect(steps).toEqual([1, 2, 3, 1, 2, 3]);
    expect(r.result.epochs).toHaveLength(2);
    expect(r.result.final!.top1!).toBeGreaterThan(r.result.before!.top1!);
    expect((await evaluateModel(r.model, test)).top1).toBeCloseTo(r.result.final!.top1!, 10);
    expect(Array.from(m.getWeights()[0].dataSync())).toEqual(Array.from(w0));
    r.model.dispose(); m.dispose();
  }, 120_000);
});
