// The one place the layer code calls the decompositions (src/linalg svd,
// src/decompose tucker / cp). Everything else in src/layers is layout and
// bookkeeping, so swapping a decomposition means editing one line here.
import type { Tensor } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";

export interface DecompositionOptions {
  /** Seed for randomized SVD / CP initialisation. */
  seed?: number;
  /** Tucker solver: HOSVD (one pass, default) or HOOI (iterated). */
  tuckerMethod?: "hosvd" | "hooi";
  /** CP-ALS iterations. */
  cpIterations?: number;
}

/** Thin truncated SVD: a ≈ u·diag(s)·vᵀ, u m×k, v n×k, s descending. */
export function truncatedSvd(a: Tensor, rank: number, _o: DecompositionOptions = {}): { u: Tensor; s: Float32Array; v: Tensor } {
  return fail("svd", `not available yet (waiting for the linalg branch); asked for rank ${rank} of [${a.shape}]`);
}

/** All singular values of a, descending. */
export function singularValues(a: Tensor, _o: DecompositionOptions = {}): Float32Array {
  return fail("svd", `not available yet (waiting for the linalg branch); asked for the spectrum of [${a.shape}]`);
}

/** Partial Tucker on `modes`: t ≈ core ×_modes factors (factor i: dim(modes[i]) × ranks[i]). */
export function partialTucker(t: Tensor, ranks: number[], modes: number[], _o: DecompositionOptions = {}): { core: Tensor; factors: Tensor[] } {
  return fail("tucker", `not available yet (waiting for the tensor branch); asked for ranks [${ranks}] on modes [${modes}] of [${t.shape}]`);
}

/** CP: t ≈ Σ_r weights[r] · a₀[:, r] ∘ a₁[:, r] ∘ … (factor i: dim(i) × rank). */
export function cpDecompose(t: Tensor, rank: number, _o: DecompositionOptions = {}): { weights: Float32Array; factors: Tensor[] } {
  return fail("cp", `not available yet (waiting for the tensor branch); asked for rank ${rank} of [${t.shape}]`);
}
