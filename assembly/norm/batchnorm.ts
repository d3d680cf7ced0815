// BatchNormalization in training mode over the channels-last [rows, cols] view of x (rows = N·H·W,
// cols = channels): the forward pass with the batch statistics and the moving-average update, and
// the whole backward pass, each in one call. tfjs-layers' BatchNormalization runs ~30 tfjs kernels
// per layer for the same work (moments, batchNorm, the moving averages and the gradient's
// Mean/Sum/Mul/Sub/Tile chain).
//
// Per-channel sums accumulate in f64 (SIMD over four channels, two f64x2 per four), so the
// statistics are correctly rounded to f32 for any realistic N·H·W; the variance is two-pass
// (Σ(x − mean)², not E[x²] − mean²), so a constant channel has exactly the variance its f32 mean
// leaves, and the biased variance (÷ rows) is the one tfjs-layers' moments feeds the moving average.
// The element-wise passes run in f32, as tfjs computes them.
//
// Threads: every pass runs over BN_CHUNK_ROWS-row chunks (a function of rows alone) that the threads
// claim; a reduction's per-chunk partial sums (f64, rows in order) are added in chunk order, so every
// thread count gives bitwise the same statistics, and the element-wise passes are row-independent.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { col_sums_f64 } from "../vec";
import { JOB_BN, arg_i32, arg_ptr, claim_arg, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";

/** Rows per chunk: 2048 rows of ≤ 64 channels are ≤ 512 KiB of x. */
const BN_CHUNK_ROWS = 2048;
// passes of a JOB_BN job
const P_SUM = 0, P_SS = 1, P_Y = 2, P_GRAD_SUMS = 3, P_DX = 4;
// argument slots of a JOB_BN job
const B_PASS = 0, B_X = 1, B_G = 2, B_OUT = 3, B_ROWS = 4, B_COLS = 5, B_PARTIAL = 6, B_CHUNKS = 7, B_CLAIM = 8, B_A = 9, B_B = 10, B_C = 11;

/** 1/√(var + eps), rounded once from f64: both passes derive it from the same f32 var. */
@inline function invstd(v: f32, eps: f32): f32 {
  return <f32>(1.0 / Math.sqrt(<f64>v + <f64>eps));
}

/**
 * Forward. params = [gamma | beta | movingMean | movingVar] (4·cols f32); writes y [rows, cols] and
 * stats = [mean | var | newMovingMean | newMovingVar] (4·cols f32), the moving statistics updated
 * as tfjs-layers does in f32: m − (m − batch)·decay, decay = 1 − momentum. Returns 0, or 1 when
 * rows or cols is not positive.
 */
export function batchnorm_train_f32(x: usize, rows: i32, cols: i32, params: usize, eps: f32, decay: f32, y: usize, stats: usize): i32 {
  if (rows <= 0 || cols <= 0) return 1;
  const mark = scratch_mark();
  const n = <usize>cols;
  const chunks = (rows + BN_CHUNK_ROWS - 1) / BN_CHUNK_ROWS;
  const partial = scratch_alloc(<usize>chunks * n << 3);
  const sum = scratch_alloc(n << 3), ss = scratch_alloc(n << 3), cScale = scratch_alloc(n << 2);
  runPass(P_SUM, x, 0, 0, rows, cols, partial, 0, 0, 0);
  sumChunks(partial, chunks, cols, n << 3, sum);
  const m64 = <f64>rows; // divide (not multiply by 1/rows): a constant channel's mean is then exact
  const meanF = stats, varF = stats + (n << 2);
  for (let c = 0; c < cols; c++) {
    const m = load<f64>(sum + (<usize>c << 3)) / m64;
    store<f64>(sum + (<usize>c << 3), m);
    store<f32>(meanF + (<usize>c << 2), <f32>m);
  }
  // Σ(x − mean)², mean in f64
  runPass(P_SS, x, 0, 0, rows, cols, partial, sum, 0, 0);
  sumChunks(partial, chunks, cols, n << 3, ss);
  // per channel: f32 scale = gamma·invstd, the moving stats (the f32 mean is meanF)
  const gamma = params, beta = params + (n << 2), mMean = params + (n << 3), mVar = params + 12 * n;
  for (let c = 0; c < cols; c++) {
    const o = <usize>c << 2;
    const mean = load<f32>(meanF + o);
    const v = <f32>(load<f64>(ss + (<usize>c << 3)) / m64);
    store<f32>(varF + o, v);
    store<f32>(cScale + o, load<f32>(gamma + o) * invstd(v, eps));
    const om = load<f32>(mMean + o), ov = load<f32>(mVar + o);
    store<f32>(stats + (n << 3) + o, om - (om - mean) * decay);
    store<f32>(stats + 12 * n + o, ov - (ov - v) * decay);
  }
  // y = (x − mean)·scale + beta
  runPass(P_Y, x, 0, y, rows, cols, 0, meanF, cScale, beta);
  scratch_reset(mark);
  return 0;
}

/**
 * Backward. params = [gamma | mean | var] (3·cols f32, mean and var as the forward pass wrote
 * them); writes dx [rows, cols] and grads = [dgamma | dbeta] (2·cols f32):
 * dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), x̂ = (x − mean)·invstd.
 * Returns 0, or 1 when rows or cols is not positive.
 */
export function batchnorm_train_grad_f32(x: usize, dy: usize, rows: i32, cols: i32, params: usize, eps: f32, dx: usize, grads: usize): i32 {
  if (rows <= 0 || cols <= 0) return 1;
  const mark = scratch_mark();
  const n = <usize>cols;
  const gamma = params, meanF = params + (n << 2), varF = params + (n << 3);
  const chunks = (rows + BN_CHUNK_ROWS - 1) / BN_CHUNK_ROWS;
  const partial = scratch_alloc(<usize>chunks * n << 4); // per chunk: [Σdy | Σdy·(x − mean)] f64
  const mean64 = scratch_alloc(n << 3), sdy = scratch_alloc(n << 3), sdx = scratch_alloc(n << 3);
  const coef = scratch_alloc(12 * n); // [a | b | k] f32: dx = a·(dy − b − (x − mean)·k)
  for (let c = 0; c < cols; c++) store<f64>(mean64 + (<usize>c << 3), <f64>load<f32>(meanF + (<usize>c << 2)));
  runPass(P_GRAD_SUMS, x, dy, 0, rows, cols, partial, mean64, 0, 0);
  sumChunks(partial, chunks, cols, n << 4, sdy);
  sumChunks(partial + (n << 3), chunks, cols, n << 4, sdx);
  const cA = coef, cB = coef + (n << 2), cK = coef + (n << 3);
  const m64 = <f64>rows;
  for (let c = 0; c < cols; c++) {
    const o = <usize>c << 2, o8 = <usize>c << 3;
    const is = invstd(load<f32>(varF + o), eps);
    const dg = load<f64>(sdx + o8) * <f64>is; // Σdy·x̂
    store<f32>(grads + o, <f32>dg);
    store<f32>(grads + (n << 2) + o, <f32>load<f64>(sdy + o8));
    store<f32>(cA + o, load<f32>(gamma + o) * is);
    store<f32>(cB + o, <f32>(load<f64>(sdy + o8) / m64));
    store<f32>(cK + o, <f32>(dg * <f64>is / m64));
  }
  runPass(P_DX, x, dy, dx, rows, cols, 0, meanF, coef, 0);
  scratch_reset(mark);
  return 0;
}

/** Run pass `pass` over x's rows in claimed chunks (partial: per-chunk sums where the pass reduces). */
function runPass(pass: i32, x: usize, g: usize, out: usize, rows: i32, cols: i32, partial: usize, a: usize, b: usize, c: usize): void {
  const chunks = (rows + BN_CHUNK_ROWS - 1) / BN_CHUNK_ROWS;
  // Threads pay from about a quarter of a million values per part (a wake-up costs microseconds).
  let parts = min(par_threads(), chunks);
  if (<i64>rows * cols < (<i64>parts << 18)) parts = 1;
  set_arg_i32(B_PASS, pass); set_arg_i32(B_X, <i32>x); set_arg_i32(B_G, <i32>g); set_arg_i32(B_OUT, <i32>out);
  set_arg_i32(B_ROWS, rows); set_arg_i32(B_COLS, cols); set_arg_i32(B_PARTIAL, <i32>partial); set_arg_i32(B_CHUNKS, chunks);
  set_arg_i32(B_A, <i32>a); set_arg_i32(B_B, <i32>b); set_arg_i32(B_C, <i32>c);
  claim_arg(B_CLAIM);
  if (parts > 1) par_run(JOB_BN, parts);
  else bn_part(0);
}

/** Part `part` of a JOB_BN job: the chunks it claims. */
export function bn_part(part: i32): void {
  const pass = arg_i32(B_PASS), chunks = arg_i32(B_CHUNKS), claim = arg_ptr(B_CLAIM);
  const rows = arg_i32(B_ROWS), cols = arg_i32(B_COLS);
  const x = <usize>arg_i32(B_X), g = <usize>arg_i32(B_G), out = <usize>arg_i32(B_OUT), partial = <usize>arg_i32(B_PARTIAL);
  const a = <usize>arg_i32(B_A), b = <usize>arg_i32(B_B), c = <usize>arg_i32(B_C);
  const n = <usize>cols;
  for (let k = par_claim(claim); k < chunks; k = par_claim(claim)) {
    const r0 = k * BN_CHUNK_ROWS, r1 = min(rows, r0 + BN_CHUNK_ROWS);
    const off = <usize>r0 * n << 2;
    if (pass == P_SUM) col_sums_f64(x + off, r1 - r0, cols, partial + (<usize>k * n << 3));
    else if (pass == P_SS) squaresChunk(x + off, r1 - r0, cols, a, partial + (<usize>k * n << 3));
    else if (pass == P_Y) normalizeChunk(x + off, out + off, r1 - r0, cols, a, b, c);
    else if (pass == P_GRAD_SUMS) gradSumsChunk(x + off, g + off, r1 - r0, cols, a, partial + (<usize>k * n << 4), partial + (<usize>k * n << 4) + (n << 3));
    else dxChunk(x + off, g + off, out + off, r1 - r0, cols, a, b);
  }
}

/** dst[c] = Σ_k partial[k·stride + c] in chunk order (f64; stride in bytes). */
function sumChunks(partial: usize, chunks: i32, cols: i32, stride: usize, dst: usize): void {
  for (let c = 0; c < cols; c++) {
    let acc = load<f64>(partial + (<usize>c << 3));
    for (let k = 1; k < chunks; k++) acc += load<f64>(partial + <usize>k * stride + (<usize>c << 3));
    store<f64>(dst + (<usize>c << 3), acc);
  }
}

/** ss[c] = Σ_rows (x − mean)², mean in f64. */
function squaresChunk(x: usize, rows: i32, cols: i32, mean: usize, ss: usize): void {
  const n = <usize>cols;
  memory.fill(ss, 0, n << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * n << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const a = ss + (<usize>c << 3), m = mean + (<usize>c << 3);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), v128.load(m));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), v128.load(m + 16));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d0, d0)));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.mul(d1, d1)));
    }
    for (; c < cols; c++) {
      const a = ss + (<usize>c << 3);
      const d = <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(mean + (<usize>c << 3));
      store<f64>(a, load<f64>(a) + d * d);
    }
  }
}

/** y = (x − mean)·scale + beta. */
function normalizeChunk(x: usize, y: usize, rows: i32, cols: i32, meanF: usize, cScale: usize, beta: usize): void {
  const n = <usize>cols;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * n << 2;
    const xr = x + off, yr = y + off;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const d = f32x4.sub(v128.load(xr + o), v128.load(meanF + o));
      v128.store(yr + o, f32x4.add(f32x4.mul(d, v128.load(cScale + o)), v128.load(beta + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(meanF + o)) * load<f32>(cScale + o) + load<f32>(beta + o));
    }
  }
}

/** sdy[c] = Σ dy, sdx[c] = Σ dy·(x − mean) (f64, mean in f64). */
function gradSumsChunk(x: usize, dy: usize, rows: i32, cols: i32, mean64: usize, sdy: usize, sdx: usize): void {
  const n = <usize>cols;
  memory.fill(sdy, 0, n << 3);
  memory.fill(sdx, 0, n << 3);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * n << 2;
    const xr = x + off, gr = dy + off;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2, o8 = <usize>c << 3;
      const xv = v128.load(xr + o), gv = v128.load(gr + o);
      const xh = i32x4.shuffle(xv, xv, 2, 3, 0, 1), gh = i32x4.shuffle(gv, gv, 2, 3, 0, 1);
      const g0 = f64x2.promote_low_f32x4(gv), g1 = f64x2.promote_low_f32x4(gh);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(xv), v128.load(mean64 + o8));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(xh), v128.load(mean64 + o8 + 16));
      v128.store(sdy + o8, f64x2.add(v128.load(sdy + o8), g0));
      v128.store(sdy + o8 + 16, f64x2.add(v128.load(sdy + o8 + 16), g1));
      v128.store(sdx + o8, f64x2.add(v128.load(sdx + o8), f64x2.mul(g0, d0)));
      v128.store(sdx + o8 + 16, f64x2.add(v128.load(sdx + o8 + 16), f64x2.mul(g1, d1)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2, o8 = <usize>c << 3;
      const g = <f64>load<f32>(gr + o);
      store<f64>(sdy + o8, load<f64>(sdy + o8) + g);
      store<f64>(sdx + o8, load<f64>(sdx + o8) + g * (<f64>load<f32>(xr + o) - load<f64>(mean64 + o8)));
    }
  }
}

/** dx = a·(dy − b − (x − mean)·k), coef = [a | b | k]. */
function dxChunk(x: usize, dy: usize, dx: usize, rows: i32, cols: i32, meanF: usize, coef: usize): void {
  const n = <usize>cols;
  const cA = coef, cB = coef + (n << 2), cK = coef + (n << 3);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * n << 2;
    const xr = x + off, gr = dy + off, dr = dx + off;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const d = f32x4.sub(v128.load(xr + o), v128.load(meanF + o));
      const t = f32x4.sub(f32x4.sub(v128.load(gr + o), v128.load(cB + o)), f32x4.mul(d, v128.load(cK + o)));
      v128.store(dr + o, f32x4.mul(v128.load(cA + o), t));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const d = load<f32>(xr + o) - load<f32>(meanF + o);
      store<f32>(dr + o, load<f32>(cA + o) * (load<f32>(gr + o) - load<f32>(cB + o) - d * load<f32>(cK + o)));
    }
  }
}
