// Rank rules on a spectrum (singular values, descending). The one place the
// planner calls rank selection (src/decompose/rank.ts when it lands).
import { fail } from "../core/errors.ts";

/** Smallest r whose leading r singular values keep ≥ `threshold` of the energy Σσ² (threshold in [0, 1]). */
export function energyRank(s: ArrayLike<number>, threshold: number): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i] * s[i];
  if (total === 0) return 1;
  if (threshold >= 1) return s.length;
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc += s[i] * s[i];
    if (acc >= threshold * total * (1 - 1e-12)) return i + 1;
  }
  return s.length;
}

/** Relative Frobenius error of keeping the leading r singular values: √(Σ_{i≥r} σ²/Σσ²). */
export function truncationError(s: ArrayLike<number>, r: number): number {
  let total = 0, tail = 0;
  for (let i = 0; i < s.length; i++) {
    total += s[i] * s[i];
    if (i >= r) tail += s[i] * s[i];
  }
  return total === 0 ? 0 : Math.sqrt(tail / total);
}

/**
 * EVBMF rank of an L×M matrix with singular values s; `weaken` w ∈ [0, 1] moves it toward the full
 * rank R: R − w·(R − r_vbmf) (w = 1: plain EVBMF). May return 0 (the layer is then left alone).
 */
export function evbmfRank(s: Float32Array, shape: [number, number], weaken = 1): number {
  void s; void weaken;
  return fail("evbmf", `not available yet (waiting for the tensor branch's rank selection); matrix ${shape[0]}×${shape[1]}`);
}
