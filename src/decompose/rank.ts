// Rank selection, in one place: explicit ranks, a fraction of the parameters to
// keep (TensorLy's 'same' / float semantics, resolved so the budget is never
// exceeded), an energy threshold on singular values, and EVBMF (Nakajima et
// al., JMLR 2013) for a matrix or for each unfolding of a tensor, with MUSCO's
// "weakened" variant and a defined fallback when EVBMF keeps nothing.
import { type Tensor, checkTensor, sizeOf } from "../core/tensor.ts";
import { withScratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { modeView } from "./ops.ts";
import { checkModes, checkRank, numOption, oneOf } from "./common.ts";

/** A rank as the decompositions accept it. Non-integer numbers are rejected: use { fraction }. */
export type RankSpec = number | number[] | "same" | { fraction: number };

export type Decomposition = "tucker" | "cp" | "svd";
export const DECOMPOSITIONS: readonly Decomposition[] = ["tucker", "cp", "svd"];

// ---- parameter counts ------------------------------------------------------

/** Parameters of a (partial) Tucker tensor: core + one factor per decomposed mode. */
export function tuckerParams(shape: readonly number[], modes: readonly number[], ranks: readonly number[]): number {
  let core = 1, factors = 0;
  shape.forEach((d, k) => {
    const j = modes.indexOf(k);
    core *= j >= 0 ? ranks[j] : d;
    if (j >= 0) factors += d * ranks[j];
  });
  return core + factors;
}

/** Parameters of a CP tensor: factors plus the R weights. */
export function cpParams(shape: readonly number[], rank: number): number {
  return rank * (shape.reduce((a, b) => a + b, 0) + 1);
}

/** Parameters of a rank-r factorisation U·V of an m×n matrix. */
export function svdParams(m: number, n: number, rank: number): number {
  return rank * (m + n);
}

// ---- resolving RankSpec -----------------------------------------------------

function fractionOf(where: string, spec: RankSpec): number | undefined {
  if (spec === "same") return 1;
  if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
    const f = (spec as { fraction?: unknown }).fraction;
    if (typeof f !== "number" || !Number.isFinite(f) || f <= 0) fail(where, `rank { fraction: ${show(f)} } is invalid; expected a fraction of parameters to keep > 0`);
    return f;
  }
  return undefined;
}

function badSpec(where: string, spec: unknown, what: string): never {
  fail(where, `rank ${show(spec)} is invalid; expected ${what}, 'same', or { fraction } (share of parameters to keep)`);
}

/**
 * Ranks for the given Tucker modes. A fraction f keeps at most ⌊f·size⌋
 * parameters: ranks r_k = clamp(⌊x·d_k⌋, 1, d_k) with the largest common x
 * that fits (TensorLy's proportional rule, rounded down so the budget holds).
 */
export function resolveTuckerRank(where: string, shape: readonly number[], modes: readonly number[], spec: RankSpec): number[] {
  const f = fractionOf(where, spec);
  if (f === undefined) {
    if (typeof spec === "number") return modes.map((m) => checkRank(where, spec, shape[m], `mode ${m} (size ${shape[m]})`));
    if (Array.isArray(spec)) {
      if (spec.length !== modes.length) fail(where, `rank [${spec}] has ${spec.length} entries but modes [${modes}] has ${modes.length}; expected one rank per decomposed mode`);
      return spec.map((r, i) => checkRank(where, r, shape[modes[i]], `mode ${modes[i]} (size ${shape[modes[i]]})`));
    }
    badSpec(where, spec, "an integer or an array of integers (one per mode)");
  }
  const budget = Math.floor(f * sizeOf(shape));
  const at = (x: number) => modes.map((m) => Math.min(shape[m], Math.max(1, Math.floor(x * shape[m] + 1e-9))));
  const ones = modes.map(() => 1);
  if (tuckerParams(shape, modes, ones) > budget) {
    fail(where, `rank { fraction: ${f} } allows ${budget} parameters but the smallest Tucker plan (all ranks 1) needs ${tuckerParams(shape, modes, ones)}; expected a larger fraction`);
  }
  // candidate scales are the breakpoints j/d_k; pick the largest that fits
  const cands = new Set<number>();
  for (const m of modes) for (let j = 1; j <= shape[m]; j++) cands.add(j / shape[m]);
  let best = ones;
  for (const x of [...cands].sort((a, b) => a - b)) {
    const r = at(x);
    if (tuckerParams(shape, modes, r) <= budget) best = r; else break;
  }
  return best;
}

/** CP rank: explicit integer ≥ 1, or the largest R with cpParams ≤ ⌊f·size⌋. */
export function resolveCPRank(where: string, shape: readonly number[], spec: RankSpec): number {
  const f = fractionOf(where, spec);
  if (f === undefined) {
    if (typeof spec !== "number" || !Number.isInteger(spec) || spec < 1) badSpec(where, spec, "a positive integer");
    return spec;
  }
  const budget = Math.floor(f * sizeOf(shape));
  const r = Math.floor(budget / (shape.reduce((a, b) => a + b, 0) + 1));
  if (r < 1) fail(where, `rank { fraction: ${f} } allows ${budget} parameters but rank 1 needs ${cpParams(shape, 1)}; expected a larger fraction`);
  return r;
}

/** Matrix (SVD) rank: explicit 1…min(m,n), or the largest r with r(m+n) ≤ ⌊f·m·n⌋. */
export function resolveSvdRank(where: string, m: number, n: number, spec: RankSpec): number {
  const f = fractionOf(where, spec);
  if (f === undefined) {
    if (typeof spec !== "number") badSpec(where, spec, "a positive integer");
    return checkRank(where, spec, Math.min(m, n), `a ${m}×${n} matrix`);
  }
  const budget = Math.floor(f * m * n);
  const r = Math.min(Math.min(m, n), Math.floor(budget / (m + n)));
  if (r < 1) fail(where, `rank { fraction: ${f} } allows ${budget} parameters but rank 1 needs ${m + n}; expected a larger fraction`);
  return r;
}

// ---- spectra and EVBMF ------------------------------------------------------

/**
 * Singular values (descending) of the mode-n unfolding of t, from its Gram
 * matrix accumulated in f64 and a tridiagonal QL eigensolver in f64.
 * Returns min(d_n, Π_{k≠n} d_k) values.
 */
export function unfoldingSpectrum(t: Tensor, mode: number): Float64Array {
  const { A, I, B } = modeView(t.shape, mode);
  const L = Math.min(I, A * B);
  return withScratch((s) => {
    const x = s.put(t.data, "unfoldingSpectrum", "t");
    const g = s.f64(I * I);
    s.k.unfold_gram_f64(x, A, I, B, g);
    const w = s.f64(I);
    s.k.sym_eigvals_f64(g, I, w);
    const ev = s.viewF64(w, I);
    const out = new Float64Array(L);
    for (let i = 0; i < L; i++) out[i] = Math.sqrt(Math.max(ev[i], 0));
    return out;
  });
}

export interface EvbmfResult {
  /** Number of singular values above the EVB threshold (may be 0). */
  rank: number;
  /** Estimated noise variance σ² (in the input's units). */
  sigma2: number;
  /** The threshold γ on singular values. */
  threshold: number;
}

function tauOf(x: number, alpha: number): number {
  const b = x - (1 + alpha);
  return 0.5 * (b + Math.sqrt(Math.max(b * b - 4 * alpha, 0)));
}

/**
 * EVBMF on the singular values of an L×M matrix (any orientation: L and M are
 * swapped so that L ≤ M). σ² minimises the EVB free energy over Nakajima's
 * bounds. Scale-free: the values are divided by the largest one first and
 * the search runs over log σ² (a coarse grid, then golden-section refinement
 * to 1e-12 relative), so scaling the input by c scales σ² by c² and leaves
 * the rank unchanged — unlike the common Python port, whose absolute
 * tolerance (1e-5) swamps σ² at He-init scale.
 */
export function evbmf(singularValues: ArrayLike<number>, rows: number, cols: number): EvbmfResult {
  const where = "evbmf";
  const L = Math.min(rows, cols), M = Math.max(rows, cols);
  if (!(L >= 1) || singularValues.length < 1 || singularValues.length > L) {
    fail(where, `got ${singularValues.length} singular values for a ${rows}×${cols} matrix; expected 1…${L}`);
  }
  const s0 = Math.max(...Array.from(singularValues));
  if (!(s0 > 0)) return { rank: 0, sigma2: 0, threshold: 0 };
  const H = L;
  // normalised squared singular values, padded with zeros up to L, floored to keep logs finite
  const s2 = new Float64Array(L);
  for (let i = 0; i < L; i++) s2[i] = Math.max(i < singularValues.length ? (singularValues[i] / s0) ** 2 : 0, 1e-300);
  s2.sort().reverse();
  const alpha = L / M;
  const tauBar = 2.5129 * Math.sqrt(alpha);
  const xuBar = (1 + tauBar) * (1 + alpha / tauBar);
  const eH = Math.min(Math.ceil(L / (1 + alpha)) - 1, H) - 1;
  let total = 0;
  for (let i = 0; i < L; i++) total += s2[i];
  const upper = total / (L * M);
  let tail = 0;
  for (let i = eH + 1; i < L; i++) tail += s2[i];
  const lower = Math.max(s2[Math.min(eH + 1, L - 1)] / (M * xuBar), tail / Math.max(L - eH - 1, 1) / M);
  const obj = (sigma2: number): number => {
    let o = 0;
    for (let i = 0; i < H; i++) {
      const x = s2[i] / (M * sigma2);
      if (x > xuBar) {
        const t = tauOf(x, alpha);
        o += x - t + Math.log((t + 1) / x) + alpha * Math.log(t / alpha + 1);
      } else {
        o += x - Math.log(x);
      }
    }
    return o + (L - H) * Math.log(sigma2);
  };
  let sigma2n: number;
  if (!(lower < upper)) {
    sigma2n = upper;
  } else {
    const a = Math.log(lower), b = Math.log(upper);
    const n = 200;
    let bi = 0, bv = Infinity;
    for (let i = 0; i <= n; i++) {
      const v = obj(Math.exp(a + ((b - a) * i) / n));
      if (v < bv) { bv = v; bi = i; }
    }
    let lo = a + ((b - a) * Math.max(bi - 1, 0)) / n, hi = a + ((b - a) * Math.min(bi + 1, n)) / n;
    const gr = (Math.sqrt(5) - 1) / 2;
    let c = hi - gr * (hi - lo), d = lo + gr * (hi - lo);
    let fc = obj(Math.exp(c)), fd = obj(Math.exp(d));
    while (hi - lo > 1e-12 * Math.max(1, Math.abs(lo))) {
      if (fc < fd) { hi = d; d = c; fd = fc; c = hi - gr * (hi - lo); fc = obj(Math.exp(c)); }
      else { lo = c; c = d; fc = fd; d = lo + gr * (hi - lo); fd = obj(Math.exp(d)); }
    }
    sigma2n = Math.exp((lo + hi) / 2);
    if (obj(sigma2n) > bv) sigma2n = Math.exp(a + ((b - a) * bi) / n);
  }
  const thrN = Math.sqrt(M * sigma2n * xuBar);
  let rank = 0;
  for (let i = 0; i < L; i++) if (Math.sqrt(s2[i]) > thrN) rank++;
  return { rank, sigma2: sigma2n * s0 * s0, threshold: thrN * s0 };
}

/** Smallest r whose leading σ² carry at least `energy` of Σσ² (energy in (0, 1]). */
export function energyRank(singularValues: ArrayLike<number>, energy: number): number {
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) total += singularValues[i] ** 2;
  if (!(total > 0)) return 1;
  let acc = 0;
  for (let i = 0; i < singularValues.length; i++) {
    acc += singularValues[i] ** 2;
    if (acc >= energy * total * (1 - 1e-12)) return i + 1;
  }
  return singularValues.length;
}

// ---- selectRank ---------------------------------------------------------------

/** What EVBMF does when it keeps nothing (rank 0). */
export type EvbmfFallback = { energy: number } | "one" | "skip";

export type RankRule =
  | { rule: "fixed"; rank: number | number[] }
  | { rule: "fraction"; fraction: number }
  | { rule: "energy"; energy: number }
  | { rule: "evbmf"; weaken?: number; fallback?: EvbmfFallback };

export const RANK_RULES = ["fixed", "fraction", "energy", "evbmf"] as const;

export interface SelectRankOptions {
  /** Which decomposition the ranks are for (default 'tucker'; 'svd' needs a 2-D input). */
  decomposition?: Decomposition;
  /** Tucker modes (default: all). */
  modes?: number[];
  /** Default { rule: 'evbmf' }. */
  rule?: RankRule;
}

export interface ModeRankInfo {
  mode: number;
  rank: number;
  /** The largest possible rank (min of the unfolding's two sides, or the mode size). */
  fullRank: number;
  /** EVBMF's own rank and noise variance (rule 'evbmf' only). */
  evbmfRank?: number;
  sigma2?: number;
  /** True when EVBMF gave 0 and the fallback chose the rank. */
  fallbackUsed?: boolean;
}

export interface RankPlan {
  decomposition: Decomposition;
  /** Modes the ranks apply to (Tucker), [0] for CP and SVD. */
  modes: number[];
  /** One rank per mode; 0 marks a mode/matrix EVBMF says to leave undecomposed (fallback 'skip'). */
  ranks: number[];
  /** Parameters of the planned decomposition, and of the original tensor. */
  nParams: number;
  originalParams: number;
  /** True when the plan would have more parameters than the original: report it, do not apply blindly. */
  increasesParams: boolean;
  perMode: ModeRankInfo[];
}

/**
 * Pick ranks for decomposing t. CP accepts only 'fixed' and 'fraction'; Tucker
 * and SVD accept all rules. EVBMF runs on each mode's unfolding (Tucker) or on
 * the matrix (SVD); weaken w ∈ [0, 1] gives ⌊R − w·(R − R_vbmf)⌋ with R the full
 * rank (w = 1, the default, is plain EVBMF; w = 0 keeps the full rank). When
 * EVBMF returns 0 the fallback decides (documented default: { energy: 0.9 },
 * i.e. the smallest rank keeping 90% of Σσ²; 'one' uses rank 1; 'skip' reports
 * rank 0 so the caller leaves that tensor undecomposed).
 */
export function selectRank(t: Tensor, options: SelectRankOptions = {}): RankPlan {
  const where = "selectRank";
  checkTensor(where, "t", t);
  const decomposition = oneOf(where, "decomposition", options.decomposition, DECOMPOSITIONS, "tucker");
  const rule: RankRule = options.rule ?? { rule: "evbmf" };
  if (rule === null || typeof rule !== "object") fail(where, `rule must be an object like { rule: 'evbmf' }, got ${show(rule)}`);
  oneOf(where, "rank rule", rule.rule, RANK_RULES, "evbmf");
  if (decomposition === "svd" && t.shape.length !== 2) fail(where, `decomposition 'svd' needs a 2-D matrix, got shape [${t.shape}]`);
  if (decomposition === "cp" && (rule.rule === "energy" || rule.rule === "evbmf")) {
    fail(where, `rule '${rule.rule}' is not defined for decomposition 'cp'; expected 'fixed' or 'fraction'`);
  }
  if (decomposition !== "tucker" && options.modes !== undefined) fail(where, `modes apply to decomposition 'tucker' only, got modes [${options.modes}] with '${decomposition}'`);
  const modes = decomposition === "tucker" ? checkModes(where, t.shape, options.modes) : [0];
  const originalParams = sizeOf(t.shape);
  const [m, n] = t.shape;
  const fullRanks = decomposition === "tucker"
    ? modes.map((k) => { const v = modeView(t.shape, k); return Math.min(v.I, v.A * v.B); })
    : decomposition === "svd" ? [Math.min(m, n)] : [Infinity];
  const perMode: ModeRankInfo[] = [];
  let ranks: number[];

  if (rule.rule === "fixed" || rule.rule === "fraction") {
    const spec: RankSpec = rule.rule === "fixed" ? rule.rank : { fraction: rule.fraction };
    if (decomposition === "tucker") ranks = resolveTuckerRank(where, t.shape, modes, spec);
    else if (decomposition === "cp") ranks = [resolveCPRank(where, t.shape, spec)];
    else ranks = [resolveSvdRank(where, m, n, spec)];
    ranks.forEach((r, i) => perMode.push({ mode: modes[i], rank: r, fullRank: Number.isFinite(fullRanks[i]) ? fullRanks[i] : r }));
  } else {
    const spectra = decomposition === "svd" ? [unfoldingSpectrum(t, m <= n ? 0 : 1)] : modes.map((k) => unfoldingSpectrum(t, k));
    const dims = decomposition === "svd" ? [[m, n]] : modes.map((k) => { const v = modeView(t.shape, k); return [v.I, v.A * v.B]; });
    if (rule.rule === "energy") {
      const e = numOption(where, "energy", rule.energy, NaN, 0, 1);
      if (!(e > 0)) fail(where, `energy must be in (0, 1], got ${show(rule.energy)}`);
      ranks = spectra.map((sv) => energyRank(sv, e));
      ranks.forEach((r, i) => perMode.push({ mode: modes[i], rank: r, fullRank: fullRanks[i] }));
    } else {
      const w = numOption(where, "weaken", rule.weaken, 1, 0, 1);
      const fb = rule.fallback ?? { energy: 0.9 };
      if (!(fb === "one" || fb === "skip" || (typeof fb === "object" && fb !== null && typeof fb.energy === "number" && fb.energy > 0 && fb.energy <= 1))) {
        fail(where, `fallback ${typeof fb === "string" ? JSON.stringify(fb) : show(fb)} is invalid; expected { energy: e } with e in (0, 1], 'one' or 'skip'`);
      }
      ranks = spectra.map((sv, i) => {
        const ev = evbmf(sv, dims[i][0], dims[i][1]);
        const R = fullRanks[i];
        let r: number, fallbackUsed = false;
        if (ev.rank === 0) {
          fallbackUsed = true;
          r = fb === "one" ? 1 : fb === "skip" ? 0 : energyRank(sv, fb.energy);
        } else {
          r = Math.floor(R - w * (R - ev.rank) + 1e-9);
        }
        perMode.push({ mode: modes[i], rank: r, fullRank: R, evbmfRank: ev.rank, sigma2: ev.sigma2, fallbackUsed });
        return r;
      });
    }
  }
  const live = ranks.every((r) => r > 0);
  const nParams = !live ? originalParams
    : decomposition === "tucker" ? tuckerParams(t.shape, modes, ranks)
    : decomposition === "cp" ? cpParams(t.shape, ranks[0]) : svdParams(m, n, ranks[0]);
  return { decomposition, modes, ranks, nParams, originalParams, increasesParams: nParams > originalParams, perMode };
}
