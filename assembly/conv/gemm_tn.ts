// C (K×N) = [C +] Aᵀ·B over `rows` rows, where A is rows × K and B is rows × N, both row-major and
// read in place: the conv filter gradient dW = Σ over positions of patch ⊗ dy (A = the patch rows, or
// x itself for a pointwise conv; B = dy). K and N are small (a conv's kH·kW·inC and outC: 4–600),
// the reduction over positions is long (batch·H·W, tens of thousands). gemm_f32 packs both operands
// for such a product — one more pass over the whole of x (or the patches) and dy, for only N (or K)
// multiply-adds per packed value — and its MR×NR grid wastes most of a tile on N = 4 or 17. Here each
// position's row of A and of B is read where it lies: a register tile of C (4 k × 8 n) takes four
// broadcasts from A's row and two vectors from B's row per position, over a block of ROWS positions
// whose rows stay in L1 while every tile of C passes over them. Edges: 8 k × 4 n tiles for a 4–7
// column remainder, single-k tiles for the k remainder, and the last 1–3 columns vectorized along k.
// The order of the additions depends on rows, K and N only.
import { fma4 } from "../simd";
import { JOB_GEMM_TN, arg_i32, par_run, par_threads, set_arg_i32 } from "../threads";

/** Positions per block: 256 rows of A's and B's 4·4 + 8·4-byte strips (≤ 2 cache lines each) stay in L1. */
const ROWS = 256;

/**
 * C[K×N] (row stride ldc) = Aᵀ·B (acc = 0) or C + Aᵀ·B (acc = 1), over `rows` rows of A (row stride
 * lda, K used columns) and B (row stride ldb, N used columns).
 */
export function gemm_tn_rows(rows: i32, K: i32, N: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32): void {
  if (K <= 0 || N <= 0) return;
  if (rows <= 0) {
    if (acc == 0) for (let k = 0; k < K; k++) memory.fill(c + (<usize>(k * ldc) << 2), 0, <usize>N << 2);
    return;
  }
  const ldab = <usize>lda << 2, ldbb = <usize>ldb << 2, ldcb = <usize>ldc << 2;
  const n8 = N & ~7;
  const n4 = N - n8 >= 4 ? n8 + 4 : n8;
  const k4 = K & ~3;
  const k8 = K & ~7;
  for (let p0 = 0; p0 < rows; p0 += ROWS) {
    const np = min(ROWS, rows - p0);
    const init = p0 > 0 || acc != 0;
    const pa = a + <usize>p0 * ldab, pb = b + <usize>p0 * ldbb;
    for (let n = 0; n < n8; n += 8) {
      const bn = pb + (<usize>n << 2);
      let k = 0;
      for (; k < k4; k += 4) tile4x8(np, pa + (<usize>k << 2), ldab, bn, ldbb, c + <usize>k * ldcb + (<usize>n << 2), ldcb, init);
      for (; k < K; k++) tile1x8(np, pa + (<usize>k << 2), ldab, bn, ldbb, c + <usize>k * ldcb + (<usize>n << 2), init);
    }
    if (n4 > n8) {
      const bn = pb + (<usize>n8 << 2);
      let k = 0;
      for (; k < k8; k += 8) tile8x4(np, pa + (<usize>k << 2), ldab, bn, ldbb, c + <usize>k * ldcb + (<usize>n8 << 2), ldcb, init);
      for (; k < K; k++) tile1x4(np, pa + (<usize>k << 2), ldab, bn, ldbb, c + <usize>k * ldcb + (<usize>n8 << 2), init);
    }
    for (let n = n4; n < N; n++) column(np, K, pa, ldab, pb + (<usize>n << 2), ldbb, c + (<usize>n << 2), ldcb, init);
  }
}

// argument slots of a JOB_GEMM_TN job
const T_ROWS = 0, T_K = 1, T_N = 2, T_A = 3, T_LDA = 4, T_B = 5, T_LDB = 6, T_C = 7, T_LDC = 8, T_ACC = 9, T_PARTS = 10;

/**
 * gemm_tn_rows on the threads, each taking a range of C's rows (k) cut at multiples of 8: every
 * column k then meets the same tile as in one call over all of K, and each element is its own sum
 * over the rows in row order — bitwise the same C on any thread count. For Dense's weight gradient
 * xᵀ·dy (rows = the batch, K = the inputs, N = the units), where the reduction is short and C wide.
 */
export function gemm_tn_par(rows: i32, K: i32, N: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32): void {
  // Threads pay from about a million multiply-adds per part (a wake-up costs microseconds).
  let parts = min(par_threads(), (K + 7) >> 3);
  if (<i64>rows * K * N < (<i64>parts << 20)) parts = 1;
  if (parts <= 1) {
    gemm_tn_rows(rows, K, N, a, lda, b, ldb, c, ldc, acc);
    return;
  }
  set_arg_i32(T_ROWS, rows); set_arg_i32(T_K, K); set_arg_i32(T_N, N); set_arg_i32(T_A, <i32>a); set_arg_i32(T_LDA, lda);
  set_arg_i32(T_B, <i32>b); set_arg_i32(T_LDB, ldb); set_arg_i32(T_C, <i32>c); set_arg_i32(T_LDC, ldc); set_arg_i32(T_ACC, acc);
  set_arg_i32(T_PARTS, parts);
  par_run(JOB_GEMM_TN, parts);
}

/** Part `part` of a JOB_GEMM_TN job: C's rows [8·⌊g·part/parts⌋, 8·⌊g·(part+1)/parts⌋) ∩ [0, K), g = ⌈K/8⌉. */
export function gemm_tn_part(part: i32): void {
  const K = arg_i32(T_K), parts = arg_i32(T_PARTS), groups = (K + 7) >> 3;
  const k0 = (groups * part / parts) << 3, k1 = min(K, (groups * (part + 1) / parts) << 3);
  if (k1 <= k0) return;
  const ldc = arg_i32(T_LDC);
  gemm_tn_rows(arg_i32(T_ROWS), k1 - k0, arg_i32(T_N), <usize>arg_i32(T_A) + (<usize>k0 << 2), arg_i32(T_LDA),
    <usize>arg_i32(T_B), arg_i32(T_LDB), <usize>arg_i32(T_C) + (<usize>k0 * <usize>ldc << 2), ldc, arg_i32(T_ACC));
}

// The tiles are spelled out (no arrays in kernels): 8 accumulators + 4 broadcasts + 2 B vectors fit
// x64's 15 allocatable xmm registers, as in gemm_f32's 4×8 kernel.

function tile4x8(np: i32, a: usize, ldab: usize, b: usize, ldbb: usize, c: usize, ldcb: usize, init: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (init) {
    c00 = v128.load(c, 0); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldcb, 0); c11 = v128.load(c + ldcb, 16);
    c20 = v128.load(c + 2 * ldcb, 0); c21 = v128.load(c + 2 * ldcb, 16);
    c30 = v128.load(c + 3 * ldcb, 0); c31 = v128.load(c + 3 * ldcb, 16);
  }
  for (let p = 0; p < np; p++) {
    const b0 = v128.load(b, 0);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a, 0);
    c00 = fma4(s, b0, c00);
    c01 = fma4(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = fma4(s, b0, c10);
    c11 = fma4(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = fma4(s, b0, c20);
    c21 = fma4(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = fma4(s, b0, c30);
    c31 = fma4(s, b1, c31);
    a += ldab;
    b += ldbb;
  }
  v128.store(c, c00, 0); v128.store(c, c01, 16);
  v128.store(c + ldcb, c10, 0); v128.store(c + ldcb, c11, 16);
  v128.store(c + 2 * ldcb, c20, 0); v128.store(c + 2 * ldcb, c21, 16);
  v128.store(c + 3 * ldcb, c30, 0); v128.store(c + 3 * ldcb, c31, 16);
}

function tile1x8(np: i32, a: usize, ldab: usize, b: usize, ldbb: usize, c: usize, init: bool): void {
  let c0 = init ? v128.load(c, 0) : f32x4.splat(0);
  let c1 = init ? v128.load(c, 16) : f32x4.splat(0);
  for (let p = 0; p < np; p++) {
    const s = v128.load32_splat(a);
    c0 = fma4(s, v128.load(b, 0), c0);
    c1 = fma4(s, v128.load(b, 16), c1);
    a += ldab;
    b += ldbb;
  }
  v128.store(c, c0, 0);
  v128.store(c, c1, 16);
}

function tile8x4(np: i32, a: usize, ldab: usize, b: usize, ldbb: usize, c: usize, ldcb: usize, init: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  if (init) {
    c0 = v128.load(c); c1 = v128.load(c + ldcb); c2 = v128.load(c + 2 * ldcb); c3 = v128.load(c + 3 * ldcb);
    c4 = v128.load(c + 4 * ldcb); c5 = v128.load(c + 5 * ldcb); c6 = v128.load(c + 6 * ldcb); c7 = v128.load(c + 7 * ldcb);
  }
  for (let p = 0; p < np; p++) {
    const bv = v128.load(b);
    c0 = fma4(v128.load32_splat(a, 0), bv, c0);
    c1 = fma4(v128.load32_splat(a, 4), bv, c1);
    c2 = fma4(v128.load32_splat(a, 8), bv, c2);
    c3 = fma4(v128.load32_splat(a, 12), bv, c3);
    c4 = fma4(v128.load32_splat(a, 16), bv, c4);
    c5 = fma4(v128.load32_splat(a, 20), bv, c5);
    c6 = fma4(v128.load32_splat(a, 24), bv, c6);
    c7 = fma4(v128.load32_splat(a, 28), bv, c7);
    a += ldab;
    b += ldbb;
  }
  v128.store(c, c0); v128.store(c + ldcb, c1); v128.store(c + 2 * ldcb, c2); v128.store(c + 3 * ldcb, c3);
  v128.store(c + 4 * ldcb, c4); v128.store(c + 5 * ldcb, c5); v128.store(c + 6 * ldcb, c6); v128.store(c + 7 * ldcb, c7);
}

function tile1x4(np: i32, a: usize, ldab: usize, b: usize, ldbb: usize, c: usize, init: bool): void {
  let c0 = init ? v128.load(c) : f32x4.splat(0);
  for (let p = 0; p < np; p++) {
    c0 = fma4(v128.load32_splat(a), v128.load(b), c0);
    a += ldab;
    b += ldbb;
  }
  v128.store(c, c0);
}

/** One column n of C (b points at B[0][n], c at C[0][n]): 16 k at a time along A's rows, then 4, then 1. */
function column(np: i32, K: i32, a: usize, ldab: usize, b: usize, ldbb: usize, c: usize, ldcb: usize, init: bool): void {
  let k = 0;
  for (; k + 16 <= K; k += 16) {
    let c0 = init ? loadCol(c, ldcb, k) : f32x4.splat(0);
    let c1 = init ? loadCol(c, ldcb, k + 4) : f32x4.splat(0);
    let c2 = init ? loadCol(c, ldcb, k + 8) : f32x4.splat(0);
    let c3 = init ? loadCol(c, ldcb, k + 12) : f32x4.splat(0);
    let ap = a + (<usize>k << 2), bp = b;
    for (let p = 0; p < np; p++) {
      const s = v128.load32_splat(bp);
      c0 = fma4(v128.load(ap, 0), s, c0);
      c1 = fma4(v128.load(ap, 16), s, c1);
      c2 = fma4(v128.load(ap, 32), s, c2);
      c3 = fma4(v128.load(ap, 48), s, c3);
      ap += ldab;
      bp += ldbb;
    }
    storeCol(c, ldcb, k, c0);
    storeCol(c, ldcb, k + 4, c1);
    storeCol(c, ldcb, k + 8, c2);
    storeCol(c, ldcb, k + 12, c3);
  }
  for (; k + 4 <= K; k += 4) {
    let c0 = init ? loadCol(c, ldcb, k) : f32x4.splat(0);
    let ap = a + (<usize>k << 2), bp = b;
    for (let p = 0; p < np; p++) {
      c0 = fma4(v128.load(ap), v128.load32_splat(bp), c0);
      ap += ldab;
      bp += ldbb;
    }
    storeCol(c, ldcb, k, c0);
  }
  for (; k < K; k++) {
    const o = c + <usize>k * ldcb;
    let s: f32 = init ? load<f32>(o) : 0;
    let ap = a + (<usize>k << 2), bp = b;
    for (let p = 0; p < np; p++) {
      s += load<f32>(ap) * load<f32>(bp);
      ap += ldab;
      bp += ldbb;
    }
    store<f32>(o, s);
  }
}

@inline function loadCol(c: usize, ldcb: usize, k: i32): v128 {
  const o = c + <usize>k * ldcb;
  let v = v128.load32_zero(o);
  v = v128.load32_lane(o + ldcb, v, 1);
  v = v128.load32_lane(o + 2 * ldcb, v, 2);
  return v128.load32_lane(o + 3 * ldcb, v, 3);
}

@inline function storeCol(c: usize, ldcb: usize, k: i32, v: v128): void {
  const o = c + <usize>k * ldcb;
  v128.store32_lane(o, v, 0);
  v128.store32_lane(o + ldcb, v, 1);
  v128.store32_lane(o + 2 * ldcb, v, 2);
  v128.store32_lane(o + 3 * ldcb, v, 3);
}
