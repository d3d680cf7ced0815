// Convolution via GEMM over blocks of packed patches (NHWC, filter
// [kH, kW, inC, outC], any stride / padding / dilation):
//   conv2d_f32:                 y  = patches(x) · W
//   conv2d_backprop_filter_f32: dW = Σ_blocks patches(x)ᵀ · dy   (beta = 1 after the first block)
//   conv2d_backprop_input_f32:  dx = col2im(dy · Wᵀ)
// A block is ≈ 2 MB of patches, so the GEMM sees k (or m) in the hundreds
// and runs at GEMM speed while the patch buffer stays in cache.
import { gemm_f32 } from "../linalg/gemm";
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
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
  for (let p0 = 0; p0 < P; p0 += rowsMax) {
    const rows = min(rowsMax, P - p0);
    pack_patches(g, x, p0, rows, col);
    gemm_f32(1, 0, outC, K, rows, 1, dy + (<usize>(p0 * outC) << 2), outC, col, K, p0 == 0 ? 0 : 1, dwt, K);
  }
  for (let o = 0; o < outC; o++) {
    const src = dwt + (<usize>(o * K) << 2);
    for (let r = 0; r < K; r++) store<f32>(dw + (<usize>(r * outC + o) << 2), load<f32>(src + (<usize>r << 2)));
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
