// Products of finite float32 inputs can still overflow (1e30·1e30): check the
// output once (one SIMD pass, m·n reads against the GEMM's m·n·k multiply-adds)
// and name the first overflowing entry instead of returning Inf silently.
import type { Scratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";

export function checkProduct(s: Scratch, where: string, p: number, m: number, n: number): void {
  const bad = s.k.first_nonfinite_f32(p, m * n);
  if (bad < 0) return;
  const v = s.view(p, m * n)[bad];
  fail(where, `the ${m}×${n} product overflows float32 at [${Math.floor(bad / n)}, ${bad % n}] (${v}; float32 holds |x| ≤ 3.4e38) although the inputs are finite; scale the inputs down`);
}
