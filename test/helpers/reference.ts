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
