// Stable rank ‖W‖²_F / σ_max² of each Dense / Conv2D kernel during training (Cuttlefish's signal for when
// the full-rank phase can end and which rank each layer needs). σ_max comes from a few power iterations on
// the Gram matrix of the smaller side, warm-started from the previous measurement's vector, so a
// measurement costs a few matrix-vector products per layer (no SVD) and can run every epoch or every N
// steps. A Conv2D kernel [kh, kw, cin, cout] is measured as its (kh·kw·cin) × cout unfolding — the tfjs
// layout read row-major, and the matrix the channel SVD / Tucker-1 chains factorize.
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../../core/errors.ts";
import { withScratch } from "../../core/heap.ts";
import { gemm } from "../../core/kernels.ts";
import { isReady } from "../../core/loader.ts";
import type { TrainHook } from "./hook.ts";

export interface StableRankOptions {
  /** Most power iterations (default 100; they stop once σ_max² settles, and a warm start needs few). Random matrices, whose top singular values crowd together, need the most. */
  iterations?: number;
  /** Start vector (length min(rows, cols)); default a fixed pseudo-random one (deterministic). */
  start?: Float64Array;
  /** Stop early when the σ_max² estimate changes by less than this, relatively (default 1e-9). */
  tolerance?: number;
}

export interface StableRankResult {
  /** ‖W‖²_F / σ_max² (0 for a zero matrix). */
  stableRank: number;
  sigmaMax: number;
  frobenius2: number;
  /** The leading right (or left, for the smaller side) singular vector estimate: the next warm start. */
  vector: Float64Array;
  iterations: number;
}

function startVector(n: number): Float64Array {
  // A fixed LCG: deterministic and not orthogonal to the top singular vector for any structured matrix we meet.
  const v = new Float64Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; v[i] = 0.5 + s / 4294967296; }
  return v;
}

/** Checks shared by both measurements, the largest magnitude (the scale), which side to iterate on, and the zero matrix's result. */
function prepare(a: ArrayLike<number>, rows: number, cols: number, o: StableRankOptions):
  { zero: StableRankResult } | { iterations: number; tol: number; amax: number; byCols: boolean; n: number } {
  check(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1 && a.length === rows * cols, "stableRank",
    () => `matrix of ${a.length} values as ${rows} × ${cols}; expected positive integer dimensions whose product is the length`);
  const iterations = o.iterations ?? 100, tol = o.tolerance ?? 1e-9;
  check(Number.isInteger(iterations) && iterations >= 1, "stableRank", () => `iterations = ${iterations}; expected a positive integer`);
  let amax = 0;
  let finite = true;
  for (let i = 0; i < a.length; i++) { const x = Math.abs(a[i]); if (x > amax) amax = x; else if (!(x <= amax)) finite = false; }
  check(finite && Number.isFinite(amax), "stableRank", () => "matrix has a non-finite entry; expected finite weights");
  const byCols = cols <= rows; // iterate on AᵀA (cols × cols) or AAᵀ (rows × rows)
  const n = byCols ? cols : rows;
  if (amax === 0) return { zero: { stableRank: 0, sigmaMax: 0, frobenius2: 0, vector: o.start ?? startVector(n), iterations: 0 } };
  return { iterations, tol, amax, byCols, n };
}

/**
 * Power iteration shared by both measurements: `gram(v, u)` writes u = G v for the (scaled) Gram matrix G
 * and returns λ = vᵀ G v; stops when λ settles (relative `tol`) or u vanishes (v in the null space: λ is
 * then exact). Starts from o.start when it fits, else the fixed start vector.
 */
function powerIterate(n: number, o: StableRankOptions, iterations: number, tol: number, gram: (v: Float64Array, u: Float64Array) => number):
  { lambda: number; vector: Float64Array; iterations: number } {
  const normalize = (x: Float64Array) => { let t = 0; for (let i = 0; i < x.length; i++) t += x[i] * x[i]; t = Math.sqrt(t); if (t > 0) for (let i = 0; i < x.length; i++) x[i] /= t; return t; };
  let v = o.start && o.start.length === n ? Float64Array.from(o.start) : startVector(n);
  if (normalize(v) === 0) v = startVector(n), normalize(v);
  const u = new Float64Array(n);
  let lambda = 0, it = 0;
  for (; it < iterations; it++) {
    const next = gram(v, u);
    if (normalize(u) === 0) { lambda = next; it++; break; }
    v.set(u);
    const done = Math.abs(next - lambda) <= tol * next;
    lambda = next;
    if (done) { it++; break; }
  }
  return { lambda: Math.max(lambda, 0), vector: v, iterations: it };
}

/**
 * Stable rank of the row-major `rows` × `cols` matrix `a` by power iteration on the Gram matrix of the
 * smaller side. Scaling is guarded: the matrix is divided by its largest magnitude first, so 1e-40 and
 * 1e30 entries measure like any others.
 */
export function stableRank(a: ArrayLike<number>, rows: number, cols: number, o: StableRankOptions = {}): StableRankResult {
  const p = prepare(a, rows, cols, o);
  if ("zero" in p) return p.zero;
  const { iterations, tol, amax, byCols, n } = p;
  const inv = 1 / amax;
  let fro = 0;
  for (let i = 0; i < a.length; i++) { const x = a[i] * inv; fro += x * x; }
  const m = byCols ? rows : cols;
  const w = new Float64Array(m);
  const r = powerIterate(n, o, iterations, tol, (v, u) => {
    // w = A v (or Aᵀ v); λ = ‖w‖² (Rayleigh quotient of the Gram matrix); u = Aᵀ w
    w.fill(0);
    u.fill(0);
    if (byCols) for (let i = 0; i < rows; i++) { let t = 0; const q = i * cols; for (let j = 0; j < cols; j++) t += a[q + j] * v[j]; w[i] = t * inv; }
    else for (let i = 0; i < rows; i++) { const q = i * cols, vi = v[i] * inv; for (let j = 0; j < cols; j++) w[j] += a[q + j] * vi; }
    let next = 0;
    for (let i = 0; i < m; i++) next += w[i] * w[i];
    if (byCols) for (let i = 0; i < rows; i++) { const q = i * cols, wi = w[i] * inv; for (let j = 0; j < cols; j++) u[j] += a[q + j] * wi; }
    else for (let i = 0; i < rows; i++) { let t = 0; const q = i * cols; for (let j = 0; j < cols; j++) t += a[q + j] * w[j]; u[i] = t * inv; }
    return next;
  });
  return result(fro, amax, r);
}

/** The result from the scaled ‖A‖²_F, the scale and the iteration's λ (σ_max² of the scaled matrix). */
function result(fro: number, amax: number, r: { lambda: number; vector: Float64Array; iterations: number }): StableRankResult {
  return { stableRank: r.lambda > 0 ? fro / r.lambda : 0, sigmaMax: Math.sqrt(r.lambda) * amax, frobenius2: fro * amax * amax, vector: r.vector, iterations: r.iterations };
}

/** Below this many entries (or with a side under 8) the plain power iteration is as quick as forming the Gram matrix. */
const GRAM_MIN_ENTRIES = 4096;

/**
 * The same measurement as `stableRank`, for the big kernels met during training: the Gram matrix of the
 * smaller side (n × n, n ≤ 512 for the reference models) is formed once by odecomp's SIMD GEMM in float32
 * (after dividing by the largest magnitude, so 1e-40 and 1e30 kernels form it like any others), then the
 * power iteration runs on it in float64 at n² per step instead of 2·rows·cols. On the wide VGG's
 * 2304 × 256 kernels that is one GEMM (≈ 10 ms) against up to 100 passes over the matrix in JS (≈ 0.2 s
 * per layer, 1.3–1.9 s per model measurement). σ_max² of a Gram formed in float32 is off by about
 * √k·ε relatively (k the long side): far inside the 1 % the convergence test and rank rule can resolve.
 * Needs `await ready()`; the GEMM is bitwise equal on any thread count, so decisions stay reproducible.
 */
export function stableRankGram(a: Float32Array, rows: number, cols: number, o: StableRankOptions = {}): StableRankResult {
  const p = prepare(a, rows, cols, o);
  if ("zero" in p) return p.zero;
  const { iterations, tol, amax, byCols, n } = p;
  const inv = 1 / amax;
  let fro = 0;
  const g = withScratch((s) => {
    // scaled straight into wasm memory (one pass, no JS copy of the kernel)
    const pa = s.f32(a.length);
    const scaled = s.view(pa, a.length);
    for (let i = 0; i < a.length; i++) { const x = a[i] * inv; scaled[i] = x; fro += x * x; }
    const pg = s.f32(n * n);
    // AᵀA: op(A) = Aᵀ (cols × rows, A stored rows × cols); AAᵀ: op(B) = Aᵀ.
    if (byCols) gemm(s.k, { transA: true, m: n, n, k: rows, a: pa, lda: cols, b: pa, ldb: cols, c: pg, ldc: n });
    else gemm(s.k, { transB: true, m: n, n, k: cols, a: pa, lda: cols, b: pa, ldb: cols, c: pg, ldc: n });
    return Float64Array.from(s.view(pg, n * n));
  });
  // u = G v; λ = vᵀ G v (= ‖A v‖², the same Rayleigh quotient as stableRank)
  const r = powerIterate(n, o, iterations, tol, (v, u) => {
    let next = 0;
    for (let i = 0; i < n; i++) { let t = 0; const q = i * n; for (let j = 0; j < n; j++) t += g[q + j] * v[j]; u[i] = t; next += t * v[i]; }
    return next;
  });
  return result(fro, amax, r);
}

/** The matrix a layer's stable rank is measured on: Dense [n, m] as is, Conv2D [kh, kw, cin, cout] as (kh·kw·cin) × cout. */
export function kernelMatrixShape(shape: readonly number[]): [number, number] | null {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length === 4) return [shape[0] * shape[1] * shape[2], shape[3]];
  return null;
}

/** Names of the layers whose stable rank is tracked: Dense and Conv2D layers with a kernel. */
export function trackedLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => (l.getClassName() === "Dense" || l.getClassName() === "Conv2D") && l.weights.length > 0).map((l) => l.name);
}

/** One measurement of every tracked layer. */
export interface StableRankPoint {
  /** Global epoch (fractional when measured every N steps: steps done / steps per epoch). */
  epoch: number;
  step: number;
  ranks: Record<string, number>;
}

/** Stable ranks of a model's tracked layers, warm-starting each layer from its last vector. */
export class StableRankTracker {
  readonly points: StableRankPoint[] = [];
  private readonly vectors = new Map<string, Float64Array>();
  constructor(readonly options: StableRankOptions & { layers?: string[] } = {}) {}

  /** Measure now (reads the kernels: one download per layer); `layers` default: the options' list, else every tracked layer. */
  measure(model: tfl.LayersModel, layers?: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of layers ?? this.options.layers ?? trackedLayers(model)) {
      const w = model.getLayer(name).weights[0];
      const shape = kernelMatrixShape(w.shape as number[]);
      check(shape !== null, "stableRank", () => `layer '${name}' has a kernel of shape [${w.shape}]; expected 2-D (Dense) or 4-D (Conv2D)`);
      const data = w.read().dataSync() as Float32Array;
      const [rows, cols] = shape!;
      const gram = isReady() && rows * cols >= GRAM_MIN_ENTRIES && Math.min(rows, cols) >= 8;
      const r = (gram ? stableRankGram : stableRank)(data, rows, cols, { ...this.options, start: this.vectors.get(name) });
      this.vectors.set(name, r.vector);
      out[name] = r.stableRank;
    }
    return out;
  }

  record(model: tfl.LayersModel, epoch: number, step: number): StableRankPoint {
    const p = { epoch, step, ranks: this.measure(model) };
    this.points.push(p);
    return p;
  }

  /** Per-layer curves: layer → [(epoch, stable rank)]. */
  curves(): Record<string, { epoch: number; value: number }[]> {
    const out: Record<string, { epoch: number; value: number }[]> = {};
    for (const p of this.points) for (const [k, v] of Object.entries(p.ranks)) (out[k] ??= []).push({ epoch: p.epoch, value: v });
    return out;
  }
}

/**
 * A hook that records every tracked layer's stable rank at each epoch's end, or every `everySteps`
 * optimizer steps when given (then also at epoch ends), into `tracker.points`. Only the layers present in
 * the model are measured: after an architecture change the factorized layers drop out of the curves.
 */
export function stableRankHook(o: StableRankOptions & { everySteps?: number; stepsPerEpoch?: number } = {}): TrainHook & { tracker: StableRankTracker } {
  const every = o.everySteps;
  check(every === undefined || (Number.isInteger(every) && every >= 1), "stableRankHook", () => `everySteps = ${every}; expected a positive integer`);
  const tracker = new StableRankTracker(o);
  const measureOn = (model: tfl.LayersModel, epoch: number, step: number) => {
    tracker.points.push({ epoch, step, ranks: tracker.measure(model, trackedLayers(model)) });
  };
  let lastStep = -1;
  return {
    name: "stable-rank",
    tracker,
    afterStep(ctx) {
      if (!every || (ctx.step + 1) % every !== 0) return;
      const spe = o.stepsPerEpoch;
      measureOn(ctx.model, spe ? (ctx.step + 1) / spe : ctx.epoch, ctx.step + 1);
      lastStep = ctx.step + 1;
    },
    epochEnd(_record, ctx) {
      if (lastStep === ctx.step) return;
      measureOn(ctx.model, ctx.epoch, ctx.step);
      lastStep = ctx.step;
    },
  };
}
