// Train phase: `epochs` epochs of the custom loop on the current model, the hooks around every step and
// epoch (warm-up, fading, early stopping and the caller's), then a point (rank, accuracy) for
// predictRank when the factorized pairs share a rank.
import * as tf from "@tensorflow/tfjs-core";
import { check } from "../../core/errors.ts";
import type { Batch } from "../batches.ts";
import { findSvdPairs } from "../factorize.ts";
import { trainEpoch, type EpochOptions } from "../loop.ts";
import { forwardFlops } from "../models.ts";
import type { EpochRecord } from "../schedule.ts";
import { where, type PhaseRunner, type ScheduleRun } from "./run.ts";

/**
 * One epoch of the custom loop on the run's model with the hooks around it: train, evaluate, record,
 * epochEnd hooks, onEpochEnd. `stop` is true when a hook asked to end the phase. `extra` adds step
 * callbacks after the hooks' (the auto phase measures stable ranks and adds Frobenius decay this way).
 * `split` trains the epoch in two parts around `between` (a mid-epoch switch): batches [0, at) with
 * `extra`, then `between()` (untimed: it may change the model and optimizer), then the rest of the
 * same epoch's order on the run's model as it then is, with `split.after`'s callbacks.
 */
export interface EpochSplit { at: number; between: () => Promise<void>; after?: Pick<EpochOptions, "penalty" | "onStep"> }

export async function runEpoch(run: ScheduleRun, label: string, phaseStep0: number, phaseEpoch: number, extra: Pick<EpochOptions, "penalty" | "onStep"> = {}, split?: EpochSplit): Promise<{ record: EpochRecord; stop: boolean }> {
  let trainMs = 0, lossSum = 0, steps = 0, trainFlops = 0;
  const part = async (callbacks: Pick<EpochOptions, "penalty" | "onStep">, batches?: [number, number]) => {
    const t0 = performance.now();
    const cb = run.hooks.stepCallbacks(run.context(), phaseStep0);
    const penalty = cb.penalty && callbacks.penalty
      ? (s: number, b: Batch, p: tf.Tensor) => { const x = cb.penalty!(s, b, p), y = callbacks.penalty!(s, b, p); return x && y ? tf.add(x, y) as tf.Scalar : x ?? y; }
      : cb.penalty ?? callbacks.penalty;
    const onStep = cb.onStep && callbacks.onStep ? (s: number, b: Batch) => { cb.onStep!(s, b); callbacks.onStep!(s, b); } : cb.onStep ?? callbacks.onStep;
    const r = await trainEpoch(run.model, run.data.train, {
      optimizer: run.optimizer, batchSize: run.batchSize, seed: run.seed, epoch: run.epoch, layout: run.layout, preprocess: run.preprocess, augment: run.options.augment, step: run.step,
      beforeStep: cb.beforeStep, penalty, onStep, batches,
    });
    trainMs += performance.now() - t0;
    run.step = r.step;
    lossSum += r.loss * r.steps; steps += r.steps;
    const [from, to] = batches ?? [0, Infinity], n = run.data.train.count;
    trainFlops += 3 * forwardFlops(run.model) * Math.max(0, Math.min(n, to * run.batchSize) - Math.min(n, from * run.batchSize));
  };
  if (split) {
    await part(extra, [0, split.at]);
    await split.between();
    await part(split.after ?? {}, [split.at, Infinity]);
  } else {
    await part(extra);
  }
  const loss = lossSum / Math.max(1, steps), trainSeconds = trainMs / 1000;
  const v0 = performance.now();
  const accuracy = await run.evaluate();
  const evalSeconds = (performance.now() - v0) / 1000;
  run.epoch++;
  const fwd = forwardFlops(run.model);
  const record: EpochRecord = { epoch: run.epoch, phase: run.phaseIndex, label, loss, accuracy, trainSeconds, evalSeconds, params: run.model.countParams(), forwardFlops: fwd, trainFlops };
  const stop = await run.hooks.epochEnd(record, { ...run.context(), phaseEpoch });
  run.epochs.push(record);
  await run.options.onEpochEnd?.(record);
  return { record, stop };
}

export const trainPhase: PhaseRunner<"train"> = {
  validate(p, at) {
    check(Number.isInteger(p.epochs) && p.epochs >= 0, where, () => `${at}: epochs = ${p.epochs}; expected an integer ≥ 0`);
    if (p.fading) check(Number.isInteger(p.fading.rank) && p.fading.rank >= 1, where, () => `${at}: fading.rank = ${p.fading!.rank}; expected a positive integer`);
    if (p.earlyStop) check(Number.isFinite(p.earlyStop.threshold) && p.earlyStop.threshold >= 0, where, () => `${at}: earlyStop.threshold = ${p.earlyStop!.threshold}; expected a number ≥ 0`);
  },
  async run(phase, run) {
    const label = phase.label ?? phase.kind, phaseStep0 = run.step;
    let accuracy = NaN, ran = 0, stoppedEarly: boolean | undefined;
    for (let e = 0; e < phase.epochs; e++) {
      const r = await runEpoch(run, label, phaseStep0, e);
      accuracy = r.record.accuracy; ran++;
      if (r.stop) { stoppedEarly = true; break; }
    }
    if (ran === 0) accuracy = await run.evaluate();
    const rank = ran > 0 ? run.commonRank(findSvdPairs(run.model)) : null;
    if (rank !== null) {
      const i = run.rankPoints.findIndex((p) => p.rank === rank);
      if (i >= 0) run.rankPoints.splice(i, 1);
      run.rankPoints.push({ rank, accuracy });
    }
    return { accuracy, epochs: ran, stoppedEarly };
  },
};
