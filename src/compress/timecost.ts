// The measured cost model: how long a layer, or the chain of stock layers a
// factorization turns it into, takes on the backend that will run it. The
// planner sees time through the `Timer` interface (tests inject a fake with
// known times; src/models/timing.ts times real tfjs layers), through a cache
// keyed by (timer id = backend + build, layer geometry, input shape, method,
// ranks, batch, mode), and through a small per-(layer, method) model
// t ≈ a + b·FLOPs + c·bytes fitted by least squares on a few timed ranks, so
// the budget search interpolates between them instead of timing every rank.
// tfjs-free.
//
// How close the fit is (bench/time-plan.bench.ts, --quick, tfjs wasm + odecomp kernels, one thread,
// batch 8, fastest of repeats, 2-core machine at load ≈ 16–19): fitted on ranks at 1/8, 0.35 and 1 of
// the largest, then timed at 0.2, 0.5 and 0.75 of it — relative error median 8.6 % / max 34 % over 13
// held-out (layer, method, ranks) of the MobileNet-v1-style model, median 9.9 % / max 70 % on the
// MobileNetV2-style one. At batch 1 (0.1–1 ms chains, at the noise floor) medians were 50 %–3×, so the
// planner never trusts the fit for its decision: every chain it keeps is timed itself (timeplan.ts).
import { fail } from "../core/errors.ts";
import type { Tensor } from "../core/tensor.ts";
import { type ChainKernels, buildChain, layerAsSpec } from "../layers/chain.ts";
import { specCost } from "../layers/cost.ts";
import type { FactorizableLayer, LayerSpec, MethodName } from "../layers/types.ts";

export type TimingMode = "inference" | "training";

/** One thing to time: `layer` itself (method null) or its chain for `method` at `ranks`. */
export interface TimingRequest {
  layer: FactorizableLayer;
  method: MethodName | null;
  ranks: readonly number[];
  /** Input shape without the batch axis. */
  inShape: readonly number[];
  batch: number;
  /** "inference": forward; "training": forward + backward (weight and input gradients). */
  mode: TimingMode;
}

/** Seconds for one batch through a request's layers (a median over repeats, for a real timer). */
export interface Timer {
  /** The backend and build this timer measures (part of every cache key). */
  readonly id: string;
  time(req: TimingRequest): number;
}

/** How the planner measures time (CompressOptions.timing). */
export interface TimingOptions {
  timer: Timer;
  /** Batch size to time at (default 1). */
  batch?: number;
  /** Default "inference". */
  mode?: TimingMode;
  /**
   * Measured time of the whole model at `batch` (seconds); the time budget keeps a fraction of it. Without
   * it the base is the sum of the factorizable layers' times.
   */
  modelTime?: number;
  /**
   * Measured time the budget's fraction refers to and the plan reports as "before" (default modelTime): the
   * original model's, when the planned one already differs from it (BatchNormalization folded).
   */
  baseTime?: number;
  /** A chain must measure at least this fraction faster than the layer to replace it (default 0.03, above timer noise). */
  minGain?: number;
}

const WHERE = "timing";

// ---- chains with the right shapes (weights do not matter for timing) ----

const zeros = (shape: number[]): Tensor => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });

/** Kernels of the right shapes for a method's chain (zeros: timing and counting only). */
export function shapeKernels(layer: FactorizableLayer, method: MethodName, ranks: readonly number[]): ChainKernels {
  const [a, b, c, d] = layer.kernel.shape;
  const r = ranks[0];
  switch (method) {
    case "svd": return { method: "svd", first: zeros([a, r]), second: zeros([r, b]) };
    case "tucker2": return { method: "tucker2", first: zeros([1, 1, c, r]), core: zeros([a, b, r, ranks[1]]), last: zeros([1, 1, ranks[1], d]) };
    case "tucker1": return { method: "tucker1", spatial: zeros([a, b, c, r]), pointwise: zeros([1, 1, r, d]) };
    case "channel-svd": return { method: "channel-svd", spatial: zeros([a, b, c, r]), pointwise: zeros([1, 1, r, d]) };
    case "spatial-svd": return { method: "spatial-svd", vertical: zeros([a, 1, c, r]), horizontal: zeros([1, b, r, d]) };
    case "cp": return { method: "cp", first: zeros([1, 1, c, r]), vertical: zeros([a, 1, r, 1]), horizontal: zeros([1, b, r, 1]), last: zeros([1, 1, r, d]) };
    case "separable-svd": return { method: "separable-svd", depthwise: layer.depthwise!, first: zeros([1, 1, c, r]), second: zeros([1, 1, r, d]) };
    case "transpose-svd": return { method: "transpose-svd", first: zeros([1, 1, d, r]), transposed: zeros([a, b, c, r]) };
    // The registry's specs build kernels only by decomposing; the built-ins' shapes are known here.
    default: return fail(WHERE, `method '${String(method)}' cannot be timed: only the built-in methods' chain shapes are known to the timer`);
  }
}

/** The stock layers a request times: the layer itself, or its chain (zero kernels of the right shapes). */
export function requestLayers(req: Pick<TimingRequest, "layer" | "method" | "ranks">): LayerSpec[] {
  return req.method === null ? [layerAsSpec(req.layer)] : buildChain(req.layer, shapeKernels(req.layer, req.method, req.ranks));
}

/** FLOPs and bytes moved (activations read and written, weights read; float32) for one batch. */
export interface Features {
  flops: number;
  bytes: number;
}

export function requestFeatures(req: Pick<TimingRequest, "layer" | "method" | "ranks" | "inShape" | "batch">): Features {
  let shape = [...req.inShape];
  let flops = 0, bytes = 0;
  for (const spec of requestLayers(req)) {
    const c = specCost(spec, shape);
    const inN = shape.reduce((a, b) => a * b, 1), outN = c.outShape.reduce((a, b) => a * b, 1);
    flops += c.flops * req.batch;
    bytes += 4 * ((inN + outN) * req.batch + c.params);
    shape = c.outShape;
  }
  return { flops, bytes };
}

// ---- cache ----

/** The cache key of a request under a timer: everything that changes the measured time. */
export function timingKey(timerId: string, req: TimingRequest): string {
  const c = req.layer.config;
  const geo = req.layer.className === "Dense" ? {} : { k: c.kernel_size, s: c.strides ?? 1, d: c.dilation_rate ?? 1, p: c.padding ?? "valid" };
  return JSON.stringify([timerId, req.layer.className, req.layer.kernel.shape, req.layer.bias !== null, c.activation ?? "linear", geo, req.inShape, req.method, req.ranks, req.batch, req.mode]);
}

/**
 * A timer behind a cache: each distinct request is timed once. `entries` (e.g. loaded from a JSON file by
 * src/models/timing.ts) seed it and `entries` is what to save back.
 */
export class CachedTimer implements Timer {
  readonly entries: Map<string, number>;
  /** Requests answered from the cache / by timing. */
  hits = 0;
  misses = 0;
  /** Seconds spent in the inner timer. */
  spent = 0;
  constructor(readonly inner: Timer, entries: Iterable<[string, number]> = [], private readonly now: () => number = () => performance.now() / 1e3) {
    this.entries = new Map(entries);
  }
  get id(): string { return this.inner.id; }
  time(req: TimingRequest): number {
    const key = timingKey(this.inner.id, req);
    const hit = this.entries.get(key);
    if (hit !== undefined) { this.hits++; return hit; }
    const t0 = this.now();
    const t = this.inner.time(req);
    this.spent += this.now() - t0;
    if (!(t > 0 && Number.isFinite(t))) fail(WHERE, `timer '${this.inner.id}' returned ${t} s for ${req.method ?? "the layer"} on '${req.layer.name}'; expected a positive time`);
    this.misses++;
    this.entries.set(key, t);
    return t;
  }
}

// ---- the per-method model ----

export interface TimePoint extends Features {
  time: number;
}

/** t ≈ a + b·FLOPs + c·bytes (coefficients ≥ 0), fitted to timed points. */
export interface TimeModel {
  coef: [number, number, number];
  predict(f: Features): number;
  /** Largest relative error of the fit on its own points. */
  fitError: number;
}

/**
 * Least squares on the timed points, in scaled units. Terms whose coefficient comes out negative (noise,
 * or collinear FLOPs and bytes) are dropped and the rest refitted, so predictions grow with work. With
 * one point, time is taken proportional to FLOPs. A 3×3 normal-equation solve: too small for a library.
 */
export function fitTimeModel(points: readonly TimePoint[]): TimeModel {
  if (points.length === 0) fail(WHERE, "fitTimeModel needs at least one timed point");
  const sf = Math.max(...points.map((p) => p.flops), 1), sb = Math.max(...points.map((p) => p.bytes), 1), st = Math.max(...points.map((p) => p.time));
  const rows = points.map((p) => [1, p.flops / sf, p.bytes / sb]);
  const y = points.map((p) => p.time / st);
  let active = points.length >= 3 ? [0, 1, 2] : points.length === 2 ? [0, 1] : [1];
  let beta: number[] = [];
  for (;;) {
    const sol = solveLeastSquares(rows.map((r) => active.map((j) => r[j])), y);
    if (!sol && active.length > 1) { active = active.slice(0, -1); continue; } // collinear: fewer terms
    beta = sol ?? active.map(() => 0);
    const neg = beta.findIndex((b) => b < 0);
    if (neg < 0 || active.length === 1) break;
    active = active.filter((_, i) => i !== neg);
  }
  const full: number[] = [0, 0, 0];
  active.forEach((j, i) => (full[j] = Math.max(0, beta[i])));
  if (!full.some((x) => x > 0)) full[0] = y.reduce((a, b) => a + b, 0) / y.length; // degenerate: the mean
  const coef: [number, number, number] = [full[0] * st, (full[1] * st) / sf, (full[2] * st) / sb];
  const predict = (f: Features) => coef[0] + coef[1] * f.flops + coef[2] * f.bytes;
  const fitError = Math.max(...points.map((p) => Math.abs(predict(p) - p.time) / p.time));
  return { coef, predict, fitError };
}

/** argmin ‖A·x − y‖ via the normal equations (Gaussian elimination with pivoting); null when singular. */
function solveLeastSquares(a: number[][], y: number[]): number[] | null {
  const n = a[0].length;
  const m = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => a.reduce((s, r) => s + r[i] * r[j], 0)), a.reduce((s, r, k) => s + r[i] * y[k], 0)]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12) return null;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}
