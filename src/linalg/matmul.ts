import { type Tensor, checkTensor } from "../core/tensor.ts";
import { withScratch } from "../core/heap.ts";
import { gemm } from "../core/kernels.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { checkProduct } from "./overflow.ts";
import { KERNEL_SLACK } from "./scale.ts";

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** op(A)·op(B) for 2-D row-major tensors. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const where = "matmul";
  checkTensor(where, "a", a, 2);
  checkTensor(where, "b", b, 2);
  if (options === null || typeof options !== "object") fail(where, `options must be an object like { transposeA: true }, got ${show(options)}`);
  for (const key of ["transposeA", "transposeB"] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== "boolean") fail(where, `${key} must be true or false, got ${show(v)}`);
  }
  const ta = !!options.transposeA;
  const tb = !!options.transposeB;
  const [m, ka] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) {
    fail(where, `inner dimensions differ: op(a) is ${m}×${ka} (a [${a.shape}]${ta ? ", transposed" : ""}) but op(b) is ${kb}×${n} (b [${b.shape}]${tb ? ", transposed" : ""}); expected equal inner sizes`);
  }
  return withScratch((s) => {
    s.need(4 * (a.data.length + b.data.length + m * n) + KERNEL_SLACK, where, `a ${m}×${ka} by ${ka}×${n} product (inputs and the ${m}×${n} output)`);
    const pa = s.put(a.data, where, "a");
    const pb = s.put(b.data, where, "b");
    const pc = s.f32(m * n);
    gemm(s.k, { transA: ta, transB: tb, m, n, k: ka, a: pa, lda: a.shape[1], b: pb, ldb: b.shape[1], c: pc, ldc: n });
    // inputs are finite (checked by put), so a NaN/Inf here is an overflow: one SIMD pass, ≤ 1/k of the GEMM
    checkProduct(s, where, pc, m, n);
    return { data: s.take(pc, m * n), shape: [m, n] };
  });
}
