// Convolution via GEMM over blocks of packed patches (NHWC, filter
// [kH, kW, inC, outC], any stride / padding / dilation):
//   conv2d_f32:                 y  = patches(x) · W
//   conv2d_backprop_filter_f32: dW = Σ_blocks patches(x)ᵀ · dy   (beta = 1 after the first block)
//   conv2d_backprop_input_f32:  dx = col2im(dy · Wᵀ)
// A block is ≈ 2 MB of patches, so the GEMM sees k (or m) in the hundreds
// and runs at GEMM speed while the patch buffer stays in cache.
import { gemm_f32 } from "../linalg/gemm";
import { scratch_alloc, scratch_arena, scratch_mark, scratch_reset } from "../mem";
import { JOB_CONV_DW, arg_i32, in_worker, par_run, par_threads, set_arg_i32 } from "../threads";
import { pack_patches, unpack_patches_add, patch_block_rows } from "./patches";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

/**
 * A pointwise conv (1×1 filter, stride 1, no padding, output the size of the
 * input): patches(x) is x itself viewed as [batch·H·W, inC], so the GEMMs run
 * on the tensors directly — no patch buffer, no col2im (the Tucker-2 / CP /
 * channel-SVD chains are mostly such convs, with small channel counts where
 * the packing and unpacking passes cost as much as the GEMM).
 */
@inline function isPointwise(g: usize): bool {
  return gi(g, G_K_H) == 1 && gi(g, G_K_W) == 1 && gi(g, G_STRIDE_H) == 1 && gi(g, G_STRIDE_W) == 1
    && gi(g, G_PAD_TOP) == 0 && gi(g, G_PAD_LEFT) == 0 && gi(g, G_OUT_H) == gi(g, G_IN_H) && gi(g, G_OUT_W) == gi(g, G_IN_W);
}

/** y[batch, outH, outW, outC] = conv(x, w). Returns 0, or 1 when scratch could not grow. */
export function conv2d_f32(g: usize, x: usize, w: usize, y: usize): i32 {
  const K = gi(g, G_K_H) * gi(g, G_K_W) * gi(g, G_IN_C);
  const outC = gi(g, G_OUT_C);
  const P = gi(g, G_BATCH) * gi(g, G_OUT_H) * gi(g, G_OUT_W);
  if (P == 0 || outC == 0) return 0;
  if (isPointwise(g)) {
    gemm_f32(0, 0, P, outC, K, 1, x, K, w, outC, 0, y, outC);
    return 0;
  }
  const mark = scratch_mark();
  const rowsMax = patch_block_rows(K, P);
  const col = scratch_alloc(<usize>(rowsMax * K) << 2);
  if (col == 0) return 1;
  for (let p0 = 0; p0 < P; p0 += rowsMax) {
    const rows = min(rowsMax, P - p0);
    pack_patches(g, x, p0, rows, col);
    gemm_f32(0, 0, rows, outC, K, 1, col, K, w, outC, 0, y + (<usize>(p0 * outC) << 2), outC);
  }
  scratch_reset(mark);
  return 0;
}

/**
 * dw[kH, kW, inC, outC] = Σ over positions of x-patch ⊗ dy. Computed as
 * dwᵀ (outC × K) = Σ_blocks dyᵀ · patches, so the GEMM packs the small dy
 * block as A and streams the patch block untransposed as B; dwᵀ is
 * transposed into dw at the end (outC·K values). Returns 0, or 1 when
 * scratch could not grow.
 */
export function conv2d_backprop_filter_f32(g: usize, x: usize, dy: usize, dw: usize): i32 {
  const K = gi(g, G_K_H) * gi(g, G_K_W) * gi(g, G_IN_C);
  const outC = gi(g, G_OUT_C);
  const P = gi(g, G_BATCH) * gi(g, G_OUT_H) * gi(g, G_OUT_W);
  if (P == 0) {
    memory.fill(dw, 0, <usize>(K * outC) << 2);
    return 0;
  }
  const chunks = dwChunks(P);
  if (chunks > 1) return backpropFilterChunked(g, x, dy, dw, K, outC, P, chunks);
  if (isPointwise(g)) {
    // dw [inC, outC] = xᵀ · dy over all positions at once.
    gemm_f32(1, 0, K, outC, P, 1, x, K, dy, outC, 0, dw, outC);
    return 0;
  }
  const mark = scratch_mark();
  const rowsMax = patch_block_rows(K, P);
  const col = scratch_alloc(<usize>(rowsMax * K) << 2);
  const dwt = scratch_alloc(<usize>(K * outC) << 2);
  if (col == 0 || dwt == 0) return 1;
  dwRows(g, x, dy, 0, P, K, outC, rowsMax, col, dwt);
  for (let o = 0; o < outC; o++) {
    const src = dwt + (<usize>(o * K) << 2);
    for (let r = 0; r < K; r++) store<f32>(dw + (<usize>(r * outC + o) << 2), load<f32>(src + (<usize>r << 2)));
  }
  scratch_reset(mark);
  return 0;
}

// dW over many positions is a sum over positions: it is cut into `dwChunks(P)` chunks of
// positions (a function of P alone), each chunk's partial dwᵀ is computed on its own, and the
// partials are added in chunk order — so threads can take chunks while every thread count
// gives bitwise the same dW. Splitting the GEMM's output instead (what gemm_f32 does) does not
// pay here: dW is outC × K, narrow (17–64 × 9·17–9·64 in the decomposed chains), while the
// reduction runs over batch·H·W positions, and every part re-packed the whole dy block.
const DW_CHUNK_ROWS = 2048;
const DW_MAX_CHUNKS = 8;

@inline function dwChunks(P: i32): i32 {
  return min(DW_MAX_CHUNKS, (P + DW_CHUNK_ROWS - 1) / DW_CHUNK_ROWS);
}

/** dwt (outC × K) = Σ over positions [p0, p1) of dyᵀ · patches, in blocks of rowsMax (col: rowsMax·K floats). */
function dwRows(g: usize, x: usize, dy: usize, p0: i32, p1: i32, K: i32, outC: i32, rowsMax: i32, col: usize, dwt: usize): void {
  const pointwise = isPointwise(g);
  for (let q = p0; q < p1; q += rowsMax) {
    const rows = min(rowsMax, p1 - q);
    let b = x + (<usize>(q * K) << 2);
    if (!pointwise) {
      pack_patches(g, x, q, rows, col);
      b = col;
    }
    gemm_f32(1, 0, outC, K, rows, 1, dy + (<usize>(q * outC) << 2), outC, b, K, q == p0 ? 0 : 1, dwt, K);
  }
}

// argument slots of a JOB_CONV_DW job
const D_G = 0, D_X = 1, D_DY = 2, D_PARTIAL = 3, D_K = 4, D_OUTC = 5, D_P = 6, D_CHUNKS = 7, D_PARTS = 8, D_ROWS = 9, D_ARENA = 10, D_STRIDE = 11;

/** Part `part` of a JOB_CONV_DW job: the chunks [chunks·part/parts, chunks·(part+1)/parts). */
export function conv_dw_part(part: i32): void {
  const chunks = arg_i32(D_CHUNKS), parts = arg_i32(D_PARTS);
  const c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
  if (c1 <= c0) return;
  const K = arg_i32(D_K), outC = arg_i32(D_OUTC), P = arg_i32(D_P), rowsMax = arg_i32(D_ROWS);
  const arena = <usize>arg_i32(D_ARENA) + <usize>part * <usize>arg_i32(D_STRIDE);
  if (in_worker()) scratch_arena(arena, arena + <usize>arg_i32(D_STRIDE));
  const mark = scratch_mark();
  // part 0 (the caller) allocates above the arenas, on its own scratch
  const col = in_worker() ? arena : scratch_alloc(<usize>(rowsMax * K) << 2);
  if (in_worker()) scratch_arena(arena + align16(<usize>(rowsMax * K) << 2), arena + <usize>arg_i32(D_STRIDE));
  const g = <usize>arg_i32(D_G), x = <usize>arg_i32(D_X), dy = <usize>arg_i32(D_DY), partial = <usize>arg_i32(D_PARTIAL);
  for (let c = c0; c < c1; c++) {
    const p0 = <i32>(<i64>P * c / chunks), p1 = <i32>(<i64>P * (c + 1) / chunks);
    dwRows(g, x, dy, p0, p1, K, outC, rowsMax, col, partial + (<usize>c * <usize>(K * outC) << 2));
  }
  scratch_reset(mark);
}

@inline function align16(n: usize): usize {
  return (n + 15) & ~(<usize>15);
}

function backpropFilterChunked(g: usize, x: usize, dy: usize, dw: usize, K: i32, outC: i32, P: i32, chunks: i32): i32 {
  const mark = scratch_mark();
  const rowsMax = patch_block_rows(K, (P + chunks - 1) / chunks);
  const partial = scratch_alloc(<usize>chunks * <usize>(K * outC) << 2);
  if (partial == 0) return 1;
  // Threads pay from about a million multiply-adds per part (a wake-up costs microseconds).
  let parts = min(par_threads(), chunks);
  if (<i64>K * outC * P < (<i64>parts << 20)) parts = 1;
  // Each worker's arena: its patch block and gemm_f32's packing buffers for an outC × K × rowsMax
  // product (A block ≤ 128 × 256, B panel ≤ 256 × K rounded up to 8 (≤ 2048 wide), edge tile), so
  // the packed path never falls back for want of memory (which would change the sums).
  const stride = align16(<usize>(rowsMax * K) << 2) + ((<usize>(128 * 256) + <usize>256 * <usize>min(2048, (K + 7) & ~7) + 32) << 2) + 256;
  let arena: usize = 0;
  if (parts > 1) {
    arena = scratch_alloc(stride * <usize>parts);
    if (arena == 0) parts = 1;
  }
  set_arg_i32(D_G, <i32>g); set_arg_i32(D_X, <i32>x); set_arg_i32(D_DY, <i32>dy); set_arg_i32(D_PARTIAL, <i32>partial);
  set_arg_i32(D_K, K); set_arg_i32(D_OUTC, outC); set_arg_i32(D_P, P); set_arg_i32(D_CHUNKS, chunks);
  set_arg_i32(D_PARTS, parts); set_arg_i32(D_ROWS, rowsMax); set_arg_i32(D_ARENA, <i32>arena); set_arg_i32(D_STRIDE, <i32>stride);
  if (parts > 1) {
    par_run(JOB_CONV_DW, parts);
  } else {
    // the same chunks one after another (each chunk's GEMMs may still split over the pool)
    for (let c = 0; c < chunks; c++) {
      const p0 = <i32>(<i64>P * c / chunks), p1 = <i32>(<i64>P * (c + 1) / chunks);
      const m2 = scratch_mark();
      const col = scratch_alloc(<usize>(rowsMax * K) << 2);
      if (col == 0) return 1;
      dwRows(g, x, dy, p0, p1, K, outC, rowsMax, col, partial + (<usize>c * <usize>(K * outC) << 2));
      scratch_reset(m2);
    }
  }
  // dw[r][o] = Σ_c partial_c[o][r], in chunk order.
  const n = K * outC;
  for (let o = 0; o < outC; o++) {
    for (let r = 0; r < K; r++) {
      let acc: f32 = load<f32>(partial + (<usize>(o * K + r) << 2));
      for (let c = 1; c < chunks; c++) acc += load<f32>(partial + (<usize>(c * n + o * K + r) << 2));
      store<f32>(dw + (<usize>(r * outC + o) << 2), acc);
    }
  }
  scratch_reset(mark);
  return 0;
}

/** dx[batch, inH, inW, inC] = col2im(dy · wᵀ). Returns 0, or 1 when scratch could not grow. */
export function conv2d_backprop_input_f32(g: usize, dy: usize, w: usize, dx: usize): i32 {
  const inC = gi(g, G_IN_C);
  const K = gi(g, G_K_H) * gi(g, G_K_W) * inC;
  const outC = gi(g, G_OUT_C);
  const P = gi(g, G_BATCH) * gi(g, G_OUT_H) * gi(g, G_OUT_W);
  if (P > 0 && isPointwise(g)) {
    // dx [P, inC] = dy · wᵀ, written directly (every position of dx is covered once).
    gemm_f32(0, 1, P, inC, outC, 1, dy, outC, w, outC, 0, dx, inC);
    return 0;
  }
  memory.fill(dx, 0, <usize>(gi(g, G_BATCH) * gi(g, G_IN_H) * gi(g, G_IN_W) * inC) << 2);
  if (P == 0) return 0;
  const mark = scratch_mark();
  const rowsMax = patch_block_rows(K, P);
  const col = scratch_alloc(<usize>(rowsMax * K) << 2);
  if (col == 0) return 1;
  for (let p0 = 0; p0 < P; p0 += rowsMax) {
    const rows = min(rowsMax, P - p0);
    gemm_f32(0, 1, rows, K, outC, 1, dy + (<usize>(p0 * outC) << 2), outC, w, outC, 0, col, K);
    unpack_patches_add(g, col, p0, rows, dx);
  }
  scratch_reset(mark);
  return 0;
}
