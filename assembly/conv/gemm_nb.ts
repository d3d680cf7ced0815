// C (M×N) = A·Bᵀ where A is M×Kr, read in place (row-major, row stride lda), and B is N×Kr, small,
// packed once per call into 8-column slivers: the conv input gradient dx = dy · Wᵀ (A = dy, whose
// rows are many — batch·H·W — and narrow — Kr = outC, 4–64 —; B = W as [kH·kW·inC, outC]) and the
// forward conv y = patches · W (A = x itself for a pointwise conv). gemm_f32 packs A for such a
// product: one more pass over dy (or x) per block, for only N (4–64 for the narrow convs)
// multiply-adds per packed value; here the 4×8 register tile broadcasts its four A values
// straight from four rows of A. Blocks of MB rows of A (in L1) meet one B sliver (Kr·8 floats, in
// L1) at a time. Edges: a 1–4 column remainder runs 4-wide tiles, a 5–7 one full tiles; both, and
// the 1–3 leftover rows, store only the columns (rows) that exist. Every C element is one dot
// product over Kr in k order, whatever M, N and the blocking: results do not depend on how the rows
// are split (across calls or threads).
import { fma4 } from "../simd";

/** Rows of A per block: 64 rows of up to 64 floats (16 KiB) stay in L1 while every sliver passes. */
const MB = 64;

/** Bytes pack_bt needs for an N×Kr matrix: N rounded up to 8 columns, Kr deep. */
@inline export function packed_bt_bytes(N: i32, Kr: i32): usize {
  return <usize>(((N + 7) & ~7) * Kr) << 2;
}

/**
 * dst = slivers of Bᵀ: sliver s, row k holds B(8s + j, k) for j < 8 (0 past N), where B (N×Kr) has
 * element (n, k) at b + 4·(n·sn + k·sk) — sn = Kr, sk = 1 for a row-major B; sn = 1, sk = N for Bᵀ.
 */
export function pack_bt(b: usize, N: i32, Kr: i32, sn: i32, sk: i32, dst: usize): void {
  for (let s = 0; s < N; s += 8) {
    const d = dst + (<usize>(s * Kr) << 2);
    const cols = min(8, N - s);
    for (let k = 0; k < Kr; k++) {
      const o = d + (<usize>(k * 8) << 2);
      for (let j = 0; j < 8; j++) {
        store<f32>(o + (<usize>j << 2), j < cols ? load<f32>(b + (<usize>((s + j) * sn + k * sk) << 2)) : 0);
      }
    }
  }
}

/** C (row stride ldc) = A · Bᵀ for M rows of A (row stride lda), bp from pack_bt(B, N, Kr). */
export function gemm_nb_rows(M: i32, N: i32, Kr: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32): void {
  if (M <= 0 || N <= 0) return;
  const ldab = <usize>lda << 2, ldcb = <usize>ldc << 2;
  const slivers = (N + 7) >> 3;
  for (let i0 = 0; i0 < M; i0 += MB) {
    const mb = min(MB, M - i0);
    const m4 = mb & ~3;
    for (let s = 0; s < slivers; s++) {
      const n0 = s << 3;
      const cols = min(8, N - n0);
      const bs = bp + (<usize>(n0 * Kr) << 2);
      const cs = c + (<usize>n0 << 2);
      let i = i0;
      for (; i < i0 + m4; i += 4) {
        const ai = a + <usize>i * ldab, ci = cs + <usize>i * ldcb;
        if (cols > 4) tile4x8(Kr, ai, ldab, bs, ci, ldcb, cols);
        else tile4x4(Kr, ai, ldab, bs, ci, ldcb, cols);
      }
      for (; i < i0 + mb; i++) tile1x8(Kr, a + <usize>i * ldab, bs, cs + <usize>i * ldcb, cols);
    }
  }
}

// 8 accumulators + 4 broadcasts + 2 B vectors: x64's 15 allocatable xmm registers, as in gemm_f32.
function tile4x8(Kr: i32, a: usize, ldab: usize, b: usize, c: usize, ldcb: usize, cols: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const a1 = a + ldab, a2 = a + 2 * ldab, a3 = a + 3 * ldab;
  for (let k = 0; k < Kr; k++) {
    const o = <usize>k << 2;
    const b0 = v128.load(b, 0);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a + o);
    c00 = fma4(s, b0, c00);
    c01 = fma4(s, b1, c01);
    s = v128.load32_splat(a1 + o);
    c10 = fma4(s, b0, c10);
    c11 = fma4(s, b1, c11);
    s = v128.load32_splat(a2 + o);
    c20 = fma4(s, b0, c20);
    c21 = fma4(s, b1, c21);
    s = v128.load32_splat(a3 + o);
    c30 = fma4(s, b0, c30);
    c31 = fma4(s, b1, c31);
    b += 32;
  }
  if (cols == 8) {
    v128.store(c, c00, 0); v128.store(c, c01, 16);
    v128.store(c + ldcb, c10, 0); v128.store(c + ldcb, c11, 16);
    v128.store(c + 2 * ldcb, c20, 0); v128.store(c + 2 * ldcb, c21, 16);
    v128.store(c + 3 * ldcb, c30, 0); v128.store(c + 3 * ldcb, c31, 16);
  } else {
    v128.store(c, c00); storeLanes(c + 16, c01, cols - 4);
    v128.store(c + ldcb, c10); storeLanes(c + ldcb + 16, c11, cols - 4);
    v128.store(c + 2 * ldcb, c20); storeLanes(c + 2 * ldcb + 16, c21, cols - 4);
    v128.store(c + 3 * ldcb, c30); storeLanes(c + 3 * ldcb + 16, c31, cols - 4);
  }
}

function tile4x4(Kr: i32, a: usize, ldab: usize, b: usize, c: usize, ldcb: usize, cols: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const a1 = a + ldab, a2 = a + 2 * ldab, a3 = a + 3 * ldab;
  for (let k = 0; k < Kr; k++) {
    const o = <usize>k << 2;
    const bv = v128.load(b);
    c0 = fma4(v128.load32_splat(a + o), bv, c0);
    c1 = fma4(v128.load32_splat(a1 + o), bv, c1);
    c2 = fma4(v128.load32_splat(a2 + o), bv, c2);
    c3 = fma4(v128.load32_splat(a3 + o), bv, c3);
    b += 32;
  }
  storeLanes(c, c0, cols);
  storeLanes(c + ldcb, c1, cols);
  storeLanes(c + 2 * ldcb, c2, cols);
  storeLanes(c + 3 * ldcb, c3, cols);
}

function tile1x8(Kr: i32, a: usize, b: usize, c: usize, cols: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < Kr; k++) {
    const s = v128.load32_splat(a + (<usize>k << 2));
    c0 = fma4(s, v128.load(b, 0), c0);
    c1 = fma4(s, v128.load(b, 16), c1);
    b += 32;
  }
  if (cols >= 4) {
    v128.store(c, c0);
    storeLanes(c + 16, c1, cols - 4);
  } else {
    storeLanes(c, c0, cols);
  }
}

/** Store the first n (0–4) lanes of v at c. */
@inline function storeLanes(c: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(c, v); return; }
  if (n > 0) v128.store32_lane(c, v, 0);
  if (n > 1) v128.store32_lane(c + 4, v, 1);
  if (n > 2) v128.store32_lane(c + 8, v, 2);
}
