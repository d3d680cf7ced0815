// The one place the layer code calls the decompositions (src/linalg svd,
// src/decompose tucker / cp). Everything else in src/layers is layout and
// bookkeeping, so swapping a decomposition means editing one line here.
import type { Tensor } from "../core/tensor.ts";
import { svd } from "../linalg/svd.ts";
import { tucker } from "../decompose/tucker.ts";
import { cp } from "../decompose/cp.ts";
import { withScratch } from "../core/heap.ts";
import { eighInto } from "../linalg/eigh.ts";
import { scaleInPlace } from "../linalg/scale.ts";

/**
 * Solver options passed to the decompositions, under each decomposition's own option names
 * (SvdOptions.method, TuckerOptions.method, CPOptions.maxIter) so one vocabulary holds from
 * `svd`/`tucker`/`cp` to the planner.
 */
export interface DecompositionOptions {
  /** Seed for randomized SVD / CP initialisation (default 0). */
  seed?: number;
  /** SVD solver: 'auto' (default: randomized when the rank is small), 'full' or 'randomized'. */
  svd?: { method?: "auto" | "full" | "randomized" };
  /** Tucker solver: HOSVD (one pass, default) or HOOI (iterated). */
  tucker?: { method?: "hosvd" | "hooi" };
  /** CP-ALS iteration cap (default 100). */
  cp?: { maxIter?: number };
  /** @deprecated use `svd.method` (still accepted; the nested field wins). */
  svdMethod?: "auto" | "full" | "randomized";
  /** @deprecated use `tucker.method` (still accepted; the nested field wins). */
  tuckerMethod?: "hosvd" | "hooi";
  /** @deprecated use `cp.maxIter` (still accepted; the nested field wins). */
  cpIterations?: number;
}

/** Thin truncated SVD: a ≈ u·diag(s)·vᵀ, u m×k, v n×k, s descending. */
export function truncatedSvd(a: Tensor, rank: number, o: DecompositionOptions = {}): { u: Tensor; s: Float32Array; v: Tensor } {
  return svd(a, { rank, method: o.svd?.method ?? o.svdMethod ?? "auto", seed: o.seed ?? 0 });
}

/**
 * All min(m, n) singular values of a, descending (f64 from an f32 Gram: named apart from linalg
 * `singularValues`, which runs the SVD kernel and returns f32): square roots of the eigenvalues (linalg eigh) of the
 * Gram matrix of its shorter side, formed by the f32 GEMM. Small values are accurate to ~1e-3·σ_max —
 * plenty for rank rules and budget allocation, and ~10× faster than the f64 unfoldingSpectrum at 512×4608.
 */
export function gramSingularValues(a: Tensor, _o: DecompositionOptions = {}): Float64Array {
  const [m, n] = a.shape;
  return sliceSpectrum({ data: a.data, shape: [1, m, n] }, m <= n ? "rows" : "cols");
}

/**
 * Singular values of the stacked slices of t = [P, m, n]: of the m × (P·n) matrix [t_1 … t_P] (side
 * "rows", Gram Σ t_p·t_pᵀ) or of the (P·m) × n matrix (side "cols", Gram Σ t_pᵀ·t_p). For a conv kernel
 * [kh, kw, S, T] viewed as [kh·kw, S, T] these are the spectra of its mode-2 and mode-3 unfoldings,
 * obtained without permuting the kernel.
 */
export function sliceSpectrum(t: Tensor, side: "rows" | "cols"): Float64Array {
  const [P, m, n] = t.shape;
  const k = side === "rows" ? m : n;
  const count = Math.min(k, P * (side === "rows" ? n : m));
  return withScratch((s) => {
    const p = s.put(t.data, "spectrum", "kernel");
    // tiny or huge kernels: the f32 Gram would under/overflow (3e38 → Inf); work on 2^e·t (exact)
    const e = scaleInPlace(s, p, P * m * n);
    const g = s.f32(k * k);
    for (let i = 0; i < P; i++) {
      const a = p + 4 * i * m * n;
      if (side === "rows") s.k.gemm_f32(0, 1, m, m, n, 1, a, n, a, n, i === 0 ? 0 : 1, g, m);
      else s.k.gemm_f32(1, 0, n, n, m, 1, a, n, a, n, i === 0 ? 0 : 1, g, n);
    }
    const { values } = eighInto(s, g, k); // descending
    return Float64Array.from(s.view(values, count), (x) => Math.sqrt(Math.max(x, 0)) * 2 ** -e);
  });
}

/** Partial Tucker on `modes`: t ≈ core ×_modes factors (factor i: dim(modes[i]) × ranks[i]). */
export function partialTucker(t: Tensor, ranks: number[], modes: number[], o: DecompositionOptions = {}): { core: Tensor; factors: Tensor[] } {
  const r = tucker(t, { rank: ranks, modes, method: o.tucker?.method ?? o.tuckerMethod ?? "hosvd" });
  return { core: r.core, factors: r.factors };
}

/** CP: t ≈ Σ_r weights[r] · a₀[:, r] ∘ a₁[:, r] ∘ … (factor i: dim(i) × rank). */
export function cpDecompose(t: Tensor, rank: number, o: DecompositionOptions = {}): { weights: Float32Array; factors: Tensor[] } {
  const r = cp(t, { rank, maxIter: o.cp?.maxIter ?? o.cpIterations ?? 100, seed: o.seed ?? 0 });
  return { weights: r.weights, factors: r.factors };
}
