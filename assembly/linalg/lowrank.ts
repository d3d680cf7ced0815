// Low-rank matmul Y = X·U·V (+ bias) without forming U·V:
// T = X·U (m×r, scratch), then Y = T·V (+ bias broadcast over rows).
// X is m×k, U is k×r, V is r×n, bias is n values (0 = none), Y is m×n; all row-major, contiguous.
// Cost 2·r·(m·k + m·n) instead of 2·m·k·n for the dense product with W = U·V.
// Returns 0, or 1 when memory cannot grow for the m×r intermediate (Y untouched).
import { gemm_f32 } from "./gemm";
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

export function lowrank_matmul_f32(m: i32, n: i32, k: i32, r: i32, x: usize, u: usize, v: usize, bias: usize, y: usize): i32 {
  const mark = scratch_mark();
  const t = scratch_alloc(<usize>m * r << 2);
  if (t == 0) return 1;
  gemm_f32(0, 0, m, r, k, 1, x, k, u, r, 0, t, r);
  let beta: f32 = 0;
  if (bias != 0) {
    const nb = <usize>n << 2;
    for (let i = 0; i < m; i++) memory.copy(y + <usize>i * nb, bias, nb);
    beta = 1;
  }
  gemm_f32(0, 0, m, n, r, 1, t, r, v, n, beta, y, n);
  scratch_reset(mark);
  return 0;
}
