// The one place the layer code calls the decompositions (src/linalg svd,
// src/decompose tucker / cp). Everything else in src/layers is layout and
// bookkeeping, so swapping a decomposition means editing one line here.
import type { Tensor } from "../core/tensor.ts";
import { svd } from "../linalg/svd.ts";
import { tucker } from "../decompose/tucker.ts";
import { cp } from "../decompose/cp.ts";
import { unfoldingSpectrum } from "../decompose/rank.ts";

export interface DecompositionOptions {
  /** Seed for randomized SVD / CP initialisation (default 0). */
  seed?: number;
  /** SVD solver: 'auto' (default: randomized when the rank is small), 'full' or 'randomized'. */
  svdMethod?: "auto" | "full" | "randomized";
  /** Tucker solver: HOSVD (one pass, default) or HOOI (iterated). */
  tuckerMethod?: "hosvd" | "hooi";
  /** CP-ALS iterations. */
  cpIterations?: number;
}

/** Thin truncated SVD: a ≈ u·diag(s)·vᵀ, u m×k, v n×k, s descending. */
export function truncatedSvd(a: Tensor, rank: number, o: DecompositionOptions = {}): { u: Tensor; s: Float32Array; v: Tensor } {
  return svd(a, { rank, method: o.svdMethod ?? "auto", seed: o.seed ?? 0 });
}

/** All singular values of a, descending (from the Gram of its shorter side, in f64). */
export function singularValues(a: Tensor, _o: DecompositionOptions = {}): Float64Array {
  return unfoldingSpectrum(a, a.shape[0] <= a.shape[1] ? 0 : 1);
}

/** Partial Tucker on `modes`: t ≈ core ×_modes factors (factor i: dim(modes[i]) × ranks[i]). */
export function partialTucker(t: Tensor, ranks: number[], modes: number[], o: DecompositionOptions = {}): { core: Tensor; factors: Tensor[] } {
  const r = tucker(t, { rank: ranks, modes, method: o.tuckerMethod ?? "hosvd" });
  return { core: r.core, factors: r.factors };
}

/** CP: t ≈ Σ_r weights[r] · a₀[:, r] ∘ a₁[:, r] ∘ … (factor i: dim(i) × rank). */
export function cpDecompose(t: Tensor, rank: number, o: DecompositionOptions = {}): { weights: Float32Array; factors: Tensor[] } {
  const r = cp(t, { rank, maxIter: o.cpIterations ?? 100, seed: o.seed ?? 0 });
  return { weights: r.weights, factors: r.factors };
}
