// Composable training schedules: a schedule is a list of phases run in order
// on one model — train (optionally with rank fading and predictor-based early
// stopping), factorize (from initialisation), truncate (cut factorized pairs),
// predictRank (truncate to the rank the accuracy-over-rank predictor picks),
// decompose / reconstruct (odecomp/models) — and the builders below assemble
// the published schedules from them:
//   baseline · pretrain (Odecomp) · fading (Odecomp) · incremental (rank steps
//   of factorized pairs with fine-tuning) · incrementalPredicted (the steps
//   chosen by the predictor) · incrementalDecompose (any model, through
//   compress/reconstruct) · decomposeAtEpoch (Elhoushi).
// `train(model, data, schedule, options)` runs each phase by its kind's runner
// (src/train/phases/, one table) in the custom loop (src/train/loop.ts), with
// hooks around the steps and epochs (src/train/hooks/: learning-rate schedule,
// warm-up, fading, early stopping, and the caller's); it reports progress through callbacks and
// returns wall-clock time per phase, parameters, FLOPs and test accuracy per
// epoch. Every change of architecture goes through one step
// (ScheduleRun.changeArchitecture), which also rebuilds the optimizer.
import type { Preprocess, PreprocessPreset } from "../data/preprocess.ts";
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import type { ImageSet } from "../data/dataset.ts";
import type { Augment } from "../data/augment.ts";
import type { FactorPair } from "./fading.ts";
import { svdPairOf } from "./factorize.ts";
import type { RankPoint, StopDecision } from "./predictor.ts";
import type { CompressOptions, Plan } from "../compress/plan.ts";
import type { RecalibrateOptions } from "./recalibrate.ts";
import type { TrainHook } from "./hooks/hook.ts";
import { plannedEpochs, type LrSchedule } from "./hooks/lr-schedule.ts";
import { phaseRunner } from "./phases/index.ts";
import { ScheduleRun } from "./phases/run.ts";
import type { AutoPlanOptions, AutoRecord, ConvergenceOptions } from "./auto.ts";

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
  | { kind: "reconstruct"; label?: string }
  /**
   * The automatic schedule's one phase (see `auto()`): `epochs` in all, full-rank until the stable ranks
   * converge (or `switchAt`), then per-layer factorization by the cost model, low-rank with Frobenius decay,
   * optionally reconstructed after `reconstructAt` epochs of the phase.
   */
  | { kind: "auto"; epochs: number; label?: string; switchAt?: number; convergence?: ConvergenceOptions; plan?: AutoPlanOptions; frobeniusDecay?: number;
      /** Apply the decay every this many steps at that many times λ (default 4; 1: every step; see frobeniusDecayHook). */
      frobeniusDecayEvery?: number; reconstructAt?: number;
      /** Learning rate of the low-rank part as a multiple of the run's (default 1; see auto()). */
      lowRankLrScale?: number;
      /** Stop the low-rank part early by the learning-curve predictor (on the low-rank epochs' accuracies; horizon: the epochs left). */
      earlyStop?: EarlyStopSpec;
      /** Stable ranks per layer at a measurement (default: power iteration on the kernels); tests inject series here. */
      stableRanks?: (model: tfl.LayersModel, at: { epoch: number; step: number }) => Record<string, number> };

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
  const pairs = o.layers?.map(svdPairOf);
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

/**
 * The automatic schedule (Cuttlefish, MLSys 2023; Pufferfish, MLSys 2021): train full-rank while tracking
 * every Dense/Conv2D layer's stable rank ‖W‖²_F/σ_max² (power iteration, a few times per epoch); switch
 * when every layer's relative change stays below `convergence.epsilon` per epoch over a window (defaults
 * rescaled to the run's length, see ConvergenceOptions), at `switchAt` if given (a fraction switches within an
 * epoch: 0.5 after half of the first epoch's steps, so only a twentieth of a 10-epoch run is full-rank), or at the cap
 * (half the epochs); at the switch keep each layer dense unless its chain at the rank rule's rank (scaled
 * stable rank by default) costs less by the cost model (`plan.timer`: FLOPs by default, the measured timer
 * where given), optionally under a cost budget, the first conv always dense; factorize with balanced
 * factors, rebuild the optimizer at `lowRankLrScale` (LOW_RANK_LR_SCALE = 4) times the run's rate (TrainOptions.warmupSteps re-warms it), train on with Frobenius decay
 * `frobeniusDecay` on the chains (applied every `frobeniusDecayEvery` = 4 steps at 4λ); optionally fold back after `reconstructAt` epochs. `TrainResult.auto`
 * records all of it.
 */
/**
 * auto()'s default learning-rate multiple for the low-rank part. The factorized model learns slower than the dense
 * one at the dense model's rate: in the main job at Adam 1e-3 its training loss stayed ≈ 1.7× the baseline's from the
 * switch to the end (0.25 against 0.14) and it ended 1.13 points lower over six seeds. Measured on the main job
 * (bench workloads, alternated, full test set, seeds 1–3; Δ against the baseline at the same base rate):
 * base 1e-3: ×1 −1.06, ×2 −0.30, ×3 −0.02, ×8 +0.25 points; base 2e-3 (the baseline's best of 1, 2 and 4 × 10⁻³:
 * 86.37 / 86.90 / 86.69 %): ×2 −0.64, ×4 −0.42; base 4e-3: ×2 −0.59. The low-rank part does best near 8e-3 from
 * either base, several times the dense model's best rate; 4 is that ratio on this job, checked on seeds 4–6 (README).
 * Speed is unchanged (the same steps). Pass 1 for the dense rate.
 */
export const LOW_RANK_LR_SCALE = 4;

export function auto(o: { epochs: number; switchAt?: number; convergence?: ConvergenceOptions; plan?: AutoPlanOptions; frobeniusDecay?: number; frobeniusDecayEvery?: number; reconstructAt?: number; lowRankLrScale?: number; earlyStop?: EarlyStopSpec }): Schedule {
  const name = `auto${o.switchAt !== undefined ? ` switch@${o.switchAt}` : ""}${o.reconstructAt !== undefined ? ` reconstruct@${o.reconstructAt}` : ""}`;
  return { name, phases: [{ kind: "auto", epochs: o.epochs, switchAt: o.switchAt, convergence: o.convergence, plan: o.plan, frobeniusDecay: o.frobeniusDecay ?? 1e-4, frobeniusDecayEvery: o.frobeniusDecayEvery, reconstructAt: o.reconstructAt, lowRankLrScale: o.lowRankLrScale ?? LOW_RANK_LR_SCALE, earlyStop: o.earlyStop, label: "auto" }] };
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
  /** With a learning-rate schedule (TrainOptions.lrSchedule): the rate of the epoch's last step. */
  learningRate?: number;
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
  /** auto: the switch epoch and why, the stable-rank curves, per-layer decisions with their costs. */
  auto?: AutoRecord;
}

export interface TrainOptions {
  /** Optimizer factory, called at the start and after every architecture change (default: Adam 1e-3). */
  optimizer?: () => tf.Optimizer;
  batchSize?: number;
  seed?: number;
  /** Input layout (default: "image" when the model's input is 4-D, else "flat"). */
  layout?: "flat" | "image";
  /** Pixel mapping for training and evaluation batches (default "unit": byte/255). */
  preprocess?: Preprocess | PreprocessPreset;
  evalBatchSize?: number;
  /**
   * Before every evaluation, re-estimate the BatchNormalization layers' moving mean and variance from one
   * pass over (by default 1,024 of) the training images in training mode (src/train/recalibrate.ts; default
   * true; false to keep the moving averages as the steps left them). Keras' momentum 0.99 needs hundreds of
   * steps to catch up: a ResNet-20 trained on 2,000 images evaluated at chance after 2 epochs with the
   * moving averages as they were, and a just-factorized model's BN statistics belong to the layer it
   * replaced. The pass counts in the epoch's evaluation time, not its training time. No BatchNorm: no pass.
   */
  recalibrateBatchNorm?: boolean | Omit<RecalibrateOptions, "seed" | "preprocess">;
  /** Random crop/flip of the training images each epoch (src/data/augment.ts: pad, padMode, flip), seeded by the run's seed; default none. */
  augment?: Augment;
  /**
   * Learning-rate warm-up after every architecture change (factorize, truncate, decompose,
   * reconstruct): the rebuilt optimizer's learning rate ramps linearly from base/N to base over
   * N steps (default 0: none). A fresh Adam takes full-size steps on moments estimated from one
   * batch, which knocks a just-decomposed model about; the ramp lets the moments settle first.
   * Needs an optimizer with a numeric `learningRate` field (Adam, Adamax, RMSProp, Adagrad...; SGD via setLearningRate).
   */
  warmupSteps?: number;
  /**
   * Learning-rate schedule over the whole run (src/train/hooks/lr-schedule.ts; default none: the
   * optimizer's constant rate): the rate of global step t is base · f(t/T), T = the schedule's planned
   * epochs (train and auto phases; early-stopping phases count their maximum) × steps per epoch, base the
   * optimizer's own rate. `{ kind: "cosine", minFactor? }` decays from base to minFactor·base (default 0);
   * `{ kind: "step", milestones?, gamma? }` multiplies by gamma (0.1) at each milestone (fractions of the run,
   * default [0.5, 0.75]). An optimizer rebuilt after an architecture change continues at the scheduled
   * rate, and the warm-up ramps to it. Needs an optimizer with a numeric `learningRate` (as warmupSteps).
   * Each EpochRecord then carries `learningRate`.
   */
  lrSchedule?: LrSchedule;
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  onPhaseEnd?: (record: PhaseRecord) => void | Promise<void>;
  /**
   * More hooks into the loop (src/train/hooks/hook.ts), called in this order after the built-in ones
   * (learning-rate schedule, warm-up, fading, early stopping): at each phase's begin and end, before and after every optimizer
   * step, for an extra loss term inside the gradient tape, at each epoch's end (return true to end the
   * train phase) and after each architecture change. E.g. a distillation loss, a weight decay, a
   * custom stopping rule or a logger:
   * ```ts
   * const decay: TrainHook = { lossTerm: ({ model }) => tf.mul(1e-4, tf.sum(tf.square(model.getLayer("fc1").weights[0].read()))) as tf.Scalar };
   * await train(model, data, baseline({ epochs: 5 }), { hooks: [decay] });
   * ```
   */
  hooks?: TrainHook[];
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
  /** The (first) auto phase's record: switch epoch and why, stable-rank curves, per-layer decisions. */
  auto?: AutoRecord;
}

/**
 * Run a schedule on a model: each phase by its kind's runner (src/train/phases/), with the hooks
 * (warm-up, fading, early stopping, then `options.hooks`) around its steps and epochs.
 */
export async function train(model: tfl.LayersModel, data: TrainData, schedule: Schedule, options: TrainOptions = {}): Promise<TrainResult> {
  check(schedule && Array.isArray(schedule.phases) && schedule.phases.length > 0, "train", () => "schedule has no phases; expected { name, phases: [...] }");
  const runners = schedule.phases.map(phaseRunner);
  const run = new ScheduleRun(model, data, options, plannedEpochs(schedule.phases));
  try {
    for (const [index, phase] of schedule.phases.entries()) await run.runPhase(index, phase, runners[index]);
  } catch (e) {
    run.discard();
    throw e;
  } finally {
    run.optimizer.dispose();
  }
  return run.result(schedule.name);
}
