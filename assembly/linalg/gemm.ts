// C = alpha * op(A) * op(B) + beta * C, row-major, op = transpose when the flag is set.
// A is m×k (or k×m when transA), B is k×n (or n×k when transB), C is m×n.
// Placeholder: straightforward SIMD over the columns of C. Replaced by the
// packed, cache-blocked kernel.
import { fma4, ldf, stf } from "../simd";

export function gemm_f32(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): void {
  for (let i = 0; i < m; i++) {
    const crow = c + (<usize>(i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const old = beta == 0 ? <f32>0 : beta * ldf(crow, j);
      stf(crow, j, old);
    }
    for (let p = 0; p < k; p++) {
      const aip = alpha * (transA ? ldf(a, p * lda + i) : ldf(a, i * lda + p));
      if (transB) {
        for (let j = 0; j < n; j++) stf(crow, j, ldf(crow, j) + aip * ldf(b, j * ldb + p));
      } else {
        const brow = b + (<usize>(p * ldb) << 2);
        const av = f32x4.splat(aip);
        let j = 0;
        for (; j + 4 <= n; j += 4) {
          const off = <usize>j << 2;
          v128.store(crow + off, fma4(av, v128.load(brow + off), v128.load(crow + off)));
        }
        for (; j < n; j++) stf(crow, j, ldf(crow, j) + aip * ldf(brow, j));
      }
    }
  }
}
