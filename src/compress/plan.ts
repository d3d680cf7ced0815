// The planner: per layer a method and ranks, from explicit ranks, a global
// parameter/FLOP budget, EVBMF (weakened or not) or an energy threshold.
// tfjs-free: it sees layers as kernels plus input shapes.
import { fail } from "../core/errors.ts";
import type { RankRule } from "../decompose/rank.ts";
import { convGeometry } from "../layers/chain.ts";
import { layerCost, methodCost } from "../layers/cost.ts";
import type { DecompositionOptions } from "../layers/decompositions.ts";
import { checkRanks, maxRanks } from "../layers/factorize.ts";
import { convMethodNames, REGISTRY, type MethodSpec } from "../layers/methods/index.ts";
import type { RankSpectra } from "../layers/methods/spec.ts";
import type { ConvMethod, FactorizableLayer, MethodName } from "../layers/types.ts";
import { planEnergyRank, evbmfRank } from "./ranks.ts";
import { CachedTimer, type TimingOptions } from "./timecost.ts";
import { LayerTimes, RANK_MULTIPLE_MAX, type TimeOption, isRankMultiple, planTime, roundRank } from "./timeplan.ts";

/**
 * How ranks are chosen for layers without explicit ranks. In the decompositions' vocabulary
 * (RankRule of src/decompose/rank.ts; rankRuleOf gives the mapping):
 * - "evbmf" is { rule: "evbmf", weaken, fallback: "skip" }. When EVBMF keeps nothing (rank 0 on an
 *   unfolding, e.g. a noise-like or untrained kernel) the layer is kept as it is, and its plan entry
 *   says so in a note ("EVBMF found no signal above noise in the input-channel mode, layer kept"); no fallback rank is invented.
 *   Two differences remain, kept so plans do not change: the planner rounds R − w·(R − r) to the
 *   nearest integer where selectRank floors it, and with weaken w < 1 the planner weakens a 0 rank
 *   to R·(1 − w) where selectRank applies the fallback first. At w = 1 (the default) they agree.
 * - "energy" is { rule: "energy", energy: threshold }.
 * - "full" is { rule: "fraction", fraction: 1 }: each method's largest rank, exact.
 * - "budget" is the planner's own: a global allocation across layers, which a per-tensor rule
 *   cannot express (rankRuleOf gives null).
 * - "stable" is Cuttlefish's scaled stable rank: ceil(scale · Σσ²/σ_max²) per unfolding, from the
 *   same spectra (rankRuleOf gives null: selectRank has no such rule yet).
 */
export type RankSelection =
  /**
   * Keep this fraction (0, 1] of the model's parameters (or of its FLOPs, or of its measured time: needs
   * `timing`), allocated across layers. `batch` overrides timing.batch.
   */
  | { kind: "budget"; keep: number; metric?: "params" | "flops" | "time"; batch?: number }
  /** EVBMF on each unfolding; `weaken` w ∈ [0, 1] gives R − w·(R − r_vbmf) (default 1: plain EVBMF). */
  | { kind: "evbmf"; weaken?: number }
  /** Smallest rank keeping ≥ threshold of Σσ² per unfolding. */
  | { kind: "energy"; threshold: number }
  /** Exact (largest) ranks: the factorized model computes the same function. */
  | { kind: "full" }
  /** Scaled stable rank ceil(scale · ‖W‖²_F/σ_max²) of each unfolding (Cuttlefish; default scale 1). */
  | { kind: "stable"; scale?: number };

/** Options shared by compress() and planCompression(). */
export interface CompressOptions {
  /** Rank rule for layers without explicit ranks (default: EVBMF, as Elhoushi et al.). */
  select?: RankSelection;
  /** Method for Conv2D layers (default "auto": 1×1 → channel-svd, ≤ firstConvChannels inputs → tucker1, else tucker2); any registered Conv2D method. */
  convMethod?: ConvMethod | "auto" | (string & {});
  /** "auto" uses Tucker-1 (output mode) for convs with at most this many input channels (default 4). */
  firstConvChannels?: number;
  /** Per-layer method, by layer name (any registered method). */
  methods?: Record<string, MethodName>;
  /** Per-layer explicit ranks, by layer name (honoured even where they do not save; the plan says so). */
  ranks?: Record<string, number | number[]>;
  /** Layers to leave alone, by name. */
  skip?: string[];
  /** Options passed to the decompositions (seed, Tucker solver, CP iterations). */
  decomposition?: DecompositionOptions;
  /**
   * Fold each BatchNormalization into the Conv2D / DepthwiseConv2D / Dense before it first (exact in
   * inference; see compress/bnfold.ts). Default false in the API (training schedules keep their BNs); the
   * CLI's compress turns it on.
   */
  foldBatchNorm?: boolean;
  /**
   * Measure time (see compress/timecost.ts): needed by the "time" budget; with any rule, chains that do not
   * measure faster than their layer are left out (explicit ranks are kept, with a note), budget ranks are
   * rounded to SIMD-friendly multiples, and the plan reports measured time per layer and in total.
   */
  timing?: TimingOptions;
  /**
   * Round the ranks a params / FLOPs budget picks to multiples of this (nearest, at least this; a layer whose
   * largest rank is smaller keeps its own), before the budget is checked, so the budget still holds. Narrow
   * factor chains run far below a kernel's throughput when their channel counts leave SIMD lanes and GEMM
   * tiles part-empty: XNNPACK packs output channels in 8s, so rank 17 pays for 24 (bench engine: the main
   * job's CNN at 0.4 FLOPs trains 11 % faster per step with ranks 16/32 than with 17/33 at 5 % fewer FLOPs).
   * Default 1 (exact budget ranks), or 4 with `timing`; the training schedules of the CLI use 8.
   */
  rankMultiple?: number;
  /**
   * Called synchronously as the work advances: after each layer's spectra are planned, after each
   * layer is factorized, and once at the end. (Through odecomp/worker it is called on the caller's
   * thread as the worker's progress messages arrive.)
   */
  onProgress?: (progress: CompressProgress) => void;
}

/** One progress report of compress(): `fraction` never decreases and is 1 at phase "done". */
export interface CompressProgress {
  /** "plan": a layer's spectra were computed for rank selection; "factorize": a layer was factorized; "done": finished. */
  phase: "plan" | "factorize" | "done";
  /** The layer just planned or factorized (null at "done"). */
  layer: string | null;
  /** Steps finished and the number of steps (one per candidate layer to plan, one per layer to factorize). */
  step: number;
  steps: number;
  /** step / steps, in [0, 1]. */
  fraction: number;
}

/** A factorizable layer as the planner sees it. */
export interface Candidate {
  layer: FactorizableLayer;
  /** Input shape without the batch axis. */
  inShape: number[];
  /** How many times the layer is called in the graph (shared layers cost FLOPs per call). */
  calls: number;
}

/** A layer with weights the planner cannot factorize (reported, left untouched). */
export interface Other {
  name: string;
  kind: string;
  params: number;
  reason: string;
  /** Forward FLOPs per sample where the cost model knows the layer kind, else 0. */
  flops?: number;
}

export interface PlanEntry {
  layer: string;
  kind: string;
  method: MethodName | null;
  ranks: number[];
  maxRanks: number[];
  action: "factorize" | "keep";
  note: string;
  paramsBefore: number;
  paramsAfter: number;
  flopsBefore: number;
  flopsAfter: number;
  /** ‖W − Ŵ‖/‖W‖: measured after compress(); in a dry run exact for SVD methods and Tucker-1, an upper bound for Tucker-2, null for CP. */
  relError: number | null;
  relErrorKind: "measured" | "exact" | "bound" | null;
  /** Measured seconds per batch (all calls) before and after, when timing was on; else absent. */
  timeBefore?: number | null;
  timeAfter?: number | null;
}

export interface Plan {
  entries: PlanEntry[];
  select: RankSelection;
  totals: { paramsBefore: number; paramsAfter: number; flopsBefore: number; flopsAfter: number; timeBefore?: number; timeAfter?: number };
  /** The multiple a params / FLOPs budget rounded its ranks to (options.rankMultiple; 1: exact); absent for other rules. */
  rankMultiple?: number;
  /** BatchNormalization layers folded into the layer before them (options.foldBatchNorm). */
  foldedBatchNorm?: { batchNorm: string; into: string }[];
  /** When timing was on: what was timed, the whole model's measured time if given, and the time budget's target. */
  timing?: { timer: string; batch: number; mode: string; modelTime: number | null; target: number | null };
}

const WHERE = "compress";

function checkOptions(o: CompressOptions, names: Set<string>): RankSelection {
  const sel: RankSelection = o.select ?? { kind: "evbmf" };
  switch (sel.kind) {
    case "budget":
      if (!(typeof sel.keep === "number" && sel.keep > 0 && sel.keep <= 1)) fail(WHERE, `budget keep is ${sel.keep}; expected a fraction in (0, 1]`);
      if (sel.metric !== undefined && sel.metric !== "params" && sel.metric !== "flops" && sel.metric !== "time") fail(WHERE, `budget metric is '${sel.metric}'; expected 'params', 'flops' or 'time'`);
      if (sel.metric === "time" && !o.timing) fail(WHERE, "budget metric 'time' needs options.timing (a Timer; odecomp/models sets one up)");
      if (sel.batch !== undefined && !(Number.isInteger(sel.batch) && sel.batch >= 1)) fail(WHERE, `budget batch is ${sel.batch}; expected an integer ≥ 1`);
      break;
    case "energy":
      if (!(typeof sel.threshold === "number" && sel.threshold > 0 && sel.threshold <= 1)) fail(WHERE, `energy threshold is ${sel.threshold}; expected a fraction in (0, 1]`);
      break;
    case "evbmf":
      if (sel.weaken !== undefined && !(sel.weaken >= 0 && sel.weaken <= 1)) fail(WHERE, `evbmf weaken is ${sel.weaken}; expected a number in [0, 1]`);
      break;
    case "full":
      break;
    case "stable":
      if (sel.scale !== undefined && !(typeof sel.scale === "number" && sel.scale > 0 && Number.isFinite(sel.scale))) fail(WHERE, `stable rank scale is ${sel.scale}; expected a positive number`);
      break;
    default:
      fail(WHERE, `select.kind is '${(sel as { kind: unknown }).kind}'; expected 'budget', 'evbmf', 'energy', 'stable' or 'full'`);
  }
  if (o.rankMultiple !== undefined && !isRankMultiple(o.rankMultiple)) {
    fail(WHERE, `rankMultiple is ${o.rankMultiple}; expected an integer from 1 to ${RANK_MULTIPLE_MAX}`);
  }
  const cm = o.convMethod ?? "auto";
  const conv = convMethodNames();
  if (cm !== "auto" && !conv.includes(cm)) fail(WHERE, `convMethod is '${cm}'; expected 'auto' or one of ${conv.join(", ")}`);
  const fc = o.firstConvChannels ?? 4;
  if (!Number.isInteger(fc) || fc < 0) fail(WHERE, `firstConvChannels is ${fc}; expected an integer ≥ 0`);
  const known = [...names].join(", ");
  for (const [what, keys] of [["methods", Object.keys(o.methods ?? {})], ["ranks", Object.keys(o.ranks ?? {})], ["skip", o.skip ?? []]] as const) {
    for (const k of keys) if (!names.has(k)) fail(WHERE, `${what} names layer '${k}', which is not a factorizable layer of the model; expected one of: ${known || "(none)"}`);
  }
  return sel;
}

/** The rule as the decompositions' selectRank would take it (null for "budget", which has no per-tensor form). */
export function rankRuleOf(sel: RankSelection): RankRule | null {
  switch (sel.kind) {
    case "evbmf": return { rule: "evbmf", weaken: sel.weaken ?? 1, fallback: "skip" };
    case "energy": return { rule: "energy", energy: sel.threshold };
    case "full": return { rule: "fraction", fraction: 1 };
    case "budget": case "stable": return null;
  }
}

function chooseMethod(layer: FactorizableLayer, o: CompressOptions): MethodName {
  const m = o.methods?.[layer.name];
  if (m !== undefined) {
    const spec = REGISTRY[m];
    if (!spec) fail(WHERE, `methods['${layer.name}'] is '${m}'; expected one of ${Object.keys(REGISTRY).join(", ")}`);
    if (spec.appliesTo !== layer.className) fail(WHERE, `methods['${layer.name}'] is '${m}', which applies to ${spec.appliesTo}, but '${layer.name}' is ${layer.className}`);
    return m;
  }
  if (layer.className === "Dense") return "svd";
  if (layer.className === "SeparableConv2D") return "separable-svd";
  if (layer.className === "Conv2DTranspose") return "transpose-svd";
  const cm = o.convMethod ?? "auto";
  if (cm !== "auto") return cm;
  const [kh, kw, s] = layer.kernel.shape;
  if (kh === 1 && kw === 1) return "channel-svd";
  if (s <= (o.firstConvChannels ?? 4)) return "tucker1";
  return "tucker2";
}

interface Work {
  c: Candidate;
  method: MethodName;
  spec: MethodSpec;
  max: number[];
  before: { params: number; flops: number };
  spectra: Float64Array[] | null;
  shapes: [number, number][];
  fixed: number[] | null; // explicit ranks
  note: string;
  skip: boolean;
}

function costAt(w: Work, ranks: number[]) {
  const c = methodCost(w.c.layer, w.method, ranks, w.c.inShape);
  return { params: c.params, flops: c.flops * w.c.calls };
}

/** A pooled rank (CP) from the per-spectrum ranks: the larger of them (as Elhoushi et al.'s code). */
const pooled = (r: number[], max: number) => [Math.min(Math.max(...r), max)];

function ranksByRule(w: Work, sel: RankSelection): number[] {
  const s = w.spectra!;
  let r: number[];
  switch (sel.kind) {
    case "full": return w.max;
    case "energy": r = s.map((x) => planEnergyRank(x, sel.threshold)); break;
    case "evbmf": r = s.map((x, i) => evbmfRank(x, w.shapes[i], sel.weaken ?? 1)); break;
    case "stable": r = s.map((x) => scaledStableRank(x, sel.scale ?? 1)); break;
    default: return fail(WHERE, `internal: rule ${sel.kind}`);
  }
  return w.spec.rankRule === "pooled" ? pooled(r, w.max[0]) : r.map((x, i) => Math.min(x, w.max[i]));
}

/** ceil(scale · Σσ²/σ_max²) of a spectrum (0 for a zero one, so the layer is left alone). */
export function scaledStableRank(s: ArrayLike<number>, scale = 1): number {
  let top = 0, sum = 0;
  for (let i = 0; i < s.length; i++) { const x = Math.abs(s[i]); if (x > top) top = x; }
  if (!(top > 0)) return 0;
  for (let i = 0; i < s.length; i++) { const x = s[i] / top; sum += x * x; }
  return Math.ceil(scale * sum - 1e-9);
}

/** Ranks at allocation level t ∈ [0, 1]: energy threshold t on each spectrum (pooled, e.g. CP: t of its break-even rank). */
function ranksAtLevel(w: Work, t: number, breakEven: number): number[] {
  if (w.spec.rankRule === "pooled") return [Math.max(1, Math.floor(t * breakEven + 1e-9))];
  return w.spectra!.map((x, i) => Math.min(w.max[i], Math.max(1, planEnergyRank(x, t))));
}

/** Names of a method's rank modes, for notes ("input mode"): Tucker-2's two channel modes, else the one rank. */
function modeNames(w: Work): string[] {
  if (w.spec.ranks === 2) return ["input-channel mode", "output-channel mode"];
  return [w.spec.rankRule === "pooled" ? "channel modes" : "kernel"];
}

/** Why a rank rule gave rank 0, in words: which mode had no signal (EVBMF) or kept no energy. */
function noSignalNote(w: Work, sel: RankSelection, r: number[]): string {
  const names = modeNames(w);
  const modes = r.map((x, i) => (x < 1 ? names[i] ?? `mode ${i + 1}` : null)).filter((x): x is string => x !== null);
  const where = modes.length === names.length && names.length > 1 ? "either channel mode" : `the ${modes.join(" or the ")}`;
  const rule = sel.kind === "evbmf" ? `EVBMF found no signal above noise in ${where}` : `the ${sel.kind} rule kept no component in ${where}`;
  return `${rule}, layer kept`;
}

function saves(w: Work, ranks: number[]): { ok: boolean; why: string } {
  const a = costAt(w, ranks);
  if (a.params >= w.before.params) return { ok: false, why: `would not save parameters (${a.params} ≥ ${w.before.params} at ranks [${ranks}])` };
  if (a.flops >= w.before.flops) return { ok: false, why: `would not save FLOPs (${a.flops} ≥ ${w.before.flops} at ranks [${ranks}])` };
  return { ok: true, why: "" };
}

/** Largest (pooled, single) rank whose chain is cheaper than the layer (≥ 1). */
function breakEvenRank(w: Work): number {
  let lo = 1, hi = w.max[0];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (saves(w, [mid]).ok) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// ---- timing (compress/timeplan.ts does the search) ----

function timingFor(t: TimingOptions, sel: RankSelection): TimingOptions {
  if (!t.timer || typeof t.timer.time !== "function") fail(WHERE, "timing.timer is not a Timer (an object with id and time(request))");
  const batch = sel.kind === "budget" && sel.batch !== undefined ? sel.batch : t.batch ?? 1;
  if (!(Number.isInteger(batch) && batch >= 1)) fail(WHERE, `timing batch is ${batch}; expected an integer ≥ 1`);
  // One cache per plan at least, so the search and the report never time a chain twice.
  return { ...t, batch, timer: t.timer instanceof CachedTimer ? t.timer : new CachedTimer(t.timer) };
}

function layerTimesOf(t: TimingOptions): (w: Work) => LayerTimes {
  const m = new Map<Work, LayerTimes>();
  return (w) => {
    let lt = m.get(w);
    if (!lt) m.set(w, (lt = new LayerTimes({ layer: w.c.layer, inShape: w.c.inShape, calls: w.c.calls, options: [] }, t.timer, t.batch ?? 1, t.mode ?? "inference")));
    return lt;
  };
}

/**
 * Methods `--method auto` weighs by measured time for a layer (the asked one only, where a method was
 * asked for). The built-in conv methods: timing builds chains from their kernel shapes (timecost.ts).
 */
/** Spectra per layer and spectra function, for one plan: methods sharing one (Tucker-2 and CP, Tucker-1 and channel SVD) compute it once. */
type SpectraMemo = Map<FactorizableLayer, Map<MethodSpec["spectra"], RankSpectra>>;
function spectraOf(memo: SpectraMemo, w: Work, method: MethodName, o: CompressOptions): RankSpectra {
  const spec = REGISTRY[method];
  const byFn = memo.get(w.c.layer) ?? new Map<MethodSpec["spectra"], RankSpectra>();
  memo.set(w.c.layer, byFn);
  let r = byFn.get(spec.spectra);
  if (!r) byFn.set(spec.spectra, (r = spec.spectra(w.c.layer, o.decomposition)));
  return r;
}

function timeOptions(w: Work, o: CompressOptions, memo: SpectraMemo): TimeOption[] {
  // the spectra the rule step already computed for the layer's own method
  if (w.spectra && !memo.has(w.c.layer)) memo.set(w.c.layer, new Map([[w.spec.spectra, { spectra: w.spectra, shapes: w.shapes }]]));
  const asked = o.methods?.[w.c.layer.name] !== undefined || w.c.layer.className !== "Conv2D" || (o.convMethod ?? "auto") !== "auto";
  const [kh, kw] = w.c.layer.kernel.shape;
  let methods: MethodName[];
  if (asked) methods = [w.method];
  else if (kh === 1 && kw === 1) methods = ["channel-svd"];
  // tucker1 and channel-svd build the same chain; keep the default rule's name for it.
  else methods = [w.method === "tucker1" ? "tucker1" : "channel-svd", "tucker2", "spatial-svd", "cp"];
  methods = methods.filter((m) => REGISTRY[m] && (m === w.method || !REGISTRY[m].leaveAlone?.(w.c.layer)));
  return methods.map((method) => {
    const spec = REGISTRY[method];
    const max = maxRanks(w.c.layer, method);
    const spectra = spectraOf(memo, w, method, o).spectra;
    const ranksAt = (t: number) => {
      const r = spectra.map((x) => Math.max(1, planEnergyRank(x, t)));
      return spec.rankRule === "pooled" ? pooled(r, max[0]) : r.map((x, i) => Math.min(x, max[i]));
    };
    return { method, max, ranksAt };
  });
}

/** The time budget: sets chosen ranks (and methods) of the free works; returns the target in seconds. */
function timeBudget(works: Work[], free: Work[], chosen: Map<Work, number[] | null>, keep: number, t: TimingOptions, timesOf: (w: Work) => LayerTimes, o: CompressOptions): number {
  const timeable = works.filter((w) => !w.note.startsWith("unsupported"));
  const layersBefore = timeable.reduce((a, w) => a + timesOf(w).before, 0);
  const other = Math.max(0, (t.modelTime ?? layersBefore) - layersBefore);
  const base = t.baseTime ?? layersBefore + other;
  const fixed = timeable.filter((w) => w.skip).reduce((a, w) => a + timesOf(w).before, 0)
    + works.filter((w) => w.fixed).reduce((a, w) => a + timesOf(w).measure(w.method, w.fixed!), 0);
  const target = keep * base - other - fixed;
  const memo: SpectraMemo = new Map();
  const r = planTime(free.map((w) => ({ layer: w.c.layer, inShape: w.c.inShape, calls: w.c.calls, options: timeOptions(w, o, memo) })), target, t);
  free.forEach((w, i) => {
    const d = r.decisions[i];
    chosen.set(w, d.ranks);
    if (d.method && d.method !== w.method) {
      w.method = d.method;
      w.spec = REGISTRY[d.method];
      w.max = maxRanks(w.c.layer, w.method);
      const sp = spectraOf(memo, w, d.method, o); // for the error estimate of the method chosen
      w.spectra = sp.spectra;
      w.shapes = sp.shapes;
    }
    if (!d.ranks) w.note = d.note || "left alone: no factorization fits the time budget";
  });
  return target + other + fixed;
}

/** Measure every chosen chain; drop those not faster than their layer (explicit ranks stay, with a note). */
function guardByTime(works: Work[], chosen: Map<Work, number[] | null>, timesOf: (w: Work) => LayerTimes, timeAfter: Map<Work, number>, minGain: number): void {
  for (const w of works) {
    const r = chosen.get(w);
    if (!r || w.skip) continue;
    const lt = timesOf(w);
    const t = lt.measure(w.method, r);
    const ms = (x: number) => `${(1e3 * x).toFixed(3)} ms`;
    if (t < lt.before * (1 - minGain)) { timeAfter.set(w, t); continue; }
    if (w.fixed) {
      timeAfter.set(w, t);
      w.note = `explicit ranks honoured, but the chain measures ${ms(t)} against ${ms(lt.before)} for the layer (not faster)`;
    } else {
      chosen.set(w, null);
      w.note = `left alone: the ${w.method} chain at ranks [${r}] measures ${ms(t)} against ${ms(lt.before)} for the layer (not faster)`;
    }
  }
}

/**
 * Plan the compression of the given layers. `others` are weighted layers that stay as they are
 * (unsupported kinds); `totalParams` is the whole model's parameter count (the params budget base).
 */
export function makePlan(candidates: Candidate[], others: Other[], totalParams: number, o: CompressOptions = {}, planned?: (layer: string) => void): Plan {
  const names = new Set(candidates.map((c) => c.layer.name));
  const sel = checkOptions(o, names);
  const skip = new Set(o.skip ?? []);
  const needSpectra = sel.kind !== "full";
  const works: Work[] = candidates.map((c) => {
    let note = "";
    let skipIt = skip.has(c.layer.name);
    if (skipIt) note = "skipped by options";
    const method = chooseMethod(c.layer, o);
    const spec = REGISTRY[method];
    if (c.layer.className !== "Dense" && !skipIt) {
      try {
        convGeometry(c.layer.config, c.layer.name);
        const why = spec.leaveAlone?.(c.layer) ?? null;
        if (why !== null) { skipIt = true; note = why; }
      } catch (e) { skipIt = true; note = `unsupported: ${(e as Error).message}`; }
    }
    const b = layerCost(c.layer, c.inShape);
    const w: Work = {
      c, method, spec, max: maxRanks(c.layer, method), before: { params: b.params, flops: b.flops * c.calls },
      spectra: null, shapes: [], fixed: null, note, skip: skipIt,
    };
    const explicit = o.ranks?.[c.layer.name];
    if (!skipIt && explicit !== undefined) w.fixed = checkRanks(c.layer, method, explicit);
    // Spectra drive the rank rules and the dry-run error estimates (a pooled rank, CP's, uses them only under EVBMF/energy).
    const wantsSpectra = !skipIt && (spec.rankRule === "pooled" ? !w.fixed && (sel.kind === "evbmf" || sel.kind === "energy" || sel.kind === "stable") : needSpectra || w.fixed !== null);
    if (wantsSpectra) {
      const r = spec.spectra(c.layer, o.decomposition);
      w.shapes = r.shapes;
      w.spectra = r.spectra;
    }
    planned?.(c.layer.name);
    return w;
  });

  const chosen = new Map<Work, number[] | null>();
  const free = works.filter((w) => !w.skip && !w.fixed);
  for (const w of works) if (w.fixed) chosen.set(w, w.fixed);

  const timing = o.timing ? timingFor(o.timing, sel) : null;
  const timesOf = timing ? layerTimesOf(timing) : null;
  let timeTarget: number | null = null;
  let rankMultiple: number | undefined;
  if (sel.kind === "budget" && sel.metric === "time" && free.length > 0) {
    timeTarget = timeBudget(works, free, chosen, sel.keep, timing!, timesOf!, o);
  } else if (sel.kind === "budget" && free.length > 0) {
    const metric = sel.metric ?? "params";
    const get = (x: { params: number; flops: number }) => (metric === "params" ? x.params : x.flops);
    const fixedCost = works.filter((w) => w.skip).reduce((a, w) => a + get(w.before), 0)
      + works.filter((w) => w.fixed).reduce((a, w) => a + get(costAt(w, w.fixed!)), 0);
    const otherParams = totalParams - works.reduce((a, w) => a + w.before.params, 0);
    const base = metric === "params" ? totalParams : works.reduce((a, w) => a + w.before.flops, 0);
    const target = sel.keep * base - (metric === "params" ? otherParams : 0) - fixedCost;
    const breaks = new Map(free.filter((w) => w.spec.rankRule === "pooled").map((w) => [w, breakEvenRank(w)]));
    let q = o.rankMultiple ?? (timing ? 4 : 1);
    const at = (t: number) => free.map((w) => {
      const r0 = ranksAtLevel(w, t, breaks.get(w) ?? 0);
      const r = q > 1 ? r0.map((x, i) => roundRank(x, w.max[i], q)) : r0;
      return saves(w, r).ok ? r : null;
    });
    const total = (rs: (number[] | null)[]) => rs.reduce((a, r, i) => a + get(r ? costAt(free[i], r) : free[i].before), 0);
    // A budget too tight for rounded ranks gets exact ones rather than a failure.
    if (q > 1 && total(at(0)) > target + 1e-9) q = 1;
    rankMultiple = q;
    const lowest = total(at(0));
    if (lowest > target + 1e-9) {
      const reach = (lowest + fixedCost + (metric === "params" ? otherParams : 0)) / base;
      fail(WHERE, `budget keep=${sel.keep} (${metric}) cannot be met: rank 1 everywhere keeps ${(100 * reach).toFixed(1)}% of ${metric}; expected keep ≥ ${reach.toPrecision(3)}`);
    }
    let lo = 0, hi = 1;
    if (total(at(1)) <= target) lo = 1;
    else for (let it = 0; it < 40; it++) { const mid = (lo + hi) / 2; if (total(at(mid)) <= target) lo = mid; else hi = mid; }
    const rs = at(lo);
    free.forEach((w, i) => chosen.set(w, rs[i]));
  } else {
    for (const w of free) {
      const r = ranksByRule(w, sel);
      chosen.set(w, r.some((x) => x < 1) ? null : r);
      if (r.some((x) => x < 1)) w.note = noSignalNote(w, sel, r);
    }
  }
  const timeAfter = new Map<Work, number>();
  if (timesOf) guardByTime(works, chosen, timesOf, timeAfter, timing!.minGain ?? 0.03);

  const entries: PlanEntry[] = works.map((w) => {
    const r = chosen.get(w) ?? null;
    const base = {
      layer: w.c.layer.name, kind: w.c.layer.className, method: w.method as MethodName | null, maxRanks: w.max,
      paramsBefore: w.before.params, flopsBefore: w.before.flops,
    };
    const tb = timesOf && !w.skip ? timesOf(w).before : undefined;
    const times = (after: number | undefined) => (timesOf ? { timeBefore: tb ?? null, timeAfter: after ?? tb ?? null } : {});
    const keep = (note: string): PlanEntry => ({ ...base, method: w.skip ? null : w.method, ranks: [], action: "keep", note, paramsAfter: w.before.params, flopsAfter: w.before.flops, relError: 0, relErrorKind: null, ...times(tb) });
    if (w.skip) return keep(w.note);
    if (!r) return keep(w.note || "would not save parameters or FLOPs at the chosen ranks");
    const s = saves(w, r);
    const forced = w.fixed !== null || sel.kind === "full";
    if (!s.ok && !forced) return keep(`left alone: ${s.why}`);
    const after = costAt(w, r);
    let relError: number | null = null;
    let kind: PlanEntry["relErrorKind"] = null;
    if (w.spectra && w.spec.estimateError) {
      ({ relError, kind } = w.spec.estimateError(w.spectra, r));
    } else if (sel.kind === "full" || (w.fixed && r.every((x, i) => x === w.max[i]) && w.spec.estimateError)) {
      relError = 0; kind = "exact";
    }
    return {
      ...base, ranks: r, action: "factorize", note: forced && !s.ok ? `${w.fixed ? "explicit" : "full"} ranks honoured, but factorizing ${s.why}` : w.note,
      paramsAfter: after.params, flopsAfter: after.flops, relError, relErrorKind: kind, ...times(timeAfter.get(w)),
    };
  });
  for (const x of others) {
    entries.push({
      layer: x.name, kind: x.kind, method: null, ranks: [], maxRanks: [], action: "keep", note: x.reason,
      paramsBefore: x.params, paramsAfter: x.params, flopsBefore: x.flops ?? 0, flopsAfter: x.flops ?? 0, relError: null, relErrorKind: null,
    });
  }
  const otherParams = totalParams - entries.reduce((a, e) => a + e.paramsBefore, 0);
  const sum = (f: (e: PlanEntry) => number) => entries.reduce((a, e) => a + f(e), 0);
  const plan: Plan = {
    entries, select: sel,
    totals: {
      paramsBefore: totalParams, paramsAfter: sum((e) => e.paramsAfter) + otherParams,
      flopsBefore: sum((e) => e.flopsBefore), flopsAfter: sum((e) => e.flopsAfter),
    },
  };
  if (rankMultiple !== undefined) plan.rankMultiple = rankMultiple;
  if (timing) {
    // Layers not timed (other kinds) count as the rest of the measured model time, unchanged.
    const other = timing.modelTime !== undefined ? Math.max(0, timing.modelTime - sum((e) => e.timeBefore ?? 0)) : 0;
    plan.totals.timeBefore = timing.baseTime ?? sum((e) => e.timeBefore ?? 0) + other;
    plan.totals.timeAfter = sum((e) => e.timeAfter ?? 0) + other;
    plan.timing = { timer: timing.timer.id, batch: timing.batch ?? 1, mode: timing.mode ?? "inference", modelTime: timing.modelTime ?? null, target: timeTarget === null ? null : timeTarget };
  }
  return plan;
}

/** An entry for a layer of a kind the planner does not factorize (its note is the inspection's reason). */
export const isOtherKind = (e: PlanEntry) => e.action === "keep" && e.method === null && e.maxRanks.length === 0 && / is not a kind odecomp factorizes/.test(e.note);

const fmtN = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(x));

/** The plan as a fixed-width table plus totals and notes. */
export function formatPlan(plan: Plan): string {
  const timed = plan.timing !== undefined;
  const ms = (x: number | null | undefined) => (x === null || x === undefined ? "—" : (1e3 * x).toFixed(3));
  const head = ["layer", "kind", "method", "ranks", "params before", "params after", "FLOPs before", "FLOPs after", ...(timed ? ["ms before", "ms after"] : []), "rel. weight error"];
  // Layers of kinds odecomp does not factorize get one summary line per kind, not a row and a note each.
  const otherKinds = new Map<string, { n: number; params: number; flops: number }>();
  for (const e of plan.entries.filter(isOtherKind)) {
    const k = otherKinds.get(e.kind) ?? { n: 0, params: 0, flops: 0 };
    otherKinds.set(e.kind, { n: k.n + 1, params: k.params + e.paramsBefore, flops: k.flops + e.flopsBefore });
  }
  const listed = plan.entries.filter((e) => !isOtherKind(e));
  const rows = listed.map((e) => [
    e.layer, e.kind, e.action === "factorize" ? e.method! : "—", e.ranks.length ? e.ranks.join("×") : "—",
    fmtN(e.paramsBefore), fmtN(e.paramsAfter), fmtN(e.flopsBefore), fmtN(e.flopsAfter),
    ...(timed ? [ms(e.timeBefore), ms(e.timeAfter)] : []),
    e.relError === null ? "—" : `${e.relError.toExponential(2)}${e.relErrorKind === "bound" ? " (≤)" : ""}`,
  ]);
  const wd = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => "| " + c.map((x, i) => x.padEnd(wd[i])).join(" | ") + " |";
  const t = plan.totals;
  const out = [line(head), "|" + wd.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)];
  out.push("", `params: ${fmtN(t.paramsBefore)} → ${fmtN(t.paramsAfter)} (${(100 * t.paramsAfter / Math.max(t.paramsBefore, 1)).toFixed(1)}% kept)` +
    `; Dense/Conv FLOPs per sample: ${fmtN(t.flopsBefore)} → ${fmtN(t.flopsAfter)} (${(100 * t.flopsAfter / Math.max(t.flopsBefore, 1)).toFixed(1)}% kept)`);
  if (plan.timing && t.timeBefore !== undefined && t.timeAfter !== undefined) {
    const g = plan.timing;
    out.push(`measured time (${g.timer}, batch ${g.batch}, ${g.mode}): ${ms(t.timeBefore)} ms → ${ms(t.timeAfter)} ms (${(100 * t.timeAfter / Math.max(t.timeBefore, 1e-12)).toFixed(1)}% kept; ` +
      `layers not timed count as the rest of the ${g.modelTime === null ? "timed layers" : "measured model"} time)` + (g.target !== null && t.timeAfter > g.target * 1.0001 ? `; the time budget (${ms(g.target)} ms) was not met` : ""));
  }
  if ((plan.rankMultiple ?? 1) > 1) out.push(`budget ranks rounded to multiples of ${plan.rankMultiple} (SIMD lanes and GEMM tiles; layers whose largest rank is smaller keep their own)`);
  if (plan.foldedBatchNorm?.length) out.push(`BatchNormalization folded: ${plan.foldedBatchNorm.map((f) => `${f.batchNorm} → ${f.into}`).join(", ")}`);
  if (otherKinds.size) {
    out.push("", "kept as they are (kinds odecomp does not factorize):");
    for (const [kind, k] of otherKinds) out.push(`- ${kind} × ${k.n}: ${fmtN(k.params)} params, ${fmtN(k.flops)} FLOPs per sample`);
  }
  const notes = listed.filter((e) => e.note).map((e) => `- ${e.layer}: ${e.note}`);
  if (!plan.entries.some((e) => e.action === "factorize")) notes.unshift("- no layer was factorized");
  if (notes.length) out.push("", "notes:", ...notes);
  return out.join("\n");
}
