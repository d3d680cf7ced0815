// Named wrappers for the kernels whose positional signatures are too long to read at a call
// site. The kernel ABI itself (every export, typed) is generated: src/core/kernels.generated.ts.
// A new kernel needs nothing here unless its argument list is long; then add a wrapper that
// takes one object, as gemm does.
import type { KernelFunctions } from "./kernels.generated.ts";

/** C ← alpha·op(A)·op(B) + beta·C, row-major; op(A) is m×k, op(B) k×n, C m×n (pointers into wasm memory). */
export interface GemmArgs {
  /** Use Aᵀ (A stored k×m). Default false. */
  transA?: boolean;
  /** Use Bᵀ (B stored n×k). Default false. */
  transB?: boolean;
  m: number;
  n: number;
  k: number;
  /** Default 1. */
  alpha?: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  /** Default 0 (C is overwritten). */
  beta?: number;
  c: number;
  ldc: number;
}

/** gemm_f32 with named arguments. */
export function gemm(k: Pick<KernelFunctions, "gemm_f32">, g: GemmArgs): void {
  k.gemm_f32(g.transA ? 1 : 0, g.transB ? 1 : 0, g.m, g.n, g.k, g.alpha ?? 1, g.a, g.lda, g.b, g.ldb, g.beta ?? 0, g.c, g.ldc);
}
