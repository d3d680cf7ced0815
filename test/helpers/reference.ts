// Plain scalar float64 references the kernels are checked against.
import type { Tensor } from "../../src/index.ts";

export function refMatmul(a: Tensor, b: Tensor, ta = false, tb = false): Float64Array {
  const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = tb ? b.shape[0] : b.shape[1];
  const lda = a.shape[1], ldb = b.shape[1];
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const x = ta ? a.data[p * lda + i] : a.data[i * lda + p];
        const y = tb ? b.data[j * ldb + p] : b.data[p * ldb + j];
        s += x * y;
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** ‖x − y‖_F / max(‖y‖_F, tiny). */
export function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** Largest |x − y| relative to the largest |y|. */
export function maxRelErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0, scale = 0;
  for (let i = 0; i < y.length; i++) {
    worst = Math.max(worst, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

/**
 * BLAS-style strided reference: returns a float64 copy of the whole C buffer
 * after C = alpha·op(A)·op(B) + beta·C (beta = 0 ignores C, entries outside
 * the m×n window are copied unchanged).
 */
export function refGemm(
  ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number,
  a: ArrayLike<number>, lda: number, b: ArrayLike<number>, ldb: number,
  beta: number, c: ArrayLike<number>, ldc: number,
): Float64Array {
  const out = Float64Array.from(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      }
      out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]);
    }
  }
  return out;
}
