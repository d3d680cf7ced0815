// Small dense helpers specific to CP-ALS: the normal-equation solve
// U = M · V⁻¹ (Cholesky in f64), column normalisation, the proximal diagonal,
// and the inner products used to get the fit error from Grams + MTTKRP.
// (Elementwise helpers — Hadamard, lerp, add_scaled, scale_cols — are in assembly/vec.ts.)
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

/** Σ_{i,r} w[r] · a[i, r] · b[i, r] for I×R matrices, in f64. */
export function weighted_inner_f32(a: usize, b: usize, w: usize, I: i32, R: i32): f64 {
  let s: f64 = 0;
  for (let r = 0; r < R; r++) {
    let c: f64 = 0;
    for (let i = 0; i < I; i++) {
      const off = <usize>(i * R + r) << 2;
      c += <f64>load<f32>(a + off) * <f64>load<f32>(b + off);
    }
    s += c * <f64>load<f32>(w + (<usize>r << 2));
  }
  return s;
}

/** wᵀ · G · w for an R×R matrix G, in f64. */
export function quad_form_f32(g: usize, R: i32, w: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < R; i++) {
    let c: f64 = 0;
    for (let j = 0; j < R; j++) c += <f64>load<f32>(g + (<usize>(i * R + j) << 2)) * <f64>load<f32>(w + (<usize>j << 2));
    s += c * <f64>load<f32>(w + (<usize>i << 2));
  }
  return s;
}

/**
 * Column norms of u (I×R) into norms (R); each nonzero column is divided by
 * its norm (zero columns stay zero with norm 0).
 */
export function normalize_cols_f32(u: usize, I: i32, R: i32, norms: usize): void {
  for (let r = 0; r < R; r++) {
    let s: f64 = 0;
    for (let i = 0; i < I; i++) {
      const x = <f64>load<f32>(u + (<usize>(i * R + r) << 2));
      s += x * x;
    }
    const n = Math.sqrt(s);
    store<f32>(norms + (<usize>r << 2), <f32>n);
    if (n > 0) {
      const inv = <f32>(1.0 / n);
      for (let i = 0; i < I; i++) {
        const off = <usize>(i * R + r) << 2;
        store<f32>(u + off, load<f32>(u + off) * inv);
      }
    }
  }
}

/**
 * out (I×R) = m (I×R) · v⁻¹ for a symmetric positive semi-definite v (R×R):
 * Cholesky factorisation in f64. When v is singular or indefinite to working
 * precision, a ridge δ·I is added (δ = 1e-10 · trace/R, ×100 per retry): the
 * minimum-norm-like regularised solution. Returns the ridge used (0 when none).
 * out may alias m.
 */
export function spd_solve_right_f32(v: usize, R: i32, m: usize, I: i32, out: usize): f64 {
  const mark = scratch_mark();
  const L = scratch_alloc(<usize>R * <usize>R * 8);
  const y = scratch_alloc(<usize>R * 8);
  let tr: f64 = 0;
  for (let i = 0; i < R; i++) tr += <f64>load<f32>(v + (<usize>(i * R + i) << 2));
  const scale = tr > 0 ? tr / <f64>R : 1.0;
  let ridge: f64 = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    let ok = true;
    for (let j = 0; j < R && ok; j++) {
      for (let i = j; i < R; i++) {
        let s = <f64>load<f32>(v + (<usize>(i * R + j) << 2));
        if (i == j) s += ridge;
        for (let p = 0; p < j; p++) s -= load<f64>(L + (<usize>(i * R + p) << 3)) * load<f64>(L + (<usize>(j * R + p) << 3));
        if (i == j) {
          if (!(s > 1e-13 * scale)) { ok = false; break; }
          store<f64>(L + (<usize>(j * R + j) << 3), Math.sqrt(s));
        } else {
          store<f64>(L + (<usize>(i * R + j) << 3), s / load<f64>(L + (<usize>(j * R + j) << 3)));
        }
      }
    }
    if (ok) break;
    ridge = ridge == 0 ? 1e-10 * scale : ridge * 100;
  }
  for (let row = 0; row < I; row++) {
    const mr = m + (<usize>(row * R) << 2);
    // L y = m_row
    for (let i = 0; i < R; i++) {
      let s = <f64>load<f32>(mr + (<usize>i << 2));
      for (let p = 0; p < i; p++) s -= load<f64>(L + (<usize>(i * R + p) << 3)) * load<f64>(y + (<usize>p << 3));
      store<f64>(y + (<usize>i << 3), s / load<f64>(L + (<usize>(i * R + i) << 3)));
    }
    // Lᵀ x = y
    for (let i = R - 1; i >= 0; i--) {
      let s = load<f64>(y + (<usize>i << 3));
      for (let p = i + 1; p < R; p++) s -= load<f64>(L + (<usize>(p * R + i) << 3)) * load<f64>(y + (<usize>p << 3));
      store<f64>(y + (<usize>i << 3), s / load<f64>(L + (<usize>(i * R + i) << 3)));
    }
    const orow = out + (<usize>(row * R) << 2);
    for (let i = 0; i < R; i++) store<f32>(orow + (<usize>i << 2), <f32>load<f64>(y + (<usize>i << 3)));
  }
  scratch_reset(mark);
  return ridge;
}

/** v[i, i] += mu for an R×R matrix. */
export function add_diag_f32(v: usize, R: i32, mu: f32): void {
  for (let i = 0; i < R; i++) {
    const off = <usize>(i * R + i) << 2;
    store<f32>(v + off, load<f32>(v + off) + mu);
  }
}
