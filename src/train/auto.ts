// The automatic schedule's decisions (Cuttlefish, MLSys 2023; Pufferfish, MLSys 2021): when to leave
// full-rank training (the stable ranks have converged), and, at the switch, per layer whether to
// factorize, how and at which rank — by the forward + backward time a cost model gives for the layer and
// for its chain, under an optional time/FLOP budget. The phase runner (src/train/phases/auto.ts) drives
// the training; this file is the pure part (tested on injected series and cost models).
import { check } from "../core/errors.ts";
import { makePlan, type Candidate, type RankSelection } from "../compress/plan.ts";
import { RANK_MULTIPLE_MAX, isRankMultiple, roundRank } from "../compress/timeplan.ts";
import { layerCost, methodCost } from "../layers/cost.ts";
import { methodSpec } from "../layers/methods/index.ts";
import type { FactorizableLayer, MethodName } from "../layers/types.ts";
import type { DecompositionOptions } from "../layers/decompositions.ts";
import type { StableRankPoint } from "./hooks/stable-rank.ts";


// ---- the cost model

/**
 * One thing to time: `layer` itself (method null) or its chain for `method` at `ranks`, on a batch.
 * The same shape as the time-aware planner's TimingRequest (src/compress/timecost.ts), so its timers
 * (measured tfjs times, cached) satisfy `LayerTimer` as they are.
 */
export interface LayerTimingRequest {
  layer: FactorizableLayer;
  method: MethodName | null;
  ranks: readonly number[];
  /** Input shape without the batch axis. */
  inShape: readonly number[];
  batch: number;
  /** Always "training" here: forward + backward. */
  mode: "inference" | "training";
}

/** A cost model: the cost of one batch through a request's layers (seconds for a real timer). */
export interface LayerTimer {
  readonly id: string;
  time(req: LayerTimingRequest): number;
}

/**
 * The fallback cost model: training FLOPs, 3 × forward FLOPs × batch (the backward pass costs about two
 * forward passes). It ignores memory traffic and per-layer overhead, so it over-rates thin chains on
 * real backends; the measured timer is the one to use where it is available.
 */
export const flopsTimer: LayerTimer = {
  id: "flops",
  time(req) {
    const f = req.method === null ? layerCost(req.layer, req.inShape).flops : methodCost(req.layer, req.method, req.ranks, req.inShape).flops;
    return (req.mode === "training" ? 3 : 1) * f * req.batch;
  },
};

/**
 * A measured timer made cheap enough for the switch's search: the layer itself is timed once; each
 * (layer, method) chain is timed at a few ranks (fractions `anchors` of its largest ranks) and other ranks
 * are read off a least-squares line t ≈ a + b·FLOPs (a, b ≥ 0) through them — the budget search asks for
 * dozens of ranks per layer, each a real timing otherwise. Pass a cached measured timer as `inner`.
 * The default anchors (1/8, 1/4 and 1/2 of the largest ranks) sit where the search asks: at or below the
 * rule's ranks (0.44–0.47 of the largest in the main job), where chains pay. A chain at its largest ranks
 * costs more than its layer (1.2× for a 3×3 Tucker-2), so the former top anchor (1) was the dearest timing
 * of the switch and described ranks never asked: with 1/2 in its place a probe of the main job's plan took
 * 3.20 s against 3.99 s (medians of 5 alternated, 2-core machine at load 1.3–1.5), with the same decisions.
 */
export function fittedTimer(inner: LayerTimer, anchors: readonly number[] = [0.125, 0.25, 0.5]): LayerTimer & { timed: () => number } {
  check(anchors.length >= 1 && anchors.every((a) => a > 0 && a <= 1), "auto", () => `anchors = [${anchors}]; expected fractions in (0, 1]`);
  const fits = new Map<string, (flops: number) => number>();
  let timed = 0;
  const time = (req: LayerTimingRequest) => { timed++; return inner.time(req); };
  return {
    id: `${inner.id} (a + b·FLOPs fitted to ${anchors.length} timed ranks per layer and method)`,
    timed: () => timed,
    time(req) {
      if (req.method === null) return time(req);
      const k = JSON.stringify([req.layer.name, req.layer.kernel.shape, req.method, req.inShape, req.batch, req.mode]);
      let f = fits.get(k);
      if (!f) {
        const max = methodSpec(req.method, "auto").maxRanks(req.layer);
        const seen = new Set<string>(), xs: number[] = [], ys: number[] = [];
        for (const a of anchors) {
          const ranks = max.map((m) => Math.max(1, Math.round(a * m)));
          if (seen.has(ranks.join("x"))) continue;
          seen.add(ranks.join("x"));
          xs.push(flopsTimer.time({ ...req, ranks })); ys.push(time({ ...req, ranks }));
        }
        f = fitLine(xs, ys);
        fits.set(k, f);
      }
      return f(flopsTimer.time(req));
    },
  };
}

/** Least squares y ≈ a + b·x with a, b ≥ 0 (one point: proportional). */
function fitLine(xs: number[], ys: number[]): (x: number) => number {
  const n = xs.length, mx = xs.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  let b = n > 1 && sxx > 0 ? sxy / sxx : NaN, a = my - b * mx;
  if (!(b >= 0) || !(a >= 0)) {
    // a line through the origin when the intercept would be negative; the mean when time falls with work (noise)
    const sx2 = xs.reduce((s, v) => s + v * v, 0);
    b = sx2 > 0 ? xs.reduce((s, v, i) => s + v * ys[i], 0) / sx2 : 0;
    a = 0;
    if (!(b >= 0) || (n > 1 && sxy < 0)) { a = my; b = 0; }
  }
  return (x) => a + b * x;
}

// ---- when to switch

export interface ConvergenceOptions {
  /** Largest relative change of a layer's stable rank per epoch still counted as converged (default 0.1). */
  epsilon?: number;
  /** Consecutive measurements every layer must stay below the threshold for (default: one epoch's worth, at least 2). */
  window?: number;
  /**
   * Measurements per epoch (default max(1, ceil(12 / epochs)): at least about 12 over the run, so a short run
   * still sees a window of changes before its cap). The per-measurement threshold is epsilon / perEpoch.
   */
  perEpoch?: number;
  /** Fewest full-rank epochs before a switch (default 1). */
  minEpochs?: number;
  /** Most full-rank epochs: switch here if not converged by then (default ceil(epochs / 2)). */
  maxEpochs?: number;
}

export interface ConvergenceCheck {
  converged: boolean;
  /** Largest relative change over the window (NaN with too few measurements). */
  maxChange: number;
  /** The layer with the largest change. */
  layer: string | null;
  threshold: number;
  window: number;
}

/** Resolved convergence settings for a run of `epochs` epochs. */
export function convergenceSettings(o: ConvergenceOptions, epochs: number): Required<ConvergenceOptions> & { threshold: number } {
  const perEpoch = o.perEpoch ?? Math.max(1, Math.ceil(12 / Math.max(1, epochs)));
  const epsilon = o.epsilon ?? 0.1;
  const window = o.window ?? Math.max(2, perEpoch);
  const minEpochs = o.minEpochs ?? 1, maxEpochs = o.maxEpochs ?? Math.ceil(epochs / 2);
  const at = "auto";
  check(Number.isInteger(perEpoch) && perEpoch >= 1, at, () => `convergence.perEpoch = ${perEpoch}; expected a positive integer`);
  check(epsilon > 0 && Number.isFinite(epsilon), at, () => `convergence.epsilon = ${epsilon}; expected a positive number`);
  check(Number.isInteger(window) && window >= 1, at, () => `convergence.window = ${window}; expected a positive integer`);
  check(Number.isInteger(minEpochs) && minEpochs >= 0, at, () => `convergence.minEpochs = ${minEpochs}; expected an integer ≥ 0`);
  check(Number.isInteger(maxEpochs) && maxEpochs >= minEpochs && maxEpochs <= epochs, at, () => `convergence.maxEpochs = ${maxEpochs}; expected an integer in ${minEpochs}..${epochs}`);
  return { perEpoch, epsilon, window, minEpochs, maxEpochs, threshold: epsilon / perEpoch };
}

/**
 * The switch test: converged when, over the last `window` consecutive pairs of measurements, every
 * layer's stable rank changed by less than `threshold` relatively (|s_t − s_{t−1}| / s_{t−1}).
 */
export function checkConvergence(points: readonly StableRankPoint[], threshold: number, window: number): ConvergenceCheck {
  if (points.length < window + 1) return { converged: false, maxChange: NaN, layer: null, threshold, window };
  let maxChange = 0, layer: string | null = null;
  for (let i = points.length - window; i < points.length; i++) {
    const a = points[i - 1].ranks, b = points[i].ranks;
    for (const [name, v] of Object.entries(b)) {
      const u = a[name];
      if (u === undefined) continue;
      const d = u > 0 ? Math.abs(v - u) / u : (v === 0 ? 0 : Infinity);
      if (d > maxChange || layer === null) { maxChange = Math.max(maxChange, d); layer = name; }
    }
  }
  return { converged: maxChange < threshold, maxChange, layer, threshold, window };
}

// ---- what to do at the switch

export interface AutoPlanOptions {
  /**
   * Rank rule (default { kind: "stable", scale: 1 }: Cuttlefish's scaled stable rank, taken exactly from the
   * kernel's spectrum at the switch — the tracked power-iteration value, within 1 % of it, is recorded
   * beside it); EVBMF, energy or a params/FLOPs budget of the planner also work.
   */
  select?: RankSelection;
  /** Conv2D method (default "channel-svd": the (kh·kw·S)×T unfolding the stable rank is measured on, with balanced factors U√Σ, √ΣVᵀ). */
  convMethod?: MethodName;
  /** Solver options of the factorization at the switch (default compress's: Tucker by HOSVD); e.g. { tucker: { method: "hooi" } } as decompose-at's benches use. */
  decomposition?: DecompositionOptions;
  /** Keep the first Conv2D layer dense (default true: Pufferfish/Cuttlefish — it is cheap and sensitive). */
  keepFirstConv?: boolean;
  /**
   * Keep the last Dense/Conv2D layer (the classifier) dense (default true: Pufferfish keeps it full-rank).
   * It is tiny, so the measured cost model's noise decides it: in the workloads bench under load it
   * once put a 10-class output layer at rank 2 and cost 25 points.
   */
  keepLastLayer?: boolean;
  /** Layers never factorized, by name. */
  skip?: string[];
  /** The cost model (default: flopsTimer; pass the measured timer for real times). */
  timer?: LayerTimer;
  /** Batch the cost model is asked at (default the training batch size). */
  batch?: number;
  /** A chain must cost at least this fraction less than its layer to replace it (default 0.03, above timer noise). */
  minGain?: number;
  /**
   * Keep at most this fraction of the factorizable layers' cost in the timer's units — a FLOP budget with
   * flopsTimer, a time budget with a measured timer: the rule's ranks shrink together until it holds.
   */
  budget?: number;
  /**
   * The cost model the budget is kept in (default: `timer`). Pass flopsTimer with a measured `timer` for a
   * FLOP budget whose chains must still pay in measured time: the budget then holds FLOPs, and a chain
   * that would not cost `minGain` less than its layer on the backend stays dense.
   */
  budgetTimer?: LayerTimer;
  /**
   * The budget never shrinks the rule's ranks below this fraction (default 0.25): a budget that the kept
   * layers alone exceed would otherwise drive every chain to rank 1 (seen with a noisy measured timer:
   * −63 pts). Below it the budget is reported as not met.
   */
  minScale?: number;
  /**
   * Round the chosen ranks to multiples of this (nearest, at least this; layers whose largest rank is
   * smaller keep their own), so chains fill SIMD lanes and GEMM tiles (default 1: as the rule gives them;
   * the CLI's train and main pass 8, see compress's `rankMultiple`).
   */
  rankMultiple?: number;
}

export interface LayerDecision {
  layer: string;
  kind: FactorizableLayer["className"];
  action: "factorize" | "keep";
  method: MethodName | null;
  ranks: number[];
  maxRanks: number[];
  /** The rank rule's rank(s) before any budget scaling. */
  ruleRanks: number[];
  /** ‖W‖²_F/σ_max² of the kernel's matrix (Dense; Conv2D (kh·kw·S)×T) at the switch. */
  stableRank: number | null;
  /** Cost-model figures for one batch, forward + backward (timer units). */
  denseCost: number;
  factorizedCost: number | null;
  why: string;
}

export interface SwitchPlan {
  decisions: LayerDecision[];
  timer: string;
  /** Sum of the factorizable layers' cost before and after (timer units). */
  costBefore: number;
  costAfter: number;
  /**
   * scale: the one factor on every rule rank that met the budget; filled: layers whose ranks were then raised (by
   * rankMultiple steps) to spend what rounding left; timer, before, after: the budget's cost model and the
   * factorizable layers' cost in it (the same as `timer`, costBefore and costAfter unless budgetTimer was given).
   */
  budget?: { keep: number; met: boolean; scale: number; filled: number; timer: string; before: number; after: number };
}

/** Decide per layer at the switch. Pure given the candidates, stable ranks and the cost model. */
export function planSwitch(all: Candidate[], totalParams: number, stable: Record<string, number>, o: AutoPlanOptions & { batch: number }): SwitchPlan {
  // The auto schedule tracks stable ranks of Dense and Conv2D layers only; other factorizable kinds
  // (SeparableConv2D, Conv2DTranspose) stay as they are here.
  const candidates = all.filter((c) => c.layer.className === "Dense" || c.layer.className === "Conv2D");
  const timer = o.timer ?? flopsTimer;
  const minGain = o.minGain ?? 0.03;
  check(minGain >= 0 && minGain < 1, "auto", () => `plan.minGain = ${minGain}; expected a fraction in [0, 1)`);
  check(o.budget === undefined || (o.budget > 0 && o.budget <= 1), "auto", () => `plan.budget = ${o.budget}; expected a fraction in (0, 1]`);
  const select: RankSelection = o.select ?? { kind: "stable" };
  const convMethod = o.convMethod ?? "channel-svd";
  const methods: Record<string, MethodName> = {};
  for (const c of candidates) methods[c.layer.name] = c.layer.className === "Dense" ? "svd" : convMethod;
  for (const m of new Set(Object.values(methods))) methodSpec(m, "auto");
  const firstConv = candidates.find((c) => c.layer.className === "Conv2D")?.layer.name;
  const skip = new Map<string, string>((o.skip ?? []).map((n) => [n, "skipped by options"]));
  if ((o.keepFirstConv ?? true) && firstConv && !skip.has(firstConv)) skip.set(firstConv, "first Conv2D layer: kept dense (Pufferfish/Cuttlefish)");
  const last = candidates.at(-1)?.layer.name;
  if ((o.keepLastLayer ?? true) && last && candidates.length > 1 && !skip.has(last)) skip.set(last, "last layer (the classifier): kept dense (Pufferfish)");
  const plan = makePlan(candidates, [], totalParams, { select, methods, skip: [...skip.keys()] });
  const costIn = (t: LayerTimer) => (c: Candidate, method: MethodName | null, ranks: readonly number[]) =>
    t.time({ layer: c.layer, method, ranks, inShape: c.inShape, batch: o.batch, mode: "training" }) * c.calls;
  const cost = costIn(timer);
  const budgetTimer = o.budgetTimer ?? timer;
  // A budget in another cost model than the decisions' (null: the decisions' own figures are the budget's).
  const bcost = budgetTimer === timer ? null : costIn(budgetTimer);
  const q = o.rankMultiple ?? 1;
  check(isRankMultiple(q), "auto", () => `plan.rankMultiple = ${q}; expected an integer from 1 to ${RANK_MULTIPLE_MAX}`);
  const rounded = (ranks: number[], max: number[]) => (q > 1 ? ranks.map((r, i) => roundRank(r, max[i], q)) : ranks);

  const decisions: LayerDecision[] = candidates.map((c, i) => {
    const e = plan.entries[i];
    const dense = cost(c, null, []);
    const base = { layer: c.layer.name, kind: c.layer.className, maxRanks: e.maxRanks, stableRank: stable[c.layer.name] ?? null, denseCost: dense };
    const keep = (why: string, ruleRanks: number[] = [], factorizedCost: number | null = null): LayerDecision =>
      ({ ...base, action: "keep", method: null, ranks: [], ruleRanks, factorizedCost, why });
    if (skip.has(c.layer.name)) return keep(skip.get(c.layer.name)!);
    if (e.action !== "factorize") return keep(`rank rule: ${e.note || "no saving"}`, e.ranks);
    const method = methods[c.layer.name];
    const ranks = rounded(e.ranks, e.maxRanks);
    const f = cost(c, method, ranks);
    if (!(f < (1 - minGain) * dense)) return keep(`factorizing does not pay: ${fmt(f)} vs ${fmt(dense)} dense (needs ≥ ${(100 * minGain).toFixed(0)}% less)`, e.ranks, f);
    return { ...base, action: "factorize", method, ranks, ruleRanks: e.ranks, factorizedCost: f, why: `${fmt(f)} vs ${fmt(dense)} dense` };
  });
  const eligible = candidates.map((c, i) => !skip.has(c.layer.name) && plan.entries[i].action === "factorize");
  const costBefore = decisions.reduce((a, d) => a + d.denseCost, 0);
  const after = (ds: LayerDecision[]) => ds.reduce((a, d) => a + (d.action === "factorize" ? d.factorizedCost! : d.denseCost), 0);
  // a decision's cost in the budget's cost model
  const inBudget = (d: LayerDecision, i: number) => {
    const fact = d.action === "factorize";
    if (!bcost) return fact ? d.factorizedCost! : d.denseCost;
    return fact ? bcost(candidates[i], d.method, d.ranks) : bcost(candidates[i], null, []);
  };
  const afterB = (ds: LayerDecision[]) => ds.reduce((a, d, i) => a + inBudget(d, i), 0);
  const fill = (ds: LayerDecision[], target: number): LayerDecision[] => {
    const cur = ds.slice(), done = new Set<number>();
    let total = afterB(cur);
    for (;;) {
      let best = -1, bestRatio = Infinity;
      for (const [i, d] of cur.entries()) {
        if (!eligible[i] || d.action !== "factorize" || done.has(i)) continue;
        const ratio = d.ranks.reduce((a, r, j) => a + r / d.ruleRanks[j], 0) / d.ranks.length;
        if (ratio < bestRatio) { best = i; bestRatio = ratio; }
      }
      if (best < 0) return cur;
      const d = cur[best], c = candidates[best], cap = rounded(d.ruleRanks, d.maxRanks);
      const next = d.ranks.map((r, j) => Math.max(r, Math.min(cap[j], r + q)));
      const f = next.some((r, j) => r !== d.ranks[j]) ? cost(c, d.method!, next) : Infinity;
      const was = inBudget(d, best), fb = bcost && f !== Infinity ? bcost(c, d.method!, next) : f;
      if (total - was + fb <= target && f < (1 - minGain) * d.denseCost) {
        total += fb - was;
        cur[best] = { ...d, ranks: next, factorizedCost: f, why: `${fmt(f)} vs ${fmt(d.denseCost)} dense, ranks raised to fill the budget` };
      } else done.add(best);
    }
  };
  let out = decisions, budget: SwitchPlan["budget"];
  if (o.budget !== undefined) {
    const before = bcost ? candidates.reduce((a, c) => a + bcost(c, null, []), 0) : costBefore;
    const target = o.budget * before;
    // Shrink every factorized layer's rule ranks by one scale s ∈ (0, 1], the largest that meets the budget.
    // Layers the rule factorizes (whether or not it paid at the rule's ranks) are rescaled; kept ones stay.
    const at = (s: number): LayerDecision[] => decisions.map((d, i) => {
      if (!eligible[i]) return d;
      const c = candidates[i], method = methods[c.layer.name], ranks = rounded(d.ruleRanks.map((r) => Math.max(1, Math.floor(s * r))), d.maxRanks);
      const f = cost(c, method, ranks);
      if (!(f < (1 - minGain) * d.denseCost)) return { ...d, action: "keep" as const, method: null, ranks: [], factorizedCost: f, why: `factorizing does not pay at ranks [${ranks}]: ${fmt(f)} vs ${fmt(d.denseCost)} dense` };
      return { ...d, action: "factorize" as const, method, ranks, factorizedCost: f, why: `${fmt(f)} vs ${fmt(d.denseCost)} dense${s < 1 ? `, rule ranks ×${s.toFixed(3)} for the budget` : ""}` };
    });
    const floor = o.minScale ?? 0.25;
    check(floor > 0 && floor <= 1, "auto", () => `plan.minScale = ${floor}; expected a fraction in (0, 1]`);
    let s = 1;
    if (afterB(at(1)) > target) {
      if (afterB(at(floor)) > target) s = floor; // not reachable without gutting the layers: stop at the floor
      else {
        let lo = floor, hi = 1;
        for (let it = 0; it < 30; it++) { const mid = (lo + hi) / 2; if (afterB(at(mid)) <= target) lo = mid; else hi = mid; }
        s = lo;
      }
    }
    // One scale for all layers, with ranks rounded to multiples of q, leaves budget unspent (the main job's
    // CNN at a 40 % budget and q = 8: 35 % of the factorizable FLOPs). Spend it: raise one layer at a time
    // by q, the layer furthest below its rule ranks first, while the total stays within the budget and no
    // rank passes the rule's own (rounded).
    const scaled = at(s);
    out = fill(scaled, target);
    const spent = afterB(out);
    budget = { keep: o.budget, met: spent <= target * (1 + 1e-9), scale: s, filled: out.filter((d, i) => d !== scaled[i]).length, timer: budgetTimer.id, before, after: spent };
  }
  return { decisions: out, timer: timer.id, costBefore, costAfter: after(out), budget };
}

const fmt = (x: number) => (x >= 1e4 || x < 1e-2 ? x.toExponential(2) : x.toFixed(3));

// ---- what the run records

/**
 * Low-rank epochs a switch should leave for fine-tuning: the switch costs accuracy (the main CNN drops
 * 5–30 pt right after it) and one epoch rarely wins it back on small subsets.
 */
export const MIN_RECOVERY_EPOCHS = 2;
/** A phase ending more than this below its accuracy before the switch gets a warning (the seed's ≤ 1.5 pt). */
export const ACCURACY_DROP_WARN = 0.015;

/** Everything the auto schedule decided and why (TrainResult.auto, the train report). */
export interface AutoRecord {
  /** Global epoch at whose end the model was factorized (null: no switch); fractional for a mid-epoch switch (switchAt 0.5 → 0.5). */
  switchEpoch: number | null;
  /** Global training step at the switch (null: no switch). */
  switchStep: number | null;
  /** Full-rank epochs the phase trained before the switch (fractional for a mid-epoch switch). */
  fullRankEpochs: number;
  /** Why it switched then ("stable ranks converged: …", "switchAt = 3", "not converged by the cap …"). */
  reason: string;
  convergence: { epsilon: number; window: number; perEpoch: number; threshold: number; minEpochs: number; maxEpochs: number; last: ConvergenceCheck | null };
  /** Every stable-rank measurement of the full-rank part. */
  stableRanks: StableRankPoint[];
  /** Per-layer decisions at the switch, with the cost model's figures (null: no switch). */
  plan: SwitchPlan | null;
  /** Test accuracy just before and after the switch. */
  accuracyBefore: number | null;
  accuracyAfter: number | null;
  frobeniusDecay: number;
  /** Steps between decay applications (each at that many times λ). */
  frobeniusDecayEvery: number;
  /** The low-rank part's learning rate as a multiple of the run's (phase.lowRankLrScale; a fold-back returns to 1×). */
  lowRankLrScale: number;
  /** Chains under Frobenius decay (original layer names). */
  decayedChains: string[];
  /** Each factorized layer's relative kernel error ‖W − chain‖_F / ‖W‖_F at the switch (as compress measures it). */
  kernelErrors: Record<string, number>;
  /** Global epoch at whose end the chains were folded back (null: none). */
  reconstructedAt: number | null;
  /**
   * Early stopping of the low-rank part (phase.earlyStop): every prediction made (after which epoch, the
   * predicted accuracy at the end of the phase, the decision), whether it stopped, and the accuracy the
   * phase actually ended at (to set against the first prediction).
   */
  earlyStop: { predictions: { epoch: number; predicted: number; best: number; stop: boolean; reason: string }[]; stoppedAfter: number | null; finalAccuracy: number } | null;
  /**
   * What the user should know about how the phase went (empty when nothing): a switch that left fewer than
   * MIN_RECOVERY_EPOCHS low-rank epochs to recover, a phase that ended below its accuracy before the switch.
   */
  warnings: string[];
  /** Training seconds per epoch of each part; `switched`: the epoch a mid-epoch switch split (part full-rank, part low-rank). */
  epochSeconds: { fullRank: number[]; lowRank: number[]; reconstructed: number[]; switched: number[] };
  /**
   * Wall-clock seconds of the switch itself, outside the epochs' training seconds (null: no switch): `plan`
   * decides per layer (with a measured cost model, its timings), `factorize` evaluates before, builds the
   * factorized model, rebuilds the optimizer and evaluates after; `timings`: the cost model's real
   * measurements during the plan (0 for a FLOP model).
   */
  switchSeconds: { plan: number; factorize: number; timings: number } | null;
}
