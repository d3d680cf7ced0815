// Auto phase (Cuttlefish-style): train full-rank while measuring every Dense/Conv2D layer's stable rank,
// switch when they have converged (or at `switchAt`, or at the cap), decide per layer by the cost model
// (src/train/auto.ts) and factorize through compress() (balanced factors, one rebuilt optimizer, the
// warm-up hook), train the rest of the epochs low-rank with Frobenius decay on the chains, optionally fold
// them back near the end. Every choice lands in the phase record's `auto`.
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../../core/errors.ts";
import { ready } from "../../core/loader.ts";
import { inspect } from "../../compress/compress.ts";
import { compress, reconstruct } from "../../models/compress.ts";
import { layerShapes, modelToArtifacts } from "../../models/convert.ts";
import { ACCURACY_DROP_WARN, checkConvergence, convergenceSettings, MIN_RECOVERY_EPOCHS, planSwitch, type AutoRecord, type ConvergenceCheck, type LayerTimer } from "../auto.ts";
import { batchCount, type Batch } from "../batches.ts";
import { frobeniusDecayHook } from "../hooks/frobenius.ts";
import type { LossContext } from "../hooks/hook.ts";
import { StableRankTracker, trackedLayers, type StableRankPoint } from "../hooks/stable-rank.ts";
import type * as tf from "@tensorflow/tfjs-core";
import { where, type PhaseRunner } from "./run.ts";
import { runEpoch } from "./train.ts";
import { shouldStop } from "../predictor.ts";

/** Real measurements a cost model has made so far (fittedTimer counts them; a FLOP model makes none). */
const timedCount = (t: LayerTimer | undefined): number => (t && "timed" in t && typeof t.timed === "function" ? t.timed() : 0);

/** Default steps between Frobenius-decay applications (at that many times λ): 1/4 of its cost (see frobeniusDecayHook). */
const DECAY_EVERY = 4;

export const autoPhase: PhaseRunner<"auto"> = {
  validate(p, at) {
    check(Number.isInteger(p.epochs) && p.epochs >= 1, where, () => `${at}: epochs = ${p.epochs}; expected a positive integer`);
    if (p.switchAt !== undefined) check(Number.isFinite(p.switchAt) && p.switchAt >= 0 && p.switchAt < p.epochs, where, () => `${at}: switchAt = ${p.switchAt}; expected an epoch in [0, ${p.epochs}) (a fraction switches within an epoch: 0.5 after half of the first)`);
    if (p.reconstructAt !== undefined) check(Number.isInteger(p.reconstructAt) && p.reconstructAt >= 1 && p.reconstructAt < p.epochs, where, () => `${at}: reconstructAt = ${p.reconstructAt}; expected an integer epoch in 1..${p.epochs - 1}`);
    if (p.frobeniusDecay !== undefined) check(Number.isFinite(p.frobeniusDecay) && p.frobeniusDecay >= 0, where, () => `${at}: frobeniusDecay = ${p.frobeniusDecay}; expected a number ≥ 0`);
    if (p.lowRankLrScale !== undefined) check(Number.isFinite(p.lowRankLrScale) && p.lowRankLrScale > 0, where, () => `${at}: lowRankLrScale = ${p.lowRankLrScale}; expected a number > 0 (the low-rank part's learning rate as a multiple of the run's)`);
    if (p.frobeniusDecayEvery !== undefined) check(Number.isInteger(p.frobeniusDecayEvery) && p.frobeniusDecayEvery >= 1, where, () => `${at}: frobeniusDecayEvery = ${p.frobeniusDecayEvery}; expected an integer ≥ 1`);
    check(p.stableRanks === undefined || typeof p.stableRanks === "function", where, () => `${at}: stableRanks must be a function (model, point) → ranks`);
    if (p.earlyStop) check(Number.isFinite(p.earlyStop.threshold) && p.earlyStop.threshold >= 0, where, () => `${at}: earlyStop.threshold = ${p.earlyStop!.threshold}; expected a number ≥ 0`);
    convergenceSettings(p.convergence ?? {}, p.epochs);
  },
  async run(phase, run) {
    // The switch needs the kernels anyway; loading them first also puts every stable-rank measurement on
    // the same (Gram) path, so a run's decisions never depend on whether something else loaded them.
    await ready();
    const settings = convergenceSettings(phase.convergence ?? {}, phase.epochs);
    const tracker = new StableRankTracker();
    const measure = phase.stableRanks ?? ((m: tfl.LayersModel) => tracker.measure(m, trackedLayers(m)));
    const spe = batchCount(run.data.train, run.batchSize);
    // switchAt = e + f: after f of epoch e + 1's steps (rounded to a step; 0 or all of them: at an epoch's end)
    let switchInt: number | undefined, split: { epoch: number; at: number } | null = null;
    if (phase.switchAt !== undefined) {
      const whole = Math.floor(phase.switchAt), k = Math.round((phase.switchAt - whole) * spe);
      // (in the last epoch a fraction rounding to all of its steps switches before its last step, not never)
      const at = k >= spe && whole + 1 >= phase.epochs ? spe - 1 : k;
      if (at <= 0) switchInt = whole;
      else if (at >= spe) switchInt = whole + 1;
      else split = { epoch: whole, at };
    }
    const epoch0 = run.epoch, phaseStep0 = run.step;
    const lambda = phase.frobeniusDecay ?? 0;
    const decayEvery = phase.frobeniusDecayEvery ?? DECAY_EVERY;
    const decay = frobeniusDecayHook(lambda, decayEvery);
    const rec: AutoRecord = {
      switchEpoch: null, switchStep: null, fullRankEpochs: 0, reason: "", stableRanks: [], plan: null, accuracyBefore: null, accuracyAfter: null,
      convergence: { ...settings, last: null }, frobeniusDecay: lambda, frobeniusDecayEvery: decayEvery, lowRankLrScale: phase.lowRankLrScale ?? 1, decayedChains: [], kernelErrors: {}, reconstructedAt: null, warnings: [],
      epochSeconds: { fullRank: [], lowRank: [], reconstructed: [], switched: [] }, switchSeconds: null,
      earlyStop: phase.earlyStop ? { predictions: [], stoppedAfter: null, finalAccuracy: NaN } : null,
    };
    const lowHistory: number[] = [];
    const point = (step: number) => {
      const epoch = epoch0 + (step - phaseStep0) / spe;
      const p: StableRankPoint = { epoch, step, ranks: { ...measure(run.model, { epoch, step }) } };
      rec.stableRanks.push(p);
    };
    // In-epoch measurement steps (1-based within the epoch); the epoch's end is measured after it.
    const marks = new Set(Array.from({ length: settings.perEpoch - 1 }, (_, j) => Math.round((j + 1) * spe / settings.perEpoch)).filter((k) => k >= 1 && k < spe));
    let state = "full" as "full" | "low" | "reconstructed", accuracy = NaN, ran = 0, stoppedEarly: boolean | undefined, last: ConvergenceCheck | null = null;

    const doSwitch = async (reason: string) => {
      rec.reason = reason;
      const into = (run.step - phaseStep0) / spe - (run.epoch - epoch0); // the fraction of the current epoch already trained
      rec.switchEpoch = run.epoch + into;
      rec.switchStep = run.step;
      rec.fullRankEpochs = run.epoch - epoch0 + into;
      const t0 = performance.now(), timed0 = timedCount(phase.plan?.timer);
      const ins = inspect(await modelToArtifacts(run.model), layerShapes(run.model));
      const stable = rec.stableRanks.at(-1)?.ranks ?? {};
      const plan = planSwitch(ins.candidates, ins.totalParams, stable, { ...phase.plan, batch: phase.plan?.batch ?? run.batchSize });
      rec.plan = plan;
      const t1 = performance.now();
      rec.switchSeconds = { plan: (t1 - t0) / 1000, factorize: 0, timings: timedCount(phase.plan?.timer) - timed0 };
      const fact = plan.decisions.filter((d) => d.action === "factorize");
      state = "low";
      if (fact.length === 0) { rec.reason += "; no layer pays to factorize, so the model stays dense"; return; }
      const left = phase.epochs - rec.fullRankEpochs;
      if (left < MIN_RECOVERY_EPOCHS) rec.warnings.push(`switched with ${left} of ${phase.epochs} epoch(s) left to fine-tune the factorized model (at least ${MIN_RECOVERY_EPOCHS} recommended): give more epochs, or switch earlier (switchAt, convergence.maxEpochs)`);
      const o = await run.changeArchitecture(async (model) => {
        const c = await compress(model, {
          ranks: Object.fromEntries(fact.map((d) => [d.layer, d.ranks])),
          methods: Object.fromEntries(fact.map((d) => [d.layer, d.method!])),
          skip: plan.decisions.filter((d) => d.action === "keep").map((d) => d.layer),
          ...(phase.plan?.decomposition ? { decomposition: phase.plan.decomposition } : {}),
        });
        for (const e of c.plan.entries) if (e.action === "factorize" && e.relError !== null) rec.kernelErrors[e.layer] = e.relError;
        return c.model;
      }, { lrScale: rec.lowRankLrScale });
      rec.switchSeconds.factorize = (performance.now() - t1) / 1000;
      rec.accuracyBefore = o.accuracyBefore;
      rec.accuracyAfter = o.accuracy;
      await decay.architectureChange!(run.context());
      rec.decayedChains = decay.chains().filter((c) => c.decayed).map((c) => c.layer);
    };

    if (switchInt === 0) await doSwitch("switchAt = 0: factorized before training");
    const lowPenalty = (step: number, batch: Batch, prediction: tf.Tensor) => decay.lossTerm!({ ...run.context(), step, phaseStep: step - phaseStep0, batch, prediction } as LossContext);
    for (let e = 0; e < phase.epochs; e++) {
      const label = state === "full" ? "full-rank" : state === "low" ? "low-rank" : "reconstructed";
      let inEpoch = 0;
      const onStep = state === "full" ? (done: number) => { inEpoch++; if (marks.has(inEpoch)) point(done); } : undefined;
      const penalty = state === "low" && lambda > 0 ? lowPenalty : undefined;
      if (state === "full" && e === 0 && rec.stableRanks.length === 0) point(run.step);
      const mid = state === "full" && split?.epoch === e ? split : null;
      const r = mid
        ? await runEpoch(run, "switch", phaseStep0, e, { onStep }, {
          at: mid.at,
          between: async () => { point(run.step); await doSwitch(`switchAt = ${phase.switchAt}: after ${mid.at} of epoch ${run.epoch + 1}'s ${spe} steps`); },
          after: { penalty: lambda > 0 ? lowPenalty : undefined },
        })
        : await runEpoch(run, label, phaseStep0, e, { onStep, penalty });
      accuracy = r.record.accuracy; ran++;
      (mid ? rec.epochSeconds.switched : state === "full" ? rec.epochSeconds.fullRank : state === "low" ? rec.epochSeconds.lowRank : rec.epochSeconds.reconstructed).push(r.record.trainSeconds);
      if (r.stop) { stoppedEarly = true; break; }
      const done = e + 1;
      if (state === "full") {
        point(run.step);
        last = checkConvergence(rec.stableRanks, settings.threshold, settings.window);
        rec.convergence.last = last;
        if (done >= phase.epochs) { rec.reason = `not converged within the ${phase.epochs} epochs: stayed full-rank`; break; }
        if (phase.switchAt !== undefined) {
          if (switchInt !== undefined && done >= switchInt) await doSwitch(`switchAt = ${phase.switchAt}`);
        } else if (done >= settings.minEpochs && last.converged) {
          await doSwitch(`stable ranks converged: every layer changed < ${(100 * settings.threshold).toPrecision(3)}% per measurement over the last ${settings.window} (largest ${(100 * last.maxChange).toPrecision(3)}%, ${last.layer})`);
        } else if (done >= settings.maxEpochs) {
          await doSwitch(`not converged by the cap (${settings.maxEpochs} full-rank epochs; largest change ${(100 * last.maxChange).toPrecision(3)}% of '${last.layer}' against ${(100 * settings.threshold).toPrecision(3)}%)`);
        }
      } else if (state === "low" && phase.earlyStop && rec.earlyStop) {
        // The predictor on the low-rank epochs only (the switch resets the curve); never after the last epoch.
        lowHistory.push(r.record.accuracy);
        const es = phase.earlyStop;
        if (lowHistory.length >= Math.max(3, es.minEpochs ?? 3) && done < phase.epochs) {
          const left = phase.epochs - done;
          const p = shouldStop(lowHistory, { threshold: es.threshold, horizon: es.horizon ?? left });
          r.record.prediction = p;
          rec.earlyStop.predictions.push({ epoch: run.epoch, predicted: p.predicted, best: p.best, stop: p.stop, reason: p.reason });
          if (p.stop) { rec.earlyStop.stoppedAfter = run.epoch; stoppedEarly = true; break; }
        }
      }
      // after a low-rank epoch, or the epoch a mid-epoch switch split (its second part trained low-rank)
      if ((label === "low-rank" || mid) && state === "low" && phase.reconstructAt !== undefined && done === phase.reconstructAt) {
        await run.changeArchitecture(async (model) => (rec.plan?.decisions.some((d) => d.action === "factorize") ? (await reconstruct(model)).model : null));
        rec.reconstructedAt = run.epoch;
        state = "reconstructed";
      }
    }
    if (rec.earlyStop) rec.earlyStop.finalAccuracy = accuracy;
    if (rec.accuracyBefore !== null && accuracy < rec.accuracyBefore - ACCURACY_DROP_WARN) {
      rec.warnings.push(`ended at accuracy ${accuracy.toFixed(4)}, ${(100 * (rec.accuracyBefore - accuracy)).toFixed(1)} pt below the ${rec.accuracyBefore.toFixed(4)} it had before the switch`);
    }
    return { accuracy, epochs: ran, stoppedEarly, auto: rec };
  },
};
