// Convolution via GEMM over blocks of packed patches (NHWC, filter
// [kH, kW, inC, outC], any stride / padding / dilation):
//   conv2d_f32:                 y  = patches(x) · W              (gemm_nb_rows, W packed once)
//   conv2d_backprop_filter_f32: dW = Σ_blocks patches(x)ᵀ · dy   (gemm_tn_rows, rows read in place)
//   conv2d_backprop_input_f32:  dx = col2im(dy · Wᵀ)             (gemm_nb_rows, dy read in place)
// A block of patches is ≈ 576 KB (patch_block_rows), so it stays in L2 while the
// GEMM consumes it; a pointwise conv needs no patches at all.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { JOB_CONV_DW, JOB_CONV_ROWS, arg_i32, arg_ptr, claim_arg, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";
import { pack_patches, unpack_patches_add, patch_block_rows } from "./patches";
import { gemm_tn_rows } from "./gemm_tn";
import { gemm_nb_rows, pack_bt, packed_bt_bytes } from "./gemm_nb";
import { bias_act_f32 } from "./epilogue";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

/**
 * A pointwise conv (1×1 filter, stride 1, no padding, output the size of the
 * input): patches(x) is x itself viewed as [batch·H·W, inC], so the GEMMs run
 * on the tensors directly — no patch buffer, no col2im (the Tucker-2 / CP /
 * channel-SVD chains are mostly such convs, with small channel counts where
 * the packing and unpacking passes cost as much as the GEMM).
 */
@inline export function isPointwise(g: usize): bool {
  return gi(g, G_K_H) == 1 && gi(g, G_K_W) == 1 && gi(g, G_STRIDE_H) == 1 && gi(g, G_STRIDE_W) == 1
    && gi(g, G_PAD_TOP) == 0 && gi(g, G_PAD_LEFT) == 0 && gi(g, G_OUT_H) == gi(g, G_IN_H) && gi(g, G_OUT_W) == gi(g, G_IN_W);
}

/** y[batch, outH, outW, outC] = conv(x, w). Returns 0, or 1 when scratch could not grow. */
export function conv2d_f32(g: usize, x: usize, w: usize, y: usize): i32 {
  if (gi(g, G_OUT_C) == 0) return 0;
  return convRows(OP_FWD, g, x, w, y, 0, 0, 0);
}

/**
 * y = act(conv(x, w) + bias) (epilogue.ts: bias of biasLen floats — outC, 1 or 0 —, act 0 linear /
 * 1 relu), the epilogue applied by each thread to each block of rows it has just computed, while
 * the block is in cache: the same values as conv2d_f32 then bias_act_f32 over the whole output,
 * without that second, single-threaded pass over it. Returns 0, or 1 when scratch could not grow.
 */
export function conv2d_bias_act_f32(g: usize, x: usize, w: usize, y: usize, bias: usize, biasLen: i32, act: i32): i32 {
  if (gi(g, G_OUT_C) == 0) return 0;
  return convRows(OP_FWD, g, x, w, y, bias, biasLen, act);
}

/**
 * dw[kH, kW, inC, outC] = Σ over positions of x-patch ⊗ dy = patchesᵀ · dy, computed by gemm_tn_rows
 * on the rows where they lie (x itself for a pointwise conv, else blocks of packed patches), straight
 * into dw's layout. Returns 0, or 1 when scratch could not grow.
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
  const mark = scratch_mark();
  const rowsMax = patch_block_rows(K, P);
  const col: usize = isPointwise(g) ? 0 : scratch_alloc(<usize>(rowsMax * K) << 2);
  if (!isPointwise(g) && col == 0) return 1;
  dwRows(g, x, dy, 0, P, K, outC, rowsMax, col, dw);
  scratch_reset(mark);
  return 0;
}

// dW over many positions is a sum over positions: it is cut into `dwChunks(P)` chunks of
// positions (a function of P alone), each chunk's partial dW is computed on its own, and the
// partials are added in chunk order — so threads can take chunks while every thread count
// gives bitwise the same dW. Splitting the output instead does not pay here: dW is K × outC,
// narrow (9·17–9·64 × 17–64 in the decomposed chains), while the reduction runs over
// batch·H·W positions.
const DW_CHUNK_ROWS = 2048;
const DW_MAX_CHUNKS = 8;

/** Chunks of positions dW is summed over (shared with pointwise_grad.ts, whose dW must equal this file's bitwise). */
@inline export function dwChunks(P: i32): i32 {
  return min(DW_MAX_CHUNKS, (P + DW_CHUNK_ROWS - 1) / DW_CHUNK_ROWS);
}

/** out (K × outC) = Σ over positions [p0, p1) of patchesᵀ · dy, in blocks of rowsMax (col: rowsMax·K floats; unused when pointwise). */
function dwRows(g: usize, x: usize, dy: usize, p0: i32, p1: i32, K: i32, outC: i32, rowsMax: i32, col: usize, out: usize): void {
  if (isPointwise(g)) {
    gemm_tn_rows(p1 - p0, K, outC, x + (<usize>p0 * <usize>K << 2), K, dy + (<usize>p0 * <usize>outC << 2), outC, out, outC, 0);
    return;
  }
  for (let q = p0; q < p1; q += rowsMax) {
    const rows = min(rowsMax, p1 - q);
    pack_patches(g, x, q, rows, col);
    gemm_tn_rows(rows, K, outC, col, K, dy + (<usize>q * <usize>outC << 2), outC, out, outC, q == p0 ? 0 : 1);
  }
}

// argument slots of a JOB_CONV_DW job
const D_G = 0, D_X = 1, D_DY = 2, D_PARTIAL = 3, D_K = 4, D_OUTC = 5, D_P = 6, D_CHUNKS = 7, D_PARTS = 8, D_ROWS = 9, D_ARENA = 10, D_STRIDE = 11, D_CLAIM = 12;

/** Part `part` of a JOB_CONV_DW job: the chunks it claims (each once, whoever runs it: see par_claim). */
export function conv_dw_part(part: i32): void {
  const chunks = arg_i32(D_CHUNKS), claim = arg_ptr(D_CLAIM);
  const K = arg_i32(D_K), outC = arg_i32(D_OUTC), P = arg_i32(D_P), rowsMax = arg_i32(D_ROWS);
  // each part's patch block lies in its own slice of the arena (part 0's too)
  const col = <usize>arg_i32(D_ARENA) + <usize>part * <usize>arg_i32(D_STRIDE);
  const g = <usize>arg_i32(D_G), x = <usize>arg_i32(D_X), dy = <usize>arg_i32(D_DY), partial = <usize>arg_i32(D_PARTIAL);
  for (let c = par_claim(claim); c < chunks; c = par_claim(claim)) {
    const p0 = <i32>(<i64>P * c / chunks), p1 = <i32>(<i64>P * (c + 1) / chunks);
    dwRows(g, x, dy, p0, p1, K, outC, rowsMax, col, partial + (<usize>c * <usize>(K * outC) << 2));
  }
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
  // One patch block per part (gemm_tn_rows needs no other memory).
  const stride: usize = isPointwise(g) ? 16 : align16(<usize>(rowsMax * K) << 2);
  const arena = scratch_alloc(stride * <usize>parts);
  if (arena == 0) return 1;
  set_arg_i32(D_G, <i32>g); set_arg_i32(D_X, <i32>x); set_arg_i32(D_DY, <i32>dy); set_arg_i32(D_PARTIAL, <i32>partial);
  set_arg_i32(D_K, K); set_arg_i32(D_OUTC, outC); set_arg_i32(D_P, P); set_arg_i32(D_CHUNKS, chunks);
  set_arg_i32(D_PARTS, parts); set_arg_i32(D_ROWS, rowsMax); set_arg_i32(D_ARENA, <i32>arena); set_arg_i32(D_STRIDE, <i32>stride);
  claim_arg(D_CLAIM);
  if (parts > 1) par_run(JOB_CONV_DW, parts);
  else conv_dw_part(0);
  sumChunks(partial, dw, K * outC, chunks);
  scratch_reset(mark);
  return 0;
}

/**
 * dw = Σ_c partial_c over `chunks` partial results of `n` floats each, in chunk order (lane-wise adds: the
 * same sums as one at a time), so a chunked dW is bitwise the same for any thread count.
 */
export function sumChunks(partial: usize, dw: usize, n: i32, chunks: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let acc = v128.load(partial + (<usize>i << 2));
    for (let c = 1; c < chunks; c++) acc = f32x4.add(acc, v128.load(partial + (<usize>(c * n + i) << 2)));
    v128.store(dw + (<usize>i << 2), acc);
  }
  for (; i < n; i++) {
    let acc: f32 = load<f32>(partial + (<usize>i << 2));
    for (let c = 1; c < chunks; c++) acc += load<f32>(partial + (<usize>(c * n + i) << 2));
    store<f32>(dw + (<usize>i << 2), acc);
  }
}

/**
 * dx[batch, inH, inW, inC] = col2im(dy · wᵀ). Returns 0, or 1 when scratch could not grow.
 */
export function conv2d_backprop_input_f32(g: usize, dy: usize, w: usize, dx: usize): i32 {
  if (!isPointwise(g)) memory.fill(dx, 0, <usize>(gi(g, G_BATCH) * gi(g, G_IN_H) * gi(g, G_IN_W) * gi(g, G_IN_C)) << 2);
  return convRows(OP_DX, g, dy, w, dx, 0, 0, 0);
}

// The forward conv and dX run as gemm_nb_rows over ranges of positions (rows of patches(x) / dy):
//   forward: y[rows]  = patches(x)[rows] · w            (w packed once: B = wᵀ, outC × K)
//   dX:      col      = dy[rows] · wᵀ, scattered into dx (w packed once: B = w,  K × outC)
// in blocks of patch_block_rows(K, P) rows (pointwise: the tensors themselves, no blocks). With
// threads, the parts claim items (par_claim) — blocks of positions, or whole images for a k×k dX,
// whose windows overlap within an image — each part with its own patch block: a thread the OS
// deschedules on a shared machine then holds up one item, not half the conv. gemm_nb_rows computes
// every element the same way whatever rows it is given, and a k×k dX adds into each image in
// position order, so every thread count gives bitwise the same result.
const OP_FWD = 0;
const OP_DX = 1;

// argument slots of a JOB_CONV_ROWS job
const R_OP = 0, R_G = 1, R_SRC = 2, R_BP = 3, R_OUT = 4, R_PARTS = 5, R_ROWS = 6, R_ARENA = 7, R_STRIDE = 8;
const R_BIAS = 9, R_BIAS_LEN = 10, R_ACT = 11, R_CLAIM = 12;

/** Rows per block of a pointwise forward with an epilogue: 512 rows of ≤ 64 outputs stay in L2 for it. */
const EPILOGUE_ROWS = 512;

/** Positions per claimed item of a pointwise conv without an epilogue (whole GEMM row ranges: fewer, larger items). */
const POINTWISE_ITEM_ROWS = 2048;

/** Part `part` of a JOB_CONV_ROWS job: the items it claims (see par_claim), each a range of positions. */
export function conv_rows_part(part: i32): void {
  const op = arg_i32(R_OP), g = <usize>arg_i32(R_G), claim = arg_ptr(R_CLAIM);
  const K = gi(g, G_K_H) * gi(g, G_K_W) * gi(g, G_IN_C);
  const outC = gi(g, G_OUT_C);
  const hw = gi(g, G_OUT_H) * gi(g, G_OUT_W);
  const P = gi(g, G_BATCH) * hw;
  const pointwise = isPointwise(g);
  const epilogue = op == OP_FWD && (arg_i32(R_BIAS_LEN) != 0 || arg_i32(R_ACT) != 0);
  // a k×k dX: whole images (their windows overlap); else blocks of positions
  const itemRows = op == OP_DX && !pointwise ? hw : pointwise ? (epilogue ? EPILOGUE_ROWS : POINTWISE_ITEM_ROWS) : arg_i32(R_ROWS);
  const items = (P + itemRows - 1) / itemRows;
  for (let it = par_claim(claim); it < items; it = par_claim(claim)) {
    const r0 = it * itemRows;
    rowsRange(op, g, part, r0, min(P, r0 + itemRows), K, outC, pointwise, epilogue);
  }
}

/** Positions [r0, r1) of a JOB_CONV_ROWS job, on part `part`'s patch block. */
function rowsRange(op: i32, g: usize, part: i32, r0: i32, r1: i32, K: i32, outC: i32, pointwise: bool, epilogue: bool): void {
  const src = <usize>arg_i32(R_SRC), bp = <usize>arg_i32(R_BP), out = <usize>arg_i32(R_OUT);
  const bias = <usize>arg_i32(R_BIAS), biasLen = arg_i32(R_BIAS_LEN), act = arg_i32(R_ACT);
  if (pointwise) {
    if (epilogue) {
      for (let q = r0; q < r1; q += EPILOGUE_ROWS) {
        const rows = min(EPILOGUE_ROWS, r1 - q);
        const yq = out + (<usize>q * <usize>outC << 2);
        gemm_nb_rows(rows, outC, K, src + (<usize>q * <usize>K << 2), K, bp, yq, outC);
        bias_act_f32(yq, rows, outC, bias, biasLen, act);
      }
    } else if (op == OP_FWD) gemm_nb_rows(r1 - r0, outC, K, src + (<usize>r0 * <usize>K << 2), K, bp, out + (<usize>r0 * <usize>outC << 2), outC);
    else gemm_nb_rows(r1 - r0, K, outC, src + (<usize>r0 * <usize>outC << 2), outC, bp, out + (<usize>r0 * <usize>K << 2), K);
    return;
  }
  const rowsMax = arg_i32(R_ROWS);
  const col = <usize>arg_i32(R_ARENA) + <usize>part * <usize>arg_i32(R_STRIDE);
  for (let q = r0; q < r1; q += rowsMax) {
    const rows = min(rowsMax, r1 - q);
    if (op == OP_FWD) {
      pack_patches(g, src, q, rows, col);
      const yq = out + (<usize>q * <usize>outC << 2);
      gemm_nb_rows(rows, outC, K, col, K, bp, yq, outC);
      if (epilogue) bias_act_f32(yq, rows, outC, bias, biasLen, act);
    } else {
      gemm_nb_rows(rows, K, outC, src + (<usize>q * <usize>outC << 2), outC, bp, col, K);
      unpack_patches_add(g, col, q, rows, out);
    }
  }
}

/** The forward conv (op OP_FWD: src = x, out = y) or dX (OP_DX: src = dy, out = dx, zeroed unless pointwise). */
function convRows(op: i32, g: usize, src: usize, w: usize, out: usize, bias: usize, biasLen: i32, act: i32): i32 {
  const K = gi(g, G_K_H) * gi(g, G_K_W) * gi(g, G_IN_C);
  const outC = gi(g, G_OUT_C);
  const P = gi(g, G_BATCH) * gi(g, G_OUT_H) * gi(g, G_OUT_W);
  if (P == 0) return 0;
  const pointwise = isPointwise(g);
  const mark = scratch_mark();
  // w is [K, outC] row-major: forward multiplies by w (B = wᵀ: element (n, k) at n + k·outC),
  // dX by wᵀ (B = w: element (n, k) at n·outC + k)
  const bp = op == OP_FWD ? scratch_alloc(packed_bt_bytes(outC, K)) : scratch_alloc(packed_bt_bytes(K, outC));
  if (bp == 0) return 1;
  if (op == OP_FWD) pack_bt(w, outC, K, 1, outC, bp);
  else pack_bt(w, K, outC, outC, 1, bp);
  // Threads pay from about a million multiply-adds per part (a wake-up costs microseconds).
  const units = op == OP_DX && !pointwise ? gi(g, G_BATCH) : P;
  let parts = min(par_threads(), units);
  if (<i64>K * outC * P < (<i64>parts << 20)) parts = 1;
  const rowsMax = patch_block_rows(K, P);
  const stride: usize = pointwise ? 16 : align16(<usize>(rowsMax * K) << 2);
  const arena = scratch_alloc(stride * <usize>parts);
  if (arena == 0) return 1;
  set_arg_i32(R_OP, op); set_arg_i32(R_G, <i32>g); set_arg_i32(R_SRC, <i32>src); set_arg_i32(R_BP, <i32>bp);
  set_arg_i32(R_OUT, <i32>out); set_arg_i32(R_PARTS, parts); set_arg_i32(R_ROWS, rowsMax);
  set_arg_i32(R_ARENA, <i32>arena); set_arg_i32(R_STRIDE, <i32>stride);
  set_arg_i32(R_BIAS, <i32>bias); set_arg_i32(R_BIAS_LEN, biasLen); set_arg_i32(R_ACT, act);
  claim_arg(R_CLAIM);
  if (parts > 1) par_run(JOB_CONV_ROWS, parts);
  else conv_rows_part(0);
  scratch_reset(mark);
  return 0;
}
