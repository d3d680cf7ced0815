// Planning by measured time: per layer the factorization (method and ranks)
// that keeps a time budget, never one that measures slower than the layer, and
// ranks rounded to multiples of 4 (8 where the budget still holds) so chains
// fill the SIMD lanes and GEMM tiles of the kernels that run them.
//
// The search works like the parameter budget (one allocation level t ∈ [0, 1]
// for every layer, each layer's ranks the smallest keeping energy t of its
// spectra), but a layer's cost at t is its predicted time — the cheapest of
// its candidate methods, or the layer itself when no chain is predicted to be
// faster. Predictions come from TimeModels fitted on a few timed ranks per
// (layer, method) (timecost.ts); the chosen chains are then timed for real, a
// chain that is not faster is dropped, the measurements join the fits, and the
// search runs again (at most a few rounds). tfjs-free.
import { fail } from "../core/errors.ts";
import type { FactorizableLayer, MethodName as Method } from "../layers/types.ts";
import { type Features, type TimeModel, type TimePoint, type Timer, type TimingMode, type TimingOptions, fitTimeModel, requestFeatures } from "./timecost.ts";

/** One way to factorize a layer: a method, its largest ranks, and its ranks at allocation level t. */
export interface TimeOption {
  method: Method;
  max: number[];
  ranksAt(t: number): number[];
}

/** A layer the time planner may factorize. */
export interface TimeWork {
  layer: FactorizableLayer;
  inShape: number[];
  calls: number;
  options: TimeOption[];
}

export interface TimeDecision {
  method: Method | null;
  ranks: number[] | null;
  /** Measured seconds per batch (all calls of the layer) before and after. */
  timeBefore: number;
  timeAfter: number;
  note: string;
}

/**
 * The multiple training schedules round their ranks to (compress's `rankMultiple`; the CLI's train and main):
 * XNNPACK's forward convs pack output channels in 8s and our GEMMs run 4-wide, so a chain at ranks 17/33
 * does the work of 24/40 (bench engine, the main job's CNN at 0.4 FLOPs: the training step runs 11 % faster
 * at ranks 16/32 than at 17/33, for 5 % fewer FLOPs).
 */
export const TRAINING_RANK_MULTIPLE = 8;

/** The largest rank multiple accepted (rankMultiple, --rank-multiple, the auto schedule's plan.rankMultiple). */
export const RANK_MULTIPLE_MAX = 1024;

/** Whether q is a valid rank multiple: an integer from 1 to RANK_MULTIPLE_MAX. */
export const isRankMultiple = (q: number): boolean => Number.isInteger(q) && q >= 1 && q <= RANK_MULTIPLE_MAX;

/** Round a rank to a multiple of q (nearest, at least q), capped at max; ranks ≤ q stay. */
export function roundRank(r: number, max: number, q: number): number {
  if (max <= q) return Math.min(Math.max(1, r), max);
  return Math.min(max, Math.max(q, Math.round(r / q) * q));
}

const roundAll = (r: number[], max: number[], q: number) => r.map((x, i) => roundRank(x, max[i], q));
const key = (m: Method, r: readonly number[]) => `${m}:${r.join("x")}`;

/** Fractions of the largest ranks timed to fit each (layer, method) model. */
const ANCHORS = [0.125, 0.35, 1];

/** Per-layer timing: measurements, fitted models and predictions, all through one timer. */
export class LayerTimes {
  private readonly points = new Map<Method, Map<string, TimePoint>>();
  private readonly models = new Map<Method, TimeModel>();
  readonly before: number;
  constructor(readonly work: TimeWork, private readonly timer: Timer, readonly batch: number, readonly mode: TimingMode) {
    this.before = work.calls * timer.time({ layer: work.layer, method: null, ranks: [], inShape: work.inShape, batch, mode });
  }
  private readonly featureCache = new Map<string, Features>();
  private features(method: Method, ranks: number[]): Features {
    const k = key(method, ranks);
    let f = this.featureCache.get(k);
    if (!f) this.featureCache.set(k, (f = requestFeatures({ layer: this.work.layer, method, ranks, inShape: this.work.inShape, batch: this.batch })));
    return f;
  }
  private readonly noHope = new Map<Method, boolean>();
  /**
   * A method whose chain at its smallest ranks already does at least the layer's FLOPs: a chain of stock
   * layers doing no less arithmetic than the layer (plus the extra passes over memory) does not run faster,
   * so it is never timed (planning overhead, issue 15).
   */
  hopeless(option: TimeOption): boolean {
    let h = this.noHope.get(option.method);
    if (h === undefined) {
      const layer = requestFeatures({ layer: this.work.layer, method: null, ranks: [], inShape: this.work.inShape, batch: this.batch }).flops;
      h = this.features(option.method, roundAll(option.max.map(() => 1), option.max, 4)).flops >= layer;
      this.noHope.set(option.method, h);
    }
    return h;
  }
  /** Measured seconds of the chain (all calls). */
  measure(method: Method, ranks: number[]): number {
    const pts = this.points.get(method) ?? new Map<string, TimePoint>();
    this.points.set(method, pts);
    const k = key(method, ranks);
    const got = pts.get(k);
    if (got) return got.time * this.work.calls;
    const t = this.timer.time({ layer: this.work.layer, method, ranks, inShape: this.work.inShape, batch: this.batch, mode: this.mode });
    pts.set(k, { ...this.features(method, ranks), time: t });
    this.models.delete(method);
    return t * this.work.calls;
  }
  measured(method: Method, ranks: number[]): boolean {
    return this.points.get(method)?.has(key(method, ranks)) ?? false;
  }
  /** Predicted seconds (all calls): measured where timed, else the fitted model, after timing the anchors once. */
  predict(option: TimeOption, ranks: number[]): number {
    const { method } = option;
    if (this.hopeless(option)) return Infinity;
    if (!this.points.has(method)) {
      const seen = new Set<string>();
      for (const [i, f] of ANCHORS.entries()) {
        const r = roundAll(option.max.map((m) => Math.max(1, Math.round(f * m))), option.max, 4);
        if (seen.has(key(method, r))) continue;
        seen.add(key(method, r));
        const t = this.measure(method, r);
        // The smallest anchor not faster than the layer: larger ranks only cost more, so the method cannot
        // win here; its one point (a FLOPs-proportional model) predicts it slower, and no more anchors are timed.
        if (i === 0 && t >= this.before) break;
      }
    }
    const pts = this.points.get(method)!;
    const hit = pts.get(key(method, ranks));
    if (hit) return hit.time * this.work.calls;
    let model = this.models.get(method);
    if (!model) this.models.set(method, (model = fitTimeModel([...pts.values()])));
    return model.predict(this.features(method, ranks)) * this.work.calls;
  }
}

export interface TimePlanResult {
  decisions: TimeDecision[];
  /** Measured seconds of the planned layers before and after (all works), and the target (null without a budget). */
  before: number;
  after: number;
  target: number | null;
  /** Search rounds run (each ends by timing the picks). */
  rounds: number;
}

/**
 * Choose per work a method and ranks whose summed measured time fits `target` seconds (null: no budget,
 * only the fastest option at full level that beats the layer — used to report and guard other metrics).
 */
export function planTime(works: TimeWork[], target: number | null, o: TimingOptions): TimePlanResult {
  const batch = o.batch ?? 1, mode = o.mode ?? "inference", minGain = o.minGain ?? 0.03;
  if (!(Number.isInteger(batch) && batch >= 1)) fail("compress", `timing batch is ${batch}; expected an integer ≥ 1`);
  const times = works.map((w) => new LayerTimes(w, o.timer, batch, mode));
  const faster = (lt: LayerTimes, t: number) => t < lt.before * (1 - minGain);
  const banned = works.map(() => new Set<string>()); // chains measured not faster

  type Pick = { option: TimeOption; ranks: number[]; time: number } | null;
  const pickAt = (i: number, t: number, q: number): Pick => {
    const lt = times[i];
    let best: Pick = null;
    for (const option of works[i].options) {
      const ranks = roundAll(option.ranksAt(t), option.max, q);
      if (banned[i].has(key(option.method, ranks))) continue;
      const time = lt.predict(option, ranks);
      if (faster(lt, time) && (!best || time < best.time)) best = { option, ranks, time };
    }
    return best;
  };
  const total = (ps: Pick[]) => ps.reduce((a, p, i) => a + (p ? p.time : times[i].before), 0);
  const before = times.reduce((a, lt) => a + lt.before, 0);

  let picks: Pick[] = [];
  let rounds = 0;
  for (; rounds < 4; rounds++) {
    const at = (t: number) => works.map((_, i) => pickAt(i, t, 4));
    let lo = 0;
    if (target === null || total(at(1)) <= target) lo = 1;
    else {
      let hi = 1;
      for (let it = 0; it < 30; it++) { const mid = (lo + hi) / 2; if (total(at(mid)) <= target) lo = mid; else hi = mid; }
    }
    picks = at(lo);
    // Time the picks for real; a chain that is not faster is banned and the search runs again.
    let changed = false;
    picks.forEach((p, i) => {
      if (!p) return;
      const fresh = !times[i].measured(p.option.method, p.ranks);
      p.time = times[i].measure(p.option.method, p.ranks);
      if (!faster(times[i], p.time)) { banned[i].add(key(p.option.method, p.ranks)); picks[i] = null; changed = true; }
      else if (fresh) changed = true;
    });
    if (!changed || (target !== null && total(picks) <= target)) break;
  }
  // Multiples of 8 where the budget still holds (measured), layer by layer.
  if (target !== null) {
    picks.forEach((p, i) => {
      if (!p) return;
      const up = p.ranks.map((r, j) => (p.option.max[j] >= 8 && r % 8 ? Math.min(p.option.max[j], Math.ceil(r / 8) * 8) : r));
      if (up.every((r, j) => r === p.ranks[j])) return;
      const predicted = times[i].predict(p.option, up);
      if (total(picks) - p.time + predicted > target) return;
      const t = times[i].measure(p.option.method, up);
      if (faster(times[i], t) && total(picks) - p.time + t <= target) picks[i] = { ...p, ranks: up, time: t };
    });
  }
  const decisions: TimeDecision[] = picks.map((p, i) => {
    const lt = times[i];
    if (!p) {
      return { method: null, ranks: null, timeBefore: lt.before, timeAfter: lt.before, note: banned[i].size || works[i].options.length ? "left alone: no factorization measures faster than the layer" : "" };
    }
    return { method: p.option.method, ranks: p.ranks, timeBefore: lt.before, timeAfter: p.time, note: "" };
  });
  return { decisions, before, after: total(picks), target, rounds: rounds + 1 };
}
