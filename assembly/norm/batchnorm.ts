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
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { col_sums_f64 } from "../vec";

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
  const sum = scratch_alloc(n << 3), ss = scratch_alloc(n << 3), cScale = scratch_alloc(n << 2);
  col_sums_f64(x, rows, cols, sum);
  const m64 = <f64>rows; // divide (not multiply by 1/rows): a constant channel's mean is then exact
  const meanF = stats, varF = stats + (n << 2);
  for (let c = 0; c < cols; c++) {
    const m = load<f64>(sum + (<usize>c << 3)) / m64;
    store<f64>(sum + (<usize>c << 3), m);
    store<f32>(meanF + (<usize>c << 2), <f32>m);
  }
  // Σ(x − mean)², mean in f64
  memory.fill(ss, 0, n << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * n << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const a = ss + (<usize>c << 3), m = sum + (<usize>c << 3);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), v128.load(m));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), v128.load(m + 16));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d0, d0)));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.mul(d1, d1)));
    }
    for (; c < cols; c++) {
      const a = ss + (<usize>c << 3);
      const d = <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(sum + (<usize>c << 3));
      store<f64>(a, load<f64>(a) + d * d);
    }
  }
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
  const mean64 = scratch_alloc(n << 3), sdy = scratch_alloc(n << 3), sdx = scratch_alloc(n << 3);
  const coef = scratch_alloc(12 * n); // [a | b | k] f32: dx = a·(dy − b − (x − mean)·k)
  for (let c = 0; c < cols; c++) store<f64>(mean64 + (<usize>c << 3), <f64>load<f32>(meanF + (<usize>c << 2)));
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
  scratch_reset(mark);
  return 0;
}
