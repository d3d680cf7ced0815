// Rank rules on a spectrum (singular values, descending): thin adapters over
// src/decompose/rank.ts, plus the truncation error the plan reports.
import { energyRank as energy, evbmf } from "../decompose/rank.ts";

/**
 * The planner's energy rule: `energyRank` from src/decompose/rank.ts with the threshold clamped to [0, 1]
 * (≥ 1 keeps every value even past trailing zeros, ≤ 0 keeps one), as the budget bisection needs.
 */
export function planEnergyRank(s: ArrayLike<number>, threshold: number): number {
  if (threshold >= 1) return s.length;
  if (threshold <= 0) return 1;
  return energy(s, threshold);
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
 * rank R = min(L, M) as in MUSCO: R − w·(R − r_vbmf) (w = 1: plain EVBMF). May return 0.
 */
export function evbmfRank(s: ArrayLike<number>, shape: [number, number], weaken = 1): number {
  const r = evbmf(s, shape[0], shape[1]).rank;
  const R = Math.min(shape[0], shape[1]);
  return Math.round(R - weaken * (R - r));
}
