// Learning-rate schedule over the whole run (TrainOptions.lrSchedule): the rate of global step t of T is
// base · f(t/T), f the schedule's closed form below. A constant rate leaves the final epochs' accuracy
// jumping by a point or two from epoch to epoch, as large as the differences a schedule comparison
// measures; decaying it (cosine, or steps ×0.1 at half and three quarters of the run, as the seed paper,
// Pufferfish and Cuttlefish train) steadies the end of the run and lets a factorized model settle.
//
// T is the schedule's planned steps: the epochs of its train and auto phases (phases that may stop early
// count their maximum epochs, so an early stop ends before the rate has decayed fully) × steps per epoch.
// `base` is each optimizer's own rate as the factory built it, read before this hook first writes it; an
// architecture change rebuilds the optimizer, and the new one continues at the scheduled rate of the
// step it starts at, not at its base. The warm-up after an architecture change (warmup.ts) ramps to the
// scheduled rate through `factor`.
import type * as tf from "@tensorflow/tfjs-core";
import { check, fail } from "../../core/errors.ts";
import type { Phase } from "../schedule.ts";
import type { HookContext, TrainHook } from "./hook.ts";

/**
 * A learning-rate schedule over the whole run, as a factor f(p) of the optimizer's base rate at progress
 * p = t/T ∈ [0, 1) (t: the global step, T: the planned steps).
 * - `none`: f = 1 (a constant rate; the default).
 * - `cosine`: f(p) = m + (1 − m)·(1 + cos πp)/2, from 1 down to `minFactor` m (default 0) at the end.
 * - `step`: f(p) = γ^k, k the number of `milestones` (fractions of the run in (0, 1), increasing; default
 *   [0.5, 0.75]) at or before p; `gamma` γ ∈ (0, 1] (default 0.1).
 */
export type LrSchedule =
  | { kind: "none" }
  | { kind: "cosine"; minFactor?: number }
  | { kind: "step"; milestones?: number[]; gamma?: number };

const where = "train";

type Of<K extends LrSchedule["kind"]> = Extract<LrSchedule, { kind: K }>;

/** One kind of schedule: its field checks (throwing an OdecompError naming the field) and its closed form. */
interface LrScheduleKind<K extends LrSchedule["kind"]> {
  check(s: Of<K>): void;
  /** f(p) for p in [0, 1]. */
  factor(s: Of<K>, p: number): number;
}

/** The schedule kinds, one entry each (adding one: its member of LrSchedule and its entry here). */
const kinds: { readonly [K in LrSchedule["kind"]]: LrScheduleKind<K> } = {
  none: { check() {}, factor: () => 1 },
  cosine: {
    check(s) {
      if (s.minFactor !== undefined) check(typeof s.minFactor === "number" && s.minFactor >= 0 && s.minFactor <= 1, where, () => `lrSchedule.minFactor = ${String(s.minFactor)}; expected a number in [0, 1] (the final rate as a fraction of the base rate)`);
    },
    factor(s, p) {
      const m = s.minFactor ?? 0;
      return m + (1 - m) * 0.5 * (1 + Math.cos(Math.PI * p));
    },
  },
  step: {
    check(s) {
      if (s.gamma !== undefined) check(typeof s.gamma === "number" && s.gamma > 0 && s.gamma <= 1, where, () => `lrSchedule.gamma = ${String(s.gamma)}; expected a number in (0, 1] (the factor at each milestone)`);
      const m = s.milestones;
      if (m !== undefined) {
        check(Array.isArray(m) && m.length > 0 && m.every((x, i) => typeof x === "number" && x > 0 && x < 1 && (i === 0 || x > m[i - 1])), where,
          () => `lrSchedule.milestones = ${JSON.stringify(m)}; expected a non-empty, strictly increasing list of fractions of the run in (0, 1)`);
      }
    },
    factor(s, p) {
      const k = (s.milestones ?? [0.5, 0.75]).filter((x) => x <= p).length;
      return (s.gamma ?? 0.1) ** k;
    },
  },
};

/** Every schedule kind, in the table's order. */
export const lrScheduleKinds = Object.keys(kinds) as LrSchedule["kind"][];

/** Checks a schedule's fields; throws an OdecompError naming the bad one. */
export function checkLrSchedule(s: LrSchedule): void {
  check(typeof s === "object" && s !== null, where, () => `lrSchedule = ${String(s)}; expected an object { kind: ${lrScheduleKinds.join(" | ")}, ... }`);
  const kind = (s as { kind: unknown }).kind;
  if (typeof kind !== "string" || !Object.hasOwn(kinds, kind)) fail(where, `lrSchedule.kind = ${JSON.stringify(kind)}; expected one of ${lrScheduleKinds.join(", ")}`);
  (kinds[s.kind] as LrScheduleKind<LrSchedule["kind"]>).check(s);
}

/** The schedule's factor f(p) at progress p (clamped to [0, 1]). */
export function lrFactor(s: LrSchedule, progress: number): number {
  return (kinds[s.kind] as LrScheduleKind<LrSchedule["kind"]>).factor(s, Math.min(1, Math.max(0, progress)));
}

/** Epochs a schedule plans to train: its train and auto phases' epochs (an early-stopping phase counts its maximum). */
export function plannedEpochs(phases: readonly Phase[]): number {
  return phases.reduce((n, p) => n + (p.kind === "train" || p.kind === "auto" ? p.epochs : 0), 0);
}

type RateOptimizer = { learningRate: number; setLearningRate?: (r: number) => void };

/** Sets an optimizer's learning rate (SGD keeps it as a tensor too, updated by setLearningRate). */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as RateOptimizer;
  if (o.setLearningRate) o.setLearningRate(rate); else o.learningRate = rate;
}

/** An optimizer's numeric learning rate, checked positive (`needs` names who asks, for the message). */
export function learningRateOf(optimizer: tf.Optimizer, needs: string): number {
  const r = (optimizer as unknown as RateOptimizer).learningRate;
  check(typeof r === "number" && Number.isFinite(r) && r > 0, where, () => `${needs} needs an optimizer with a positive numeric learningRate; got ${String(r)}`);
  return r;
}

/** The schedule hook and its factor by global step (for the warm-up's ramp target). */
export interface LrScheduleHook extends TrainHook {
  /** f(t/T) at global step t (1 for `none`). */
  factor(step: number): number;
}

/**
 * The learning-rate schedule hook over `totalSteps` planned steps (undefined or `none`: a hook that does
 * nothing, its factor 1, so a run without a schedule is bitwise the run it was before schedules existed).
 * Before every step it sets the rate to base · f(t/T); it adds the rate of each epoch's last step to the
 * epoch's record (`learningRate`).
 */
export function lrScheduleHook(schedule: LrSchedule | undefined, totalSteps: number): LrScheduleHook {
  if (schedule === undefined || (typeof schedule === "object" && schedule !== null && schedule.kind === "none")) return { name: "lrSchedule", factor: () => 1 };
  checkLrSchedule(schedule);
  check(Number.isInteger(totalSteps) && totalSteps >= 0, where, () => `lrSchedule: total steps = ${totalSteps}; expected an integer ≥ 0`);
  const s = schedule;
  const factor = (step: number) => lrFactor(s, totalSteps > 0 ? step / totalSteps : 1);
  // The optimizer whose base rate is `base`: a different one (rebuilt after an architecture change) is read afresh.
  let current: tf.Optimizer | null = null, base = NaN;
  const track = (ctx: HookContext) => {
    if (ctx.optimizer === current) return;
    base = learningRateOf(ctx.optimizer, `lrSchedule ${s.kind}`);
    current = ctx.optimizer;
  };
  return {
    name: "lrSchedule",
    factor,
    phaseBegin: track,
    architectureChange: track,
    beforeStep(ctx) {
      track(ctx);
      setLearningRate(ctx.optimizer, base * factor(ctx.step));
    },
    epochEnd(record, ctx) {
      // After the epoch's steps and before anything rebuilds the optimizer: the rate its last step ran at.
      record.learningRate = (ctx.optimizer as unknown as RateOptimizer).learningRate;
    },
  };
}
