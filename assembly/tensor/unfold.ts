// Mode-n operations on a row-major tensor. Every mode-n operation only needs the
// tensor viewed as a 3-way array (A, I, B): A = product of the dims before mode n,
// I = dim n, B = product of the dims after it. Element (a, i, b) sits at
// (a·I + i)·B + b.
//
// Unfolding convention (TensorLy's): X_(n) is I × (A·B) with
//   X_(n)[i, a·B + b] = x[a, i, b],
// i.e. the remaining modes keep their order, row-major (first remaining mode
// slowest). This matches np.reshape(np.moveaxis(x, n, 0), (I, -1)), and the
// Khatri–Rao product of the other factors taken in mode order (first slowest).
import { gemm_f32 } from "../linalg/gemm";
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

@inline function copy_f32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** out (I × A·B) = X_(n) for x viewed as (A, I, B). */
export function unfold_f32(x: usize, A: i32, I: i32, B: i32, out: usize): void {
  const ld = A * B;
  for (let a = 0; a < A; a++) {
    for (let i = 0; i < I; i++) {
      copy_f32(out + (<usize>(i * ld + a * B) << 2), x + (<usize>((a * I + i) * B) << 2), B);
    }
  }
}

/** Inverse of unfold_f32: out (A, I, B) from u (I × A·B). */
export function fold_f32(u: usize, A: i32, I: i32, B: i32, out: usize): void {
  const ld = A * B;
  for (let a = 0; a < A; a++) {
    for (let i = 0; i < I; i++) {
      copy_f32(out + (<usize>((a * I + i) * B) << 2), u + (<usize>(i * ld + a * B) << 2), B);
    }
  }
}

/** Batched transpose: out[a, b, i] = x[a, i, b] (moves mode n to the last position). */
export function swap_last_f32(x: usize, A: i32, I: i32, B: i32, out: usize): void {
  const blk = I * B;
  for (let a = 0; a < A; a++) {
    const xa = x + (<usize>(a * blk) << 2);
    const oa = out + (<usize>(a * blk) << 2);
    for (let i = 0; i < I; i++) {
      const xr = xa + (<usize>(i * B) << 2);
      for (let b = 0; b < B; b++) {
        store<f32>(oa + (<usize>(b * I + i) << 2), load<f32>(xr + (<usize>b << 2)));
      }
    }
  }
}

/**
 * Mode-n product: out (A, J, B) = x ×_n op(U), with op(U) J×I.
 * transU = 0: U is stored J×I; transU = 1: U is stored I×J (x ×_n Uᵀ, the
 * projection onto a factor's columns). No unfolding is materialised: one GEMM
 * per leading index a on the right strides, or a single GEMM when mode n is
 * first or last; for short trailing blocks (B < 16) the tensor is moved to
 * (A·B, I) layout so a single large GEMM does the work.
 */
export function mode_product_f32(x: usize, A: i32, I: i32, B: i32, u: usize, J: i32, transU: i32, out: usize): void {
  const ldu = transU ? J : I;
  if (B == 1) {
    // out (A×J) = x (A×I) · op(U)ᵀ
    gemm_f32(0, transU ? 0 : 1, A, J, I, 1, x, I, u, ldu, 0, out, J);
    return;
  }
  if (A == 1) {
    gemm_f32(transU, 0, J, B, I, 1, u, ldu, x, B, 0, out, B);
    return;
  }
  if (B < 16) {
    const mark = scratch_mark();
    const t = scratch_alloc(<usize>A * <usize>I * <usize>B * 4);
    const y = scratch_alloc(<usize>A * <usize>J * <usize>B * 4);
    swap_last_f32(x, A, I, B, t); // (A·B) × I
    gemm_f32(0, transU ? 0 : 1, A * B, J, I, 1, t, I, u, ldu, 0, y, J); // (A·B) × J
    swap_last_f32(y, A, B, J, out); // (A, J, B)
    scratch_reset(mark);
    return;
  }
  for (let a = 0; a < A; a++) {
    gemm_f32(transU, 0, J, B, I, 1, u, ldu, x + (<usize>(a * I * B) << 2), B, 0, out + (<usize>(a * J * B) << 2), B);
  }
}

/** Row-block height of syrk_upper_f32 (the Gram products compute only the upper triangle). */
const SYRK_NB = 64;

/**
 * Upper triangle (with the full diagonal blocks) of C (n×n, ldc) ← op(X)·op(X)ᵀ + beta·C,
 * op(X) n×k: X stored n×k (trans 0, row stride ldx) or k×n (trans 1). One gemm per block
 * of SYRK_NB rows over the columns from its diagonal on: about half the multiply-adds of
 * the full product. Entries strictly below the diagonal blocks are not touched.
 */
function syrk_upper_f32(trans: i32, n: i32, k: i32, x: usize, ldx: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i0 = 0; i0 < n; i0 += SYRK_NB) {
    const b = min(SYRK_NB, n - i0);
    const xi = x + (<usize>(trans ? i0 : i0 * ldx) << 2);
    gemm_f32(trans, trans ? 0 : 1, b, n - i0, k, 1, xi, ldx, xi, ldx, beta, c + (<usize>(i0 * ldc + i0) << 2), ldc);
  }
}

/** C (n×n, ldc) ← its upper triangle mirrored below the diagonal (exactly symmetric). */
function mirror_upper_f32(n: i32, c: usize, ldc: i32): void {
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) store<f32>(c + (<usize>(i * ldc + j) << 2), load<f32>(c + (<usize>(j * ldc + i) << 2)));
  }
}

/**
 * out (I × I) = X_(n) · X_(n)ᵀ, computed without forming X_(n) when the blocks are long.
 * Only the upper triangle is multiplied (syrk_upper_f32), then mirrored: exactly symmetric.
 */
export function unfold_gram_f32(x: usize, A: i32, I: i32, B: i32, out: usize): void {
  if (B == 1) {
    syrk_upper_f32(1, I, A, x, I, 0, out, I);
  } else if (A == 1 || B >= 64) {
    for (let a = 0; a < A; a++) {
      const xa = x + (<usize>(a * I * B) << 2);
      syrk_upper_f32(0, I, B, xa, B, a == 0 ? <f32>0 : <f32>1, out, I);
    }
  } else {
    const mark = scratch_mark();
    const t = scratch_alloc(<usize>A * <usize>I * <usize>B * 4);
    unfold_f32(x, A, I, B, t);
    syrk_upper_f32(0, I, A * B, t, A * B, 0, out, I);
    scratch_reset(mark);
  }
  mirror_upper_f32(I, out, I);
}
