// Shared pieces of the decompositions: option validation with messages that
// name the bad value and the allowed ones, leading singular vectors of an
// unfolding (from its Gram matrix), and the relative-error helper.
import { type Tensor, checkTensor } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { eighInto } from "../linalg/eigh.ts";
import { scaledCopy } from "../linalg/scale.ts";
import { unfoldGramPtr } from "./ops.ts";

export function oneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    fail(where, `unknown ${name} ${typeof value === "string" ? JSON.stringify(value) : show(value)}; expected one of ${allowed.map((a) => `'${a}'`).join(", ")}`);
  }
  return value as T;
}

export function intOption(where: string, name: string, value: unknown, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `${name} must be an integer in ${min}…${max === Number.MAX_SAFE_INTEGER ? "∞" : max}, got ${show(value)}`);
  }
  return value;
}

export function numOption(where: string, name: string, value: unknown, dflt: number, min: number, max = Infinity): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail(where, `${name} must be a finite number in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

/** Distinct in-range modes (default: all), kept in the order given. */
export function checkModes(where: string, shape: readonly number[], modes: unknown): number[] {
  if (modes === undefined) return shape.map((_, i) => i);
  if (!Array.isArray(modes) || modes.length === 0) fail(where, `modes must be a non-empty array of axis indices, got ${show(modes)}`);
  const seen = new Set<number>();
  for (const m of modes) {
    if (typeof m !== "number" || !Number.isInteger(m) || m < 0 || m >= shape.length) {
      fail(where, `mode ${show(m)} is out of range for a tensor of shape [${shape}]; expected integers in 0…${shape.length - 1}`);
    }
    if (seen.has(m)) fail(where, `mode ${m} is repeated in modes [${modes}]; expected distinct modes`);
    seen.add(m);
  }
  return [...modes] as number[];
}

/** A rank for a mode of size `size`: an integer 1…size. */
export function checkRank(where: string, rank: unknown, size: number, label: string): number {
  if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 1 || rank > size) {
    const hint = typeof rank === "number" && rank > 0 && rank < 1 ? ` (for a share of parameters to keep, pass { fraction: ${rank} })` : "";
    fail(where, `rank ${show(rank)} for ${label} is invalid; expected an integer in 1…${size}${hint}`);
  }
  return rank;
}

/** Seed option → uint32 (default 0). */
export function seedOption(where: string, seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed !== "number" || !Number.isInteger(seed)) fail(where, `seed must be an integer, got ${show(seed)}`);
  return seed >>> 0;
}

/**
 * Leading r eigenvectors (n×r, orthonormal columns, row-major) and all
 * eigenvalues (descending) of a symmetric PSD n×n matrix at g — the Gram
 * matrix of an unfolding, so these are the leading left singular vectors and
 * σ². Uses the exact symmetric eigensolver (linalg eigh: tridiagonalisation +
 * QL). Measured against block subspace iteration on the Gram and a randomized
 * SVD of the unfolding, it was both faster and exact at n ≤ 512.
 */
export function leadingEigPtr(s: Scratch, g: number, n: number, r: number): { vectors: number; values: number } {
  return eighInto(s, g, n, r);
}

/**
 * Leading r left singular vectors (shape[mode] × r, row-major) of the mode-`mode` unfolding of
 * the tensor at x: eigenvectors of the Gram matrix X_(n)·X_(n)ᵀ (unfoldGramPtr, then
 * leadingEigPtr). The one place the decompositions turn an unfolding into its leading vectors.
 * Measured against warm-started subspace iteration and a randomized range finder on the
 * unfolding, the exact eigensolver on the Gram was both faster and more accurate at these
 * sizes (n ≤ 512), in HOSVD, CP's SVD start and inside HOOI sweeps.
 */
export function leadingVectorsPtr(s: Scratch, x: number, shape: readonly number[], mode: number, r: number): number {
  const g = unfoldGramPtr(s, x, shape, mode);
  return leadingEigPtr(s, g, shape[mode], r).vectors;
}

/**
 * leadingEigPtr for several Gram matrices at once: the eigensolves run side by
 * side, one per kernel thread (eigh_batch_f32), with results equal to solving
 * them one after another. Returns the n×r vectors of each, in order.
 */
export function leadingEigBatchPtr(s: Scratch, grams: { g: number; n: number; r: number }[]): number[] {
  const desc = s.i32(8 * grams.length);
  // each solve computes only its r wanted eigenvectors (record slot 7), straight into an n×r block
  const outs = grams.map(({ g, n, r }) => {
    const values = s.f32(n), vectors = s.f32(n * r);
    // only the vectors are returned, so a scaled Gram (2^e·G, exact) needs no unscaling
    const bad = s.k.first_nonfinite_f32(g, n * n);
    if (bad >= 0) fail("eigh", `an ${n}×${n} Gram matrix has a non-finite value at flat index ${bad} (an overflow past float32's 3.4e38 while forming it?); expected finite values`);
    return { g: scaledCopy(s, g, n * n).ptr, n, r, values, vectors };
  });
  new Int32Array(s.k.memory.buffer, desc, 8 * grams.length).set(outs.flatMap((o) => [o.g, o.n, o.values, o.vectors, 0, 0, 0, o.r]));
  const fails = s.k.eigh_batch_f32(grams.length, desc);
  if (fails < 0) fail("eigh", `out of wasm memory for ${grams.length} eigensolves side by side`);
  if (fails > 0) fail("eigh", `the tridiagonal QL iteration did not converge for ${fails} eigenvalue(s) of the Gram matrices (sizes ${grams.map((x) => x.n).join(", ")})`);
  return outs.map((o) => o.vectors);
}

/** Relative Frobenius error ‖a − b‖/‖b‖ of two same-size float32 arrays, computed in wasm in f64. */
export function relativeErrorData(where: string, approx: Float32Array, original: Tensor, shape: readonly number[]): number {
  checkTensor(where, "original", original);
  if (original.shape.length !== shape.length || original.shape.some((d, i) => d !== shape[i])) {
    fail(where, `original has shape [${original.shape}] but the decomposition has shape [${shape}]; expected equal shapes`);
  }
  return withScratch((s) => {
    const pa = s.put(approx);
    const pb = s.put(original.data, where, "original");
    const num = s.k.diffsq_f32(pa, pb, approx.length);
    const den = s.k.sumsq_f32(pb, approx.length);
    return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
  });
}
