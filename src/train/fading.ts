// Rank fading (Odecomp): before cutting a factorized Dense pair W = U·V from
// rank R to r, penalise the parts that will be cut, ramped in over steps:
//   λ·f(t)·(‖U[:, r:R]‖₁ + ‖V[r:R, :]‖₁),  f(t) = min(t/T, 1).
// U is the kernel of the first Dense (n→R, no bias; tfjs shape [n, R]) and V
// the kernel of the second (R→m; shape [R, m]): the tail COLUMNS of U and the
// tail ROWS of V (Odecomp's published code slices V[R−r:R] — the wrong rows).
// For an unfactorized Dense W the penalty is the tail of its nuclear norm,
// Σ_{i>r} σ_i(W) (= ‖W − W_r‖_* ), whose gradient is U_tail·V_tailᵀ, computed
// with odecomp's wasm `svd` (call `await ready()` first) or an SVD passed in.
//
// Two ways to apply it:
// - `fadingPenalty(model, options)` returns `(step) => scalar` for the custom
//   loop (`trainEpoch({ penalty })`, or `optimizer.minimize(() => loss + penalty(step))`);
// - `fadingProximal(model, options)` returns a `{ onBatchEnd }` callback for
//   `model.fit`: tfjs-layers' fit cannot add a loss term from a callback, so
//   after each optimizer step it applies the proximal operator of the same
//   penalty with step size `learningRate` (soft-thresholding the tail entries by
//   learningRate·λ·f(t); for unfactorized layers, soft-thresholding the tail
//   singular values). This is exact proximal gradient for SGD and a standard
//   approximation with adaptive optimizers.
// `truncatePairs` then cuts each pair to rank r (first r columns / rows).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { check, fail } from "../core/errors.ts";
import { svd as linalgSvd } from "../linalg/svd.ts";

/** A factorized Dense pair by layer names: `u` (n→R, no bias) feeds `v` (R→m). */
export interface FactorPair { u: string; v: string }

/** Any thin SVD: a ≈ u·diag(s)·vᵀ with u [rows, k], s [k], v [cols, k] (descending s). */
export type SvdFunction = (a: { data: Float32Array; shape: number[] }) => { u: { data: Float32Array; shape: number[] }; s: { data: Float32Array; shape: number[] } | Float32Array; v: { data: Float32Array; shape: number[] } };

export interface FadingOptions {
  /** Target rank r (components r..R−1 are faded). */
  rank: number;
  /** Factorized pairs to fade. */
  pairs?: FactorPair[];
  /** Unfactorized Dense layers to fade through the tail of their SVD (recomputed at every step). */
  dense?: string[];
  /** Penalty weight λ (default 1e-3, Odecomp's MNIST value). */
  lambda?: number;
  /** Ramp length T in steps: f(t) = min(t/T, 1) (default 1000). */
  rampSteps?: number;
  /** SVD used for `dense` layers (default: odecomp's wasm svd, method 'full'; needs `await ready()`). */
  svd?: SvdFunction;
}

const defaultSvd: SvdFunction = (a) => linalgSvd(a, { method: "full" });

/** The ramp f(t) = min(t/T, 1). */
export function fadingRamp(step: number, rampSteps: number): number {
  return Math.min(step / rampSteps, 1);
}

interface Resolved { pairs: { u: tfl.LayerVariable; v: tfl.LayerVariable; R: number }[]; dense: tfl.LayerVariable[]; r: number; lambda: number; T: number; svd: SvdFunction }

function resolve(model: tfl.LayersModel, o: FadingOptions, where: string): Resolved {
  const r = o.rank, lambda = o.lambda ?? 1e-3, T = o.rampSteps ?? 1000;
  check(Number.isInteger(r) && r >= 0, where, () => `rank = ${r}; expected an integer ≥ 0`);
  check(Number.isFinite(lambda) && lambda >= 0, where, () => `lambda = ${lambda}; expected a finite number ≥ 0`);
  check(Number.isFinite(T) && T > 0, where, () => `rampSteps = ${T}; expected a positive number`);
  check((o.pairs?.length ?? 0) + (o.dense?.length ?? 0) > 0, where, () => "no layers to fade; expected options.pairs and/or options.dense");
  const kernel = (name: string) => {
    let layer: tfl.layers.Layer;
    try { layer = model.getLayer(name); } catch { return fail(where, `no layer '${name}' in model '${model.name}'; expected one of ${model.layers.map((l) => l.name).join(", ")}`); }
    check(layer.getClassName() === "Dense", where, () => `layer '${name}' is a ${layer.getClassName()}; expected Dense`);
    return layer.weights[0];
  };
  const pairs = (o.pairs ?? []).map(({ u, v }) => {
    const U = kernel(u), V = kernel(v);
    const R = U.shape[1]!;
    check(V.shape[0] === R, where, () => `pair ${u}→${v}: U is [${U.shape}] but V is [${V.shape}]; expected V's rows = U's columns`);
    check(r < R, where, () => `rank ${r} ≥ the pair ${u}→${v}'s rank ${R}; expected a smaller target rank`);
    return { u: U, v: V, R };
  });
  const dense = (o.dense ?? []).map((name) => {
    const W = kernel(name);
    check(r < Math.min(W.shape[0]!, W.shape[1]!), where, () => `rank ${r} ≥ min dims of '${name}' [${W.shape}]; expected a smaller target rank`);
    return W;
  });
  return { pairs, dense, r, lambda, T, svd: o.svd ?? defaultSvd };
}

/** Tail singular vectors of W (constants, outside the gradient tape): u [n, k], s [k], v [m, k] for i ≥ r. */
function svdTail(W: tf.Tensor, r: number, svd: SvdFunction): { u: tf.Tensor2D; s: tf.Tensor1D; v: tf.Tensor2D } {
  const [n, m] = W.shape;
  const res = svd({ data: W.dataSync() as Float32Array, shape: [n, m] });
  const s = res.s instanceof Float32Array ? res.s : res.s.data;
  const k = s.length;
  const u = tf.tensor2d(res.u.data, [n, res.u.shape[1]]), v = tf.tensor2d(res.v.data, [m, res.v.shape[1]]);
  const out = { u: tf.slice(u, [0, r], [n, k - r]), s: tf.tensor1d(s.slice(r, k)), v: tf.slice(v, [0, r], [m, k - r]) };
  u.dispose(); v.dispose();
  return out;
}

/**
 * Penalty term for the custom loop: `(step) => λ·f(step)·Σ tails`, a scalar that is differentiable in the
 * layer kernels. Call it inside a gradient tape or tf.tidy (its intermediates are left to the scope).
 */
export function fadingPenalty(model: tfl.LayersModel, options: FadingOptions): (step: number) => tf.Scalar {
  const o = resolve(model, options, "fadingPenalty");
  return (step: number) => {
    const coef = o.lambda * fadingRamp(step, o.T);
    const terms: tf.Scalar[] = [];
    for (const { u, v, R } of o.pairs) {
      const U = u.read() as tf.Tensor2D, V = v.read() as tf.Tensor2D;
      terms.push(tf.sum(tf.abs(tf.slice(U, [0, o.r], [U.shape[0], R - o.r]))));
      terms.push(tf.sum(tf.abs(tf.slice(V, [o.r, 0], [R - o.r, V.shape[1]]))));
    }
    for (const w of o.dense) {
      const W = w.read() as tf.Tensor2D;
      // Σ_{i≥r} σ_i = trace(U_tᵀ W V_t) at the current W; gradient U_t V_tᵀ.
      const tail = svdTail(W, o.r, o.svd);
      terms.push(tf.sum(tf.mul(tail.u, tf.matMul(W, tail.v))));
      tail.s.dispose(); // u and v are needed by the backward pass: the caller's tape/tidy disposes them
    }
    return tf.mul(coef, tf.addN(terms)) as tf.Scalar;
  };
}

/** Apply the proximal step of the penalty once (step size `learningRate`) — the update `fadingProximal` runs after each batch. */
export function applyFadingProximal(model: tfl.LayersModel, options: FadingOptions & { learningRate: number }, step: number): void {
  const o = resolve(model, options, "applyFadingProximal");
  check(Number.isFinite(options.learningRate) && options.learningRate > 0, "applyFadingProximal", () => `learningRate = ${options.learningRate}; expected a positive number`);
  const tau = options.learningRate * o.lambda * fadingRamp(step, o.T);
  if (tau === 0) return;
  const shrink = (x: tf.Tensor) => tf.mul(tf.sign(x), tf.relu(tf.sub(tf.abs(x), tau)));
  tf.tidy(() => {
    for (const { u, v, R } of o.pairs) {
      const U = u.read() as tf.Tensor2D, V = v.read() as tf.Tensor2D;
      const [n] = U.shape, m = V.shape[1];
      u.write(tf.concat([tf.slice(U, [0, 0], [n, o.r]), shrink(tf.slice(U, [0, o.r], [n, R - o.r]))], 1));
      v.write(tf.concat([tf.slice(V, [0, 0], [o.r, m]), shrink(tf.slice(V, [o.r, 0], [R - o.r, m]))], 0));
    }
    for (const w of o.dense) {
      const W = w.read() as tf.Tensor2D;
      const tail = svdTail(W, o.r, o.svd);
      // σ_i ← max(σ_i − τ, 0) for i ≥ r: W − U_t·diag(min(σ_t, τ))·V_tᵀ
      w.write(tf.sub(W, tf.matMul(tf.mul(tail.u, tf.minimum(tail.s, tau)), tail.v, false, true)));
    }
  });
}

/** A `model.fit` callback (`callbacks: [fadingProximal(...)]`) applying the proximal fading step after each batch. */
export function fadingProximal(model: tfl.LayersModel, options: FadingOptions & { learningRate: number; initialStep?: number }): tfl.CustomCallback {
  resolve(model, options, "fadingProximal");
  let step = options.initialStep ?? 0;
  return new tfl.CustomCallback({ onBatchEnd: async () => { step++; applyFadingProximal(model, options, step); } });
}

/** Norms of the head (first r) and tail components of each pair, to watch fading work. */
export function tailNorms(model: tfl.LayersModel, options: Pick<FadingOptions, "rank" | "pairs">): { pair: FactorPair; head: number; tail: number }[] {
  const o = resolve(model, { ...options, dense: [] }, "tailNorms");
  return o.pairs.map(({ u, v, R }, i) => {
    const [head, tail] = tf.tidy(() => {
      const U = u.read() as tf.Tensor2D, V = v.read() as tf.Tensor2D;
      return [
        tf.add(tf.sum(tf.abs(tf.slice(U, [0, 0], [U.shape[0], o.r]))), tf.sum(tf.abs(tf.slice(V, [0, 0], [o.r, V.shape[1]])))),
        tf.add(tf.sum(tf.abs(tf.slice(U, [0, o.r], [U.shape[0], R - o.r]))), tf.sum(tf.abs(tf.slice(V, [o.r, 0], [R - o.r, V.shape[1]])))),
      ];
    });
    const out = { pair: options.pairs![i], head: head.dataSync()[0], tail: tail.dataSync()[0] };
    head.dispose(); tail.dispose();
    return out;
  });
}

/**
 * Cut factorized pairs to rank r: a new model (same topology, each `u` layer
 * with r units) whose `u` kernels keep their first r columns and `v` kernels
 * their first r rows; every other weight is copied. The input model is left
 * as it is (dispose it when done).
 */
export async function truncatePairs(model: tfl.LayersModel, pairs: FactorPair[], rank: number): Promise<tfl.LayersModel> {
  const where = "truncatePairs";
  resolve(model, { rank, pairs }, where);
  check(rank >= 1, where, () => `rank = ${rank}; expected ≥ 1 to keep a layer`);
  const topo = model.toJSON(null, false) as { config: { layers: { config: { name: string; units?: number } }[] } };
  const us = new Set(pairs.map((p) => p.u)), vs = new Set(pairs.map((p) => p.v));
  for (const l of topo.config.layers) if (us.has(l.config.name)) l.config.units = rank;
  const out = await tfl.models.modelFromJSON({ modelTopology: topo as never });
  for (const layer of model.layers) {
    const w = layer.getWeights();
    if (w.length === 0) continue;
    const target = out.getLayer(layer.name);
    const cut = tf.tidy(() => w.map((t, i) => {
      if (i === 0 && us.has(layer.name)) return tf.slice(t, [0, 0], [t.shape[0], rank]);
      if (i === 0 && vs.has(layer.name)) return tf.slice(t, [0, 0], [rank, t.shape[1]!]);
      return tf.clone(t);
    }));
    target.setWeights(cut);
    tf.dispose(cut);
  }
  return out;
}
