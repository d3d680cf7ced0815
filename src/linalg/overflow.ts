// Products of finite float32 inputs can still overflow (1e30·1e30): check the
// output once (one SIMD pass, m·n reads against the GEMM's m·n·k multiply-adds)
// and name the first overflowing entry instead of returning Inf silently.
// Measured against the kernel GEMM alone (1 thread, load ≈ 14): 1.1% at 256³, 1.6% at
// 512×512×64, 21% at 1024×1024×8 and 46% for an outer product (k = 1) — there the
// call's own copy of the output out of wasm memory costs about as much again, so the
// check stays on for every size.
import type { Scratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";

export function checkProduct(s: Scratch, where: string, p: number, m: number, n: number): void {
  const bad = s.k.first_nonfinite_f32(p, m * n);
  if (bad < 0) return;
  const v = s.view(p, m * n)[bad];
  fail(where, `the ${m}×${n} product overflows float32 at [${Math.floor(bad / n)}, ${bad % n}] (${v}; float32 holds |x| ≤ 3.4e38) although the inputs are finite; scale the inputs down`);
}
