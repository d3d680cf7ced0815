// Composable training schedules: a schedule is a list of phases run in order
// on one model — train (optionally with rank fading and predictor-based early
// stopping), factorize (from initialisation), truncate (cut factorized pairs),
// decompose / reconstruct (odecomp/models) — and the builders below assemble
// the published schedules from them:
//   baseline · pretrain (Odecomp) · fading (Odecomp) · incremental (rank steps
//   of factorized pairs with fine-tuning) · incrementalDecompose (any model,
//   through compress/reconstruct) · decomposeAtEpoch (Elhoushi).
// `train(model, data, schedule, options)` runs the phases with the custom loop
// (src/train/loop.ts), reports progress through callbacks and returns wall-clock
// time per phase, parameters, FLOPs and test accuracy per epoch.
//
// Optimizers: every change of architecture rebuilds the optimizer from
// `options.optimizer` (a factory). tfjs optimizers keep their slots (Adam's
// moments...) by the position of each variable in the list they were given,
// so carrying one across a model whose variables changed would pair moments
// with the wrong (or differently shaped) weights.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { check, fail } from "../core/errors.ts";
import type { ImageSet } from "../data/dataset.ts";
import { fadingPenalty, applyFadingProximal, truncatePairs, type FactorPair } from "./fading.ts";
import { factorizeDense, findSvdPairs, pairRank } from "./factorize.ts";
import { evaluate, trainEpoch } from "./loop.ts";
import { forwardFlops } from "./models.ts";
import { nextRank, shouldStop, type RankPoint, type StopDecision } from "./predictor.ts";
import { compress, reconstruct } from "../models/compress.ts";
import type { CompressOptions, Plan } from "../compress/plan.ts";

/** Fading during a train phase: penalty λ·min(t/T, 1)·tails of the factorized pairs beyond `rank`. */
export interface FadingSpec {
  rank: number;
  lambda?: number;
  rampSteps?: number;
  /** Pairs to fade (default: every factorized pair in the model, unless `dense` is given). */
  pairs?: FactorPair[];
  /**
   * Unfactorized Dense layers to fade through the tail of their SVD (penalty Σ_{i≥rank} σ_i, wasm svd at
   * every step; needs `await ready()`). Truncate them afterwards with a decompose phase at `ranks: { name: rank }`.
   */
  dense?: string[];
  /** "penalty" (default): added to the loss in the custom loop; "proximal": soft-thresholding after each step (learning rate `proximalStep`). */
  mode?: "penalty" | "proximal";
  proximalStep?: number;
}

export interface EarlyStopSpec {
  /** Stop when the predicted gain in test accuracy is below this. */
  threshold: number;
  /** Epochs ahead the gain is predicted over (default: the asymptote). */
  horizon?: number;
  /** Epochs of the phase before the predictor is asked (default 3, the minimum it fits). */
  minEpochs?: number;
}

export type Phase =
  | { kind: "train"; epochs: number; label?: string; fading?: FadingSpec; earlyStop?: EarlyStopSpec }
  | { kind: "factorize"; layers: string[]; rank: number; init?: "random" | "svd"; label?: string }
  | { kind: "truncate"; rank: number; pairs?: FactorPair[]; label?: string }
  /**
   * Truncate the factorized pairs to the rank the accuracy-over-rank predictor picks (`nextRank`):
   * the smallest untried rank below the current one predicted to reach `target`, from the
   * (rank, test accuracy at the end of a train phase) points of this run. With fewer than 3 points
   * (too few to fit) the rank is halved instead; when no rank is predicted to reach the target, the
   * model is left as it is (the record says so). A step keeps at least `minKeep` (default 0.5) of the
   * current rank: the fit is only trusted near the ranks it has seen (from points at 150, 75, 38 with
   * flat accuracy it would otherwise jump straight to rank 2).
   */
  | { kind: "predictRank"; target: number; minRank?: number; minKeep?: number; pairs?: FactorPair[]; label?: string }
  /** Factorize with odecomp/models `compress` (method and ranks per its options: EVBMF, budget, energy, explicit). */
  | { kind: "decompose"; options?: CompressOptions; label?: string }
  | { kind: "reconstruct"; label?: string };

export type PhaseKind = Phase["kind"];

export interface Schedule {
  name: string;
  phases: Phase[];
}

// ---- builders

/** Train the model as it is. */
export function baseline(o: { epochs: number }): Schedule {
  return { name: "baseline", phases: [{ kind: "train", epochs: o.epochs }] };
}

/** Odecomp pre-training decomposition: factorize `layers` at `rank` from initialisation, then train. */
export function pretrain(o: { epochs: number; rank: number; layers: string[]; init?: "random" | "svd" }): Schedule {
  return { name: `pretrain r=${o.rank}`, phases: [
    { kind: "factorize", layers: o.layers, rank: o.rank, init: o.init ?? "random" },
    { kind: "train", epochs: o.epochs },
  ] };
}

/**
 * Odecomp rank fading: (factorize `layers` at `fromRank` from init if given,)
 * train `fadeEpochs` with the fading penalty on the components beyond `rank`,
 * truncate to `rank`, fine-tune `fineTuneEpochs`. With `lambda: 0` this is
 * plain truncation (the control).
 */
export function fading(o: { rank: number; fadeEpochs: number; fineTuneEpochs: number; layers?: string[]; fromRank?: number; lambda?: number; rampSteps?: number; mode?: "penalty" | "proximal"; proximalStep?: number }): Schedule {
  const phases: Phase[] = [];
  if (o.fromRank !== undefined) {
    check(o.layers?.length, "fading", () => "fromRank needs layers (the Dense layers to factorize)");
    phases.push({ kind: "factorize", layers: o.layers!, rank: o.fromRank, init: "random" });
  }
  const pairs = o.layers?.map((l) => ({ u: `${l}__odc_svd_0`, v: `${l}__odc_svd_1` }));
  phases.push(
    { kind: "train", epochs: o.fadeEpochs, label: "fade", fading: { rank: o.rank, lambda: o.lambda, rampSteps: o.rampSteps, pairs, mode: o.mode, proximalStep: o.proximalStep } },
    { kind: "truncate", rank: o.rank, pairs },
    { kind: "train", epochs: o.fineTuneEpochs, label: "fine-tune" },
  );
  return { name: `fading r=${o.rank}${o.lambda === 0 ? " (plain truncation)" : ""}`, phases };
}

/**
 * Incremental decomposition of factorized pairs: for each rank in `ranks`
 * (decreasing), optionally fade for `fadeEpochs`, truncate, fine-tune
 * `fineTuneEpochs` (optionally stopping early by the learning-curve predictor).
 */
export function incremental(o: { ranks: number[]; fineTuneEpochs: number; fadeEpochs?: number; lambda?: number; rampSteps?: number; pairs?: FactorPair[]; earlyStop?: EarlyStopSpec }): Schedule {
  check(o.ranks.length > 0 && o.ranks.every((r, i) => Number.isInteger(r) && r >= 1 && (i === 0 || r < o.ranks[i - 1])), "incremental",
    () => `ranks = [${o.ranks}]; expected a non-empty, strictly decreasing list of positive integers`);
  const phases: Phase[] = [];
  for (const rank of o.ranks) {
    if (o.fadeEpochs) phases.push({ kind: "train", epochs: o.fadeEpochs, label: `fade→${rank}`, fading: { rank, lambda: o.lambda, rampSteps: o.rampSteps, pairs: o.pairs } });
    phases.push({ kind: "truncate", rank, pairs: o.pairs });
    phases.push({ kind: "train", epochs: o.fineTuneEpochs, label: `fine-tune r=${rank}`, earlyStop: o.earlyStop });
  }
  return { name: `incremental ${o.ranks.join("→")}`, phases };
}

/**
 * Incremental decomposition with the steps chosen by the predictor: `steps` ×
 * (predictRank toward `target` accuracy, fine-tune `fineTuneEpochs`), after
 * `warmEpochs` of training at the current rank (the first point of the
 * accuracy-over-rank curve).
 */
export function incrementalPredicted(o: { target: number; steps: number; fineTuneEpochs: number; warmEpochs?: number; minRank?: number; minKeep?: number; pairs?: FactorPair[]; earlyStop?: EarlyStopSpec }): Schedule {
  check(Number.isInteger(o.steps) && o.steps >= 1, "incrementalPredicted", () => `steps = ${o.steps}; expected a positive integer`);
  check(Number.isFinite(o.target) && o.target > 0 && o.target <= 1, "incrementalPredicted", () => `target = ${o.target}; expected an accuracy in (0, 1]`);
  const phases: Phase[] = [];
  if (o.warmEpochs) phases.push({ kind: "train", epochs: o.warmEpochs, label: "train" });
  for (let i = 0; i < o.steps; i++) {
    phases.push({ kind: "predictRank", target: o.target, minRank: o.minRank, minKeep: o.minKeep, pairs: o.pairs, label: `predict rank ${i + 1}` });
    phases.push({ kind: "train", epochs: o.fineTuneEpochs, label: `fine-tune ${i + 1}`, earlyStop: o.earlyStop });
  }
  return { name: `incremental (predicted ranks, target ${o.target})`, phases };
}

/**
 * Incremental decomposition of any model through odecomp/models: for each
 * step's compress options (e.g. decreasing explicit ranks, a shrinking budget,
 * or MUSCO-style passes that factorize a few layers at a time via `skip`),
 * reconstruct the previous chains (from the second step on), decompose, and
 * fine-tune.
 */
export function incrementalDecompose(o: { steps: CompressOptions[]; fineTuneEpochs: number; earlyStop?: EarlyStopSpec }): Schedule {
  check(Array.isArray(o.steps) && o.steps.length > 0, "incrementalDecompose", () => "steps is empty; expected at least one compress options object");
  const phases: Phase[] = [];
  o.steps.forEach((options, i) => {
    if (i > 0) phases.push({ kind: "reconstruct", label: `reconstruct ${i}` });
    phases.push({ kind: "decompose", options, label: `decompose ${i + 1}` });
    phases.push({ kind: "train", epochs: o.fineTuneEpochs, label: `fine-tune ${i + 1}`, earlyStop: o.earlyStop });
  });
  return { name: `incremental-decompose ×${o.steps.length}`, phases };
}

/**
 * Elhoushi: train `at` epochs, decompose with `plan` (compress options of
 * odecomp/models; default EVBMF ranks, Tucker-2 for convs, SVD for Dense),
 * train on; optionally reconstruct at `reconstructAt` and train to `epochs`.
 */
export function decomposeAtEpoch(o: { epochs: number; at: number; plan?: CompressOptions; reconstructAt?: number }): Schedule {
  check(Number.isInteger(o.at) && o.at >= 0 && o.at <= o.epochs, "decomposeAtEpoch", () => `at = ${o.at}; expected an integer epoch in 0..${o.epochs}`);
  const end = o.reconstructAt ?? o.epochs;
  check(Number.isInteger(end) && end >= o.at && end <= o.epochs, "decomposeAtEpoch", () => `reconstructAt = ${o.reconstructAt}; expected an integer epoch in ${o.at}..${o.epochs}`);
  const phases: Phase[] = [];
  if (o.at > 0) phases.push({ kind: "train", epochs: o.at, label: "original" });
  phases.push({ kind: "decompose", options: o.plan ?? {} });
  if (end > o.at) phases.push({ kind: "train", epochs: end - o.at, label: "decomposed" });
  if (o.reconstructAt !== undefined) {
    phases.push({ kind: "reconstruct" });
    if (o.epochs > end) phases.push({ kind: "train", epochs: o.epochs - end, label: "reconstructed" });
  }
  return { name: `decompose@${o.at}${o.reconstructAt !== undefined ? ` reconstruct@${o.reconstructAt}` : ""}`, phases };
}

// ---- running

export interface TrainData { train: ImageSet; test: ImageSet }

export interface EpochRecord {
  /** Global epoch number (1-based, over the whole schedule). */
  epoch: number;
  /** Index of the phase in the schedule. */
  phase: number;
  label: string;
  loss: number;
  /** Test accuracy after the epoch. */
  accuracy: number;
  /** Wall-clock seconds of the training steps (evaluation excluded). */
  trainSeconds: number;
  evalSeconds: number;
  params: number;
  /** Forward FLOPs per sample of Dense/Conv2D layers. */
  forwardFlops: number;
  /** Estimated training FLOPs of the epoch: 3 × forward × samples. */
  trainFlops: number;
  /** Learning-curve prediction made after this epoch (phases with earlyStop). */
  prediction?: StopDecision;
}

export interface PhaseRecord {
  index: number;
  kind: PhaseKind;
  label: string;
  /** Wall-clock seconds of the whole phase (training, evaluation, rebuilding). */
  seconds: number;
  epochs: number;
  paramsBefore: number;
  paramsAfter: number;
  /** Test accuracy at the end of the phase (after the change, for factorize/truncate/decompose/reconstruct). */
  accuracy: number;
  /** Test accuracy before the phase's change (factorize/truncate/decompose/reconstruct). */
  accuracyBefore?: number;
  /** Ranks of factorized pairs at the end of the phase. */
  ranks: Record<string, number>;
  stoppedEarly?: boolean;
  /** Layer names of the model at the end of the phase. */
  layers: string[];
  /** predictRank: the rank chosen (null: none predicted to reach the target, model unchanged), its predicted accuracy and the points it was fitted to. */
  rankChoice?: { rank: number | null; predicted: number | null; rule: "predictor" | "halve" | "at minRank"; points: RankPoint[] };
  /** decompose: compress's plan report; reconstruct: what was folded. */
  report?: string;
  /** decompose: compress's plan (per-layer method, ranks, params and FLOPs before/after). */
  plan?: Plan;
}

export interface TrainOptions {
  /** Optimizer factory, called at the start and after every architecture change (default: Adam 1e-3). */
  optimizer?: () => tf.Optimizer;
  batchSize?: number;
  seed?: number;
  /** Input layout (default: "image" when the model's input is 4-D, else "flat"). */
  layout?: "flat" | "image";
  evalBatchSize?: number;
  /**
   * Learning-rate warm-up after every architecture change (factorize, truncate, decompose,
   * reconstruct): the rebuilt optimizer's learning rate ramps linearly from base/N to base over
   * N steps (default 0: none). A fresh Adam takes full-size steps on moments estimated from one
   * batch, which knocks a just-decomposed model about; the ramp lets the moments settle first.
   * Needs an optimizer with a numeric `learningRate` field (Adam, Adamax, RMSProp, Adagrad...; SGD via setLearningRate).
   */
  warmupSteps?: number;
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  onPhaseEnd?: (record: PhaseRecord) => void | Promise<void>;
}

export interface TrainResult {
  schedule: string;
  /** The trained model at the end of the schedule (a new model if the architecture changed; the input model is not disposed). */
  model: tfl.LayersModel;
  epochs: EpochRecord[];
  phases: PhaseRecord[];
  totalSeconds: number;
  /** Sum of the epochs' trainSeconds. */
  trainSeconds: number;
  final: { accuracy: number; params: number; forwardFlops: number };
}

const where = "train";

function validatePhase(p: Phase, i: number): void {
  const at = `phase ${i} (${(p as { kind: string }).kind})`;
  switch (p.kind) {
    case "train":
      check(Number.isInteger(p.epochs) && p.epochs >= 0, where, () => `${at}: epochs = ${p.epochs}; expected an integer ≥ 0`);
      if (p.fading) check(Number.isInteger(p.fading.rank) && p.fading.rank >= 1, where, () => `${at}: fading.rank = ${p.fading!.rank}; expected a positive integer`);
      if (p.earlyStop) check(Number.isFinite(p.earlyStop.threshold) && p.earlyStop.threshold >= 0, where, () => `${at}: earlyStop.threshold = ${p.earlyStop!.threshold}; expected a number ≥ 0`);
      return;
    case "factorize":
    case "truncate":
      check(Number.isInteger(p.rank) && p.rank >= 1, where, () => `${at}: rank = ${p.rank}; expected a positive integer`);
      return;
    case "predictRank":
      check(Number.isFinite(p.target) && p.target > 0 && p.target <= 1, where, () => `${at}: target = ${p.target}; expected an accuracy in (0, 1]`);
      check(p.minRank === undefined || (Number.isInteger(p.minRank) && p.minRank >= 1), where, () => `${at}: minRank = ${p.minRank}; expected a positive integer`);
      check(p.minKeep === undefined || (p.minKeep > 0 && p.minKeep < 1), where, () => `${at}: minKeep = ${p.minKeep}; expected a fraction in (0, 1)`);
      return;
    case "decompose":
      check(p.options === undefined || (typeof p.options === "object" && p.options !== null), where, () => `${at}: options = ${String(p.options)}; expected compress options (an object) or nothing`);
      return;
    case "reconstruct":
      return;
    default:
      fail(where, `${at}: unknown phase kind; expected one of train, factorize, truncate, decompose, reconstruct`);
  }
}

function ranksOf(model: tfl.LayersModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of findSvdPairs(model)) out[p.u.replace(/__odc_svd_0$/, "")] = pairRank(model, p);
  return out;
}

/** Run a schedule on a model. */
export async function train(model: tfl.LayersModel, data: TrainData, schedule: Schedule, options: TrainOptions = {}): Promise<TrainResult> {
  check(schedule && Array.isArray(schedule.phases) && schedule.phases.length > 0, where, () => "schedule has no phases; expected { name, phases: [...] }");
  schedule.phases.forEach(validatePhase);
  const batchSize = options.batchSize ?? 64, seed = options.seed ?? 0;
  check(Number.isInteger(batchSize) && batchSize >= 1, where, () => `batchSize = ${batchSize}; expected a positive integer`);
  const makeOptimizer = options.optimizer ?? (() => tf.train.adam(1e-3));
  const warmup = options.warmupSteps ?? 0;
  check(Number.isInteger(warmup) && warmup >= 0, where, () => `warmupSteps = ${options.warmupSteps}; expected an integer ≥ 0`);
  const layout = options.layout ?? ((model.inputs[0].shape.length === 4) ? "image" : "flat");
  const evalOpts = { batchSize: options.evalBatchSize ?? 1000, layout };
  const t0 = performance.now();

  let current = model;
  let optimizer = makeOptimizer();
  let epoch = 0, step = 0;
  const epochs: EpochRecord[] = [], phases: PhaseRecord[] = [];
  // (rank, accuracy at the end of a train phase) of the factorized pairs, for predictRank phases.
  const rankPoints: RankPoint[] = [];
  const commonRank = (pairs: FactorPair[]): number | null => {
    const ranks = [...new Set(pairs.map((p) => pairRank(current, p)))];
    return ranks.length === 1 ? ranks[0] : null;
  };
  // Warm-up state: the step of the last architecture change (-1: none yet) and the rebuilt optimizer's base rate.
  let changedAt = -1, baseRate = NaN;
  const replace = (next: tfl.LayersModel) => {
    if (current !== model) current.dispose();
    current = next;
    optimizer.dispose();
    optimizer = makeOptimizer();
    if (warmup > 0) {
      baseRate = (optimizer as unknown as { learningRate: number }).learningRate;
      check(typeof baseRate === "number" && baseRate > 0, where, () => `warmupSteps = ${warmup} needs an optimizer with a positive numeric learningRate; got ${String(baseRate)}`);
      changedAt = step;
    }
  };
  const setRate = (rate: number) => {
    const o = optimizer as unknown as { learningRate: number; setLearningRate?: (r: number) => void };
    if (o.setLearningRate) o.setLearningRate(rate); else o.learningRate = rate;
  };
  const beforeStep = warmup > 0 ? (s: number) => {
    if (changedAt < 0) return;
    const t = s - changedAt;
    setRate(t < warmup ? baseRate * (t + 1) / warmup : baseRate);
    if (t >= warmup) changedAt = -1;
  } : undefined;

  try {
    for (const [index, phase] of schedule.phases.entries()) {
      const p0 = performance.now();
      const paramsBefore = current.countParams();
      const label = phase.label ?? phase.kind;
      let accuracy = NaN, accuracyBefore: number | undefined, ran = 0, stoppedEarly: boolean | undefined, report: string | undefined, plan: Plan | undefined;
      let rankChoice: PhaseRecord["rankChoice"];
      switch (phase.kind) {
        case "train": {
          const history: number[] = [];
          const fade = phase.fading;
          const pairs = fade ? fade.pairs ?? (fade.dense?.length ? [] : findSvdPairs(current)) : [];
          if (fade) check(pairs.length + (fade.dense?.length ?? 0) > 0, where, () => `phase ${index} (train with fading): model '${current.name}' has no factorized pairs; expected a factorize phase first, fading.pairs or fading.dense`);
          const fadeOpts = fade ? { rank: fade.rank, pairs, dense: fade.dense, lambda: fade.lambda, rampSteps: fade.rampSteps } : null;
          const penalty = fadeOpts && (fade!.mode ?? "penalty") === "penalty" && (fadeOpts.lambda ?? 1e-3) > 0 ? fadingPenalty(current, fadeOpts) : undefined;
          const proximal = fadeOpts && fade!.mode === "proximal" && (fadeOpts.lambda ?? 1e-3) > 0 ? { ...fadeOpts, learningRate: fade!.proximalStep ?? 1e-3 } : undefined;
          const phaseStep0 = step;
          for (let e = 0; e < phase.epochs; e++) {
            const e0 = performance.now();
            const r = await trainEpoch(current, data.train, {
              optimizer, batchSize, seed, epoch, layout, step, beforeStep,
              penalty: penalty ? (s) => penalty(s - phaseStep0) : undefined,
              onStep: proximal ? (s) => applyFadingProximal(current, proximal, s - phaseStep0) : undefined,
            });
            const trainSeconds = (performance.now() - e0) / 1000;
            step = r.step;
            const v0 = performance.now();
            accuracy = await evaluate(current, data.test, evalOpts);
            const evalSeconds = (performance.now() - v0) / 1000;
            epoch++; ran++;
            history.push(accuracy);
            const fwd = forwardFlops(current);
            const record: EpochRecord = { epoch, phase: index, label, loss: r.loss, accuracy, trainSeconds, evalSeconds, params: current.countParams(), forwardFlops: fwd, trainFlops: 3 * fwd * data.train.count };
            if (phase.earlyStop && history.length >= Math.max(3, phase.earlyStop.minEpochs ?? 3) && e < phase.epochs - 1) {
              record.prediction = shouldStop(history, { threshold: phase.earlyStop.threshold, horizon: phase.earlyStop.horizon ?? Math.max(1, phase.epochs - ran) });
            }
            epochs.push(record);
            await options.onEpochEnd?.(record);
            if (record.prediction?.stop) { stoppedEarly = true; break; }
          }
          if (ran === 0) accuracy = await evaluate(current, data.test, evalOpts);
          if (phase.earlyStop) stoppedEarly ??= false;
          const r = ran > 0 ? commonRank(findSvdPairs(current)) : null;
          if (r !== null) {
            const i = rankPoints.findIndex((p) => p.rank === r);
            if (i >= 0) rankPoints.splice(i, 1);
            rankPoints.push({ rank: r, accuracy });
          }
          break;
        }
        case "factorize":
        case "truncate": {
          accuracyBefore = await evaluate(current, data.test, evalOpts);
          if (phase.kind === "factorize") {
            replace(await factorizeDense(current, { layers: phase.layers, rank: phase.rank, init: phase.init, seed }));
          } else {
            const pairs = phase.pairs ?? findSvdPairs(current);
            check(pairs.length > 0, where, () => `phase ${index} (truncate): model '${current.name}' has no factorized pairs; expected a factorize phase first or pairs`);
            replace(await truncatePairs(current, pairs, phase.rank));
          }
          accuracy = await evaluate(current, data.test, evalOpts);
          break;
        }
        case "predictRank": {
          const pairs = phase.pairs ?? findSvdPairs(current);
          check(pairs.length > 0, where, () => `phase ${index} (predictRank): model '${current.name}' has no factorized pairs; expected a factorize phase first or pairs`);
          const now = commonRank(pairs);
          check(now !== null, where, () => `phase ${index} (predictRank): the factorized pairs have different ranks (${pairs.map((p) => `${p.u}: ${pairRank(current, p)}`).join(", ")}); expected one common rank`);
          accuracyBefore = await evaluate(current, data.test, evalOpts);
          const minRank = Math.min(phase.minRank ?? 1, now!);
          const points = rankPoints.map((p) => ({ ...p }));
          if (now! <= minRank) rankChoice = { rank: null, predicted: null, rule: "at minRank", points };
          else if (points.length < 3) rankChoice = { rank: Math.max(minRank, Math.ceil(now! / 2)), predicted: null, rule: "halve", points };
          else {
            const lower = Math.min(now! - 1, Math.max(minRank, Math.ceil(now! * (phase.minKeep ?? 0.5))));
            const c = nextRank(points, { target: phase.target, minRank: lower, maxRank: now! - 1 });
            rankChoice = { rank: c.rank, predicted: c.predicted, rule: "predictor", points };
          }
          if (rankChoice.rank !== null) replace(await truncatePairs(current, pairs, rankChoice.rank));
          accuracy = rankChoice.rank !== null ? await evaluate(current, data.test, evalOpts) : accuracyBefore;
          break;
        }
        case "decompose": {
          accuracyBefore = await evaluate(current, data.test, evalOpts);
          const c = await compress(current, phase.options ?? {});
          report = c.report;
          plan = c.plan;
          replace(c.model);
          accuracy = await evaluate(current, data.test, evalOpts);
          break;
        }
        case "reconstruct": {
          accuracyBefore = await evaluate(current, data.test, evalOpts);
          const c = await reconstruct(current);
          report = [`folded ${c.folded.length} chain(s)`, ...c.notes].join("\n");
          replace(c.model);
          accuracy = await evaluate(current, data.test, evalOpts);
          break;
        }
      }
      const record: PhaseRecord = {
        index, kind: phase.kind, label, seconds: (performance.now() - p0) / 1000, epochs: ran,
        paramsBefore, paramsAfter: current.countParams(), accuracy, accuracyBefore, ranks: ranksOf(current), layers: current.layers.map((l) => l.name), stoppedEarly, rankChoice, report, plan,
      };
      phases.push(record);
      await options.onPhaseEnd?.(record);
    }
  } catch (e) {
    if (current !== model) current.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
  const last = phases[phases.length - 1];
  return {
    schedule: schedule.name, model: current, epochs, phases,
    totalSeconds: (performance.now() - t0) / 1000,
    trainSeconds: epochs.reduce((s, e) => s + e.trainSeconds, 0),
    final: { accuracy: last.accuracy, params: current.countParams(), forwardFlops: forwardFlops(current) },
  };
}
