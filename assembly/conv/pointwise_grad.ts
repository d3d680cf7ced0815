// Both gradients of a pointwise conv (1×1 filter, stride 1, no padding) in one pass over dy:
//   dx = dy · wᵀ   (gemm_nb_rows, w packed once)
//   dw = xᵀ · dy   (gemm_tn_rows, rows read in place)
// The decomposed chains' 1×1 convs have 4–64 channels, so each product does only 4–64 multiply-adds
// per value of dy it reads: run apart, dy is copied into our heap twice and streamed from memory
// twice. Here each block of BLOCK positions of dy (and of x) is used by both products while it is in
// cache. The blocking keeps every result bitwise equal to conv2d_backprop_input_f32's and
// conv2d_backprop_filter_f32's (grad.ts): dx rows are independent dot products; dw is summed over
// the same dwChunks(P) chunks of positions, each chunk in blocks that are whole multiples of
// gemm_tn_rows' own 256-row blocks (so the additions happen in the same order), and the chunks'
// partials are added in chunk order — on any thread count.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { JOB_CONV_PW, arg_i32, arg_ptr, claim_arg, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";
import { gemm_tn_rows } from "./gemm_tn";
import { gemm_nb_rows, pack_bt, packed_bt_bytes } from "./gemm_nb";
import { dwChunks, isPointwise, sumChunks } from "./grad";
import { gi, G_BATCH, G_IN_C, G_OUT_C, G_OUT_H, G_OUT_W } from "./geom";

/** Positions per block: a multiple of gemm_tn_rows' 256 (see above); 512 rows of dy, x and dx (≤ 64 floats each) fit L2. */
const BLOCK = 512;

// argument slots of a JOB_CONV_PW job
const A_X = 0, A_DY = 1, A_BP = 2, A_DX = 3, A_PARTIAL = 4, A_K = 5, A_N = 6, A_P = 7, A_CHUNKS = 8, A_PARTS = 9, A_CLAIM = 10;

/**
 * dx[batch, H, W, inC] and dw[1, 1, inC, outC] of a pointwise conv from x, dy and w. Returns 0; 1 when
 * scratch could not grow; 2 when g is not a pointwise conv (the caller runs the two kernels of grad.ts).
 */
export function conv2d_backprop_pointwise_f32(g: usize, x: usize, dy: usize, w: usize, dx: usize, dw: usize): i32 {
  if (!isPointwise(g)) return 2;
  const K = gi(g, G_IN_C), N = gi(g, G_OUT_C);
  const P = gi(g, G_BATCH) * gi(g, G_OUT_H) * gi(g, G_OUT_W);
  if (K == 0 || N == 0) return 0;
  if (P == 0) {
    memory.fill(dw, 0, <usize>(K * N) << 2);
    return 0;
  }
  const mark = scratch_mark();
  // dx = dy · wᵀ: w is [K, N] row-major, so B = w (element (n = k of dx, k = channel of dy) at n·N + k)
  const bp = scratch_alloc(packed_bt_bytes(K, N));
  if (bp == 0) return 1;
  pack_bt(w, K, N, N, 1, bp);
  const chunks = dwChunks(P);
  const partial: usize = chunks > 1 ? scratch_alloc(<usize>chunks * <usize>(K * N) << 2) : dw;
  if (partial == 0) return 1;
  // Threads pay from about a million multiply-adds per part (a wake-up costs microseconds).
  let parts = min(par_threads(), chunks);
  if (<i64>K * N * P < (<i64>parts << 19)) parts = 1;
  set_arg_i32(A_X, <i32>x); set_arg_i32(A_DY, <i32>dy); set_arg_i32(A_BP, <i32>bp); set_arg_i32(A_DX, <i32>dx);
  set_arg_i32(A_PARTIAL, <i32>partial); set_arg_i32(A_K, K); set_arg_i32(A_N, N); set_arg_i32(A_P, P);
  set_arg_i32(A_CHUNKS, chunks); set_arg_i32(A_PARTS, parts);
  claim_arg(A_CLAIM);
  if (parts > 1) par_run(JOB_CONV_PW, parts);
  else conv_pw_part(0);
  // dw = Σ_c partial_c in chunk order, as backpropFilterChunked (grad.ts) adds them
  if (chunks > 1) sumChunks(partial, dw, K * N, chunks);
  scratch_reset(mark);
  return 0;
}

/** Part `part` of a JOB_CONV_PW job: the chunks it claims (see par_claim), dx and dw of each. */
export function conv_pw_part(part: i32): void {
  const chunks = arg_i32(A_CHUNKS), claim = arg_ptr(A_CLAIM);
  const K = arg_i32(A_K), N = arg_i32(A_N), P = arg_i32(A_P);
  const x = <usize>arg_i32(A_X), dy = <usize>arg_i32(A_DY), bp = <usize>arg_i32(A_BP), dx = <usize>arg_i32(A_DX);
  const partial = <usize>arg_i32(A_PARTIAL);
  for (let c = par_claim(claim); c < chunks; c = par_claim(claim)) {
    const p0 = <i32>(<i64>P * c / chunks), p1 = <i32>(<i64>P * (c + 1) / chunks);
    const out = partial + (<usize>c * <usize>(K * N) << 2);
    for (let q = p0; q < p1; q += BLOCK) {
      const rows = min(BLOCK, p1 - q);
      const dyq = dy + (<usize>q * <usize>N << 2), xq = x + (<usize>q * <usize>K << 2);
      gemm_nb_rows(rows, K, N, dyq, N, bp, dx + (<usize>q * <usize>K << 2), K);
      gemm_tn_rows(rows, K, N, xq, K, dyq, N, out, N, q == p0 ? 0 : 1);
    }
  }
}
