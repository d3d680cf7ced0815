// The state of one schedule run (`train()`), what every phase runner works on: the current model and
// optimizer, the global step and epoch counters, the records so far, and the one shared step that changes
// the architecture. It is also the hooks' context (a snapshot per call).
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../../core/errors.ts";
import { findSvdPairs, pairOriginal, pairRank } from "../factorize.ts";
import type { FactorPair } from "../fading.ts";
import { evaluate } from "../loop.ts";
import { forwardFlops } from "../models.ts";
import type { RankPoint } from "../predictor.ts";
import type { EpochRecord, Phase, PhaseKind, PhaseRecord, TrainData, TrainOptions, TrainResult } from "../schedule.ts";
import { earlyStopHook } from "../hooks/early-stop.ts";
import { fadingHook } from "../hooks/fading.ts";
import { HookList, type HookContext, type TrainHook } from "../hooks/hook.ts";
import { warmupHook } from "../hooks/warmup.ts";
import { learningRateOf, lrScheduleHook, setLearningRate } from "../hooks/lr-schedule.ts";
import { batchCount } from "../batches.ts";
import { resolvePreprocess, type Preprocess } from "../../data/preprocess.ts";
import { recalibrateBatchNorm, recalibration, type RecalibrateOptions } from "../recalibrate.ts";
import { withFusedBatchNorm } from "../fused-bn.ts";

export const where = "train";

/** Training images per BatchNorm recalibration before an evaluation (16 batches of 64: per-channel statistics settle well before). */
export const RECALIBRATE_IMAGES = 1024;

/** What a phase runner reports; train() adds the timing, parameters, ranks and layers. */
export interface PhaseOutcome {
  accuracy: number;
  accuracyBefore?: number;
  /** Epochs trained (default 0). */
  epochs?: number;
  stoppedEarly?: boolean;
  rankChoice?: PhaseRecord["rankChoice"];
  report?: string;
  plan?: PhaseRecord["plan"];
  auto?: PhaseRecord["auto"];
}

/** The phase of one kind. */
export type PhaseOf<K extends PhaseKind> = Extract<Phase, { kind: K }>;

/** One phase kind: its validation (before anything runs) and its run. */
export interface PhaseRunner<K extends PhaseKind = PhaseKind> {
  /** Throws an OdecompError naming `at` ("phase i (kind)") and the bad field. */
  validate(phase: PhaseOf<K>, at: string): void;
  run(phase: PhaseOf<K>, run: ScheduleRun): Promise<PhaseOutcome>;
}

export class ScheduleRun {
  readonly batchSize: number;
  readonly seed: number;
  readonly layout: "flat" | "image";
  readonly preprocess: Preprocess;
  readonly hooks: HookList;
  /** The model being trained (the input model until the first architecture change). */
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  phase: Phase | null = null;
  phaseIndex = -1;
  step = 0;
  epoch = 0;
  readonly epochs: EpochRecord[] = [];
  readonly phases: PhaseRecord[] = [];
  /** (rank, accuracy at the end of a train phase) of the factorized pairs, for predictRank phases. */
  readonly rankPoints: RankPoint[] = [];
  private readonly makeOptimizer: () => tf.Optimizer;
  private readonly evalOptions: { batchSize: number; layout: "flat" | "image"; preprocess: Preprocess };
  private readonly recalibrate: Omit<RecalibrateOptions, "seed" | "preprocess"> | null;
  private readonly t0 = performance.now();

  /** `plannedEpochs`: the epochs the schedule will train at most (the learning-rate schedule spans them). */
  constructor(readonly input: tfl.LayersModel, readonly data: TrainData, readonly options: TrainOptions, plannedEpochs = 0) {
    this.batchSize = options.batchSize ?? 64;
    this.seed = options.seed ?? 0;
    check(Number.isInteger(this.batchSize) && this.batchSize >= 1, where, () => `batchSize = ${this.batchSize}; expected a positive integer`);
    this.makeOptimizer = options.optimizer ?? (() => tf.train.adam(1e-3));
    const extra = options.hooks ?? [];
    check(Array.isArray(extra) && extra.every((h) => typeof h === "object" && h !== null), where, () => `hooks = ${String(options.hooks)}; expected an array of hook objects`);
    // Built-ins first, so the caller's hooks see what they did (the learning rate, a prediction...); the
    // schedule before the warm-up, whose ramp (to the scheduled rate) overrides it while it lasts.
    const lr = lrScheduleHook(options.lrSchedule, options.lrSchedule && options.lrSchedule.kind !== "none" ? plannedEpochs * batchCount(data.train, this.batchSize) : 0);
    this.hooks = new HookList([lr, warmupHook(options.warmupSteps ?? 0, lr.factor), fadingHook(), earlyStopHook(), ...extra as TrainHook[]]);
    this.layout = options.layout ?? ((input.inputs[0].shape.length === 4) ? "image" : "flat");
    this.preprocess = resolvePreprocess(options.preprocess);
    this.evalOptions = { batchSize: options.evalBatchSize ?? 1000, layout: this.layout, preprocess: this.preprocess };
    const r = options.recalibrateBatchNorm;
    check(r === undefined || typeof r === "boolean" || (typeof r === "object" && r !== null), where, () => `recalibrateBatchNorm = ${String(r)}; expected true, false or recalibration options`);
    this.recalibrate = recalibration(r);
    this.model = input;
    this.optimizer = this.makeOptimizer();
  }

  /** A snapshot for hooks. */
  context(): HookContext {
    return { model: this.model, optimizer: this.optimizer, phase: this.phase!, phaseIndex: this.phaseIndex, step: this.step, epoch: this.epoch };
  }

  /**
   * Test accuracy of the current model, after re-estimating its BatchNorm moving statistics on training
   * images (options.recalibrateBatchNorm, default on; a model without trainable BatchNorm is untouched).
   */
  async evaluate(): Promise<number> {
    if (this.recalibrate) {
      // on the fused BatchNorm op where it applies, as the training steps run (it honours the per-batch momentum);
      // without trainable BatchNorm layers recalibrateBatchNorm returns at once
      const o = { maxImages: RECALIBRATE_IMAGES, ...this.recalibrate, seed: this.seed + this.epoch, preprocess: this.preprocess };
      await withFusedBatchNorm(this.model, () => recalibrateBatchNorm(this.model, this.data.train, o));
    }
    return evaluate(this.model, this.data.test, this.evalOptions);
  }

  /** The rank the pairs share in the current model, or null when they differ. */
  commonRank(pairs: FactorPair[]): number | null {
    const ranks = [...new Set(pairs.map((p) => pairRank(this.model, p)))];
    return ranks.length === 1 ? ranks[0] : null;
  }

  /**
   * The one way a phase changes the model: evaluate → replace (`change` builds the new model from the
   * current one; null leaves it) → rebuild the optimizer (tfjs optimizers keep their slots by variable
   * position, so one carried across an architecture change would pair moments with the wrong weights)
   * → hooks → evaluate. The replaced model is disposed unless it is the caller's input model.
   * `lrScale` multiplies the rebuilt optimizer's rate before the hooks read it as their base (the learning-rate
   * schedule and the warm-up then scale and ramp the scaled rate).
   */
  async changeArchitecture(change: (model: tfl.LayersModel) => Promise<tfl.LayersModel | null>, o: { lrScale?: number } = {}): Promise<{ accuracyBefore: number; accuracy: number }> {
    const accuracyBefore = await this.evaluate();
    const next = await change(this.model);
    if (next === null) return { accuracyBefore, accuracy: accuracyBefore };
    if (this.model !== this.input) this.model.dispose();
    this.model = next;
    this.optimizer.dispose();
    this.optimizer = this.makeOptimizer();
    if (o.lrScale !== undefined && o.lrScale !== 1) setLearningRate(this.optimizer, learningRateOf(this.optimizer, `lrScale = ${o.lrScale}`) * o.lrScale);
    await this.hooks.architectureChange(this.context());
    return { accuracyBefore, accuracy: await this.evaluate() };
  }

  /** Run one phase with `runner` and record it. */
  async runPhase(index: number, phase: Phase, runner: PhaseRunner): Promise<void> {
    const p0 = performance.now();
    const paramsBefore = this.model.countParams();
    this.phase = phase;
    this.phaseIndex = index;
    await this.hooks.phaseBegin(this.context());
    const o = await runner.run(phase, this);
    const record: PhaseRecord = {
      index, kind: phase.kind, label: phase.label ?? phase.kind, seconds: (performance.now() - p0) / 1000, epochs: o.epochs ?? 0,
      paramsBefore, paramsAfter: this.model.countParams(), accuracy: o.accuracy, accuracyBefore: o.accuracyBefore, ranks: this.ranks(),
      layers: this.model.layers.map((l) => l.name), stoppedEarly: o.stoppedEarly, rankChoice: o.rankChoice, report: o.report, plan: o.plan, ...(o.auto ? { auto: o.auto } : {}),
    };
    await this.hooks.phaseEnd(record, this.context());
    this.phases.push(record);
    await this.options.onPhaseEnd?.(record);
  }

  /** After a failure: drop the model this run built (never the caller's). */
  discard(): void {
    if (this.model !== this.input) this.model.dispose();
  }

  result(schedule: string): TrainResult {
    const last = this.phases[this.phases.length - 1];
    return {
      schedule, model: this.model, epochs: this.epochs, phases: this.phases,
      totalSeconds: (performance.now() - this.t0) / 1000,
      trainSeconds: this.epochs.reduce((s, e) => s + e.trainSeconds, 0),
      final: { accuracy: last.accuracy, params: this.model.countParams(), forwardFlops: forwardFlops(this.model) },
      ...(this.phases.some((p) => p.auto) ? { auto: this.phases.find((p) => p.auto)!.auto } : {}),
    };
  }

  private ranks(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of findSvdPairs(this.model)) out[pairOriginal(p)] = pairRank(this.model, p);
    return out;
  }
}
