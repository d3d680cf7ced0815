// Train phase: `epochs` epochs of the custom loop on the current model, the hooks around every step and
// epoch (warm-up, fading, early stopping and the caller's), then a point (rank, accuracy) for
// predictRank when the factorized pairs share a rank.
import { check } from "../../core/errors.ts";
import { findSvdPairs } from "../factorize.ts";
import { trainEpoch } from "../loop.ts";
import { forwardFlops } from "../models.ts";
import type { EpochRecord } from "../schedule.ts";
import { where, type PhaseRunner } from "./run.ts";

export const trainPhase: PhaseRunner<"train"> = {
  validate(p, at) {
    check(Number.isInteger(p.epochs) && p.epochs >= 0, where, () => `${at}: epochs = ${p.epochs}; expected an integer ≥ 0`);
    if (p.fading) check(Number.isInteger(p.fading.rank) && p.fading.rank >= 1, where, () => `${at}: fading.rank = ${p.fading!.rank}; expected a positive integer`);
    if (p.earlyStop) check(Number.isFinite(p.earlyStop.threshold) && p.earlyStop.threshold >= 0, where, () => `${at}: earlyStop.threshold = ${p.earlyStop!.threshold}; expected a number ≥ 0`);
  },
  async run(phase, run) {
    const label = phase.label ?? phase.kind, phaseStep0 = run.step, trainCount = run.data.train.count;
    let accuracy = NaN, ran = 0, stoppedEarly: boolean | undefined;
    for (let e = 0; e < phase.epochs; e++) {
      const e0 = performance.now();
      const r = await trainEpoch(run.model, run.data.train, {
        optimizer: run.optimizer, batchSize: run.batchSize, seed: run.seed, epoch: run.epoch, layout: run.layout, step: run.step,
        ...run.hooks.stepCallbacks(run.context(), phaseStep0),
      });
      const trainSeconds = (performance.now() - e0) / 1000;
      run.step = r.step;
      const v0 = performance.now();
      accuracy = await run.evaluate();
      const evalSeconds = (performance.now() - v0) / 1000;
      run.epoch++; ran++;
      const fwd = forwardFlops(run.model);
      const record: EpochRecord = { epoch: run.epoch, phase: run.phaseIndex, label, loss: r.loss, accuracy, trainSeconds, evalSeconds, params: run.model.countParams(), forwardFlops: fwd, trainFlops: 3 * fwd * trainCount };
      const stop = await run.hooks.epochEnd(record, { ...run.context(), phaseEpoch: e });
      run.epochs.push(record);
      await run.options.onEpochEnd?.(record);
      if (stop) { stoppedEarly = true; break; }
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
