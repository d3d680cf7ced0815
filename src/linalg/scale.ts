// Power-of-two scaling of kernel inputs (LAPACK's xLASCL idea): values whose
// largest magnitude is outside [2^-32, 2^32] are multiplied by 2^e so it lands
// in [0.5, 1) — exact, only exponents change — before a factorisation, and the
// results' magnitudes (singular values, R, eigenvalues, CP weights, a Tucker
// core) are multiplied back by 2^-e. Vectors are unchanged. Inside the range
// nothing is scaled, so ordinary inputs keep their exact results; outside it
// the f32 kernels would under- or overflow (denormal Householder norms,
// squared entries in Gram matrices past 3.4e38).
import type { Scratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";

const SAFE_EXP = 32;

/** Slack for the kernels' bounded buffers (GEMM packing per thread, vectors of length n). */
export const KERNEL_SLACK = 32 * 2 ** 20;

/** Exponent e to scale by (2^e), or 0 when max |x| is already in the safe range (or 0). */
export function scaleExponent(maxAbs: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return 0;
  const lg = Math.log2(maxAbs);
  if (lg >= -SAFE_EXP && lg <= SAFE_EXP) return 0;
  return -Math.floor(lg) - 1;
}

/** Scale n float32 values at p in place into the safe range; returns e (values were multiplied by 2^e). */
export function scaleInPlace(s: Scratch, p: number, n: number): number {
  const e = scaleExponent(s.k.maxabs_f32(p, n));
  if (e !== 0) s.k.scale_pow2_f32(p, n, e);
  return e;
}

/**
 * For pointer-level entries that must leave their input untouched: p itself when
 * no scaling is needed (one max pass), else a scaled copy. Returns the pointer and e.
 */
export function scaledCopy(s: Scratch, p: number, n: number): { ptr: number; e: number } {
  const e = scaleExponent(s.k.maxabs_f32(p, n));
  if (e === 0) return { ptr: p, e };
  const c = s.f32(n);
  s.k.copy_block_f32(p, n, c, n, 1, n);
  s.k.scale_pow2_f32(c, n, e);
  return { ptr: c, e };
}

/**
 * Undo a scaling on n result values at p (multiply by 2^-e). Values that do not
 * fit float32 after unscaling fail with a message naming `what` and `where`.
 */
export function unscale(s: Scratch, where: string, what: string, p: number, n: number, e: number): void {
  if (e === 0 || n === 0) return;
  s.k.scale_pow2_f32(p, n, -e);
  const bad = s.k.first_nonfinite_f32(p, n);
  if (bad >= 0) {
    fail(where, `${what} overflow float32 (|value| > 3.4e38) at index ${bad}; the input is too large for a float32 result — scale it down first`);
  }
}
