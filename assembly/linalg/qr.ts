// Thin Householder QR with explicit Q, plus the Householder / vector helpers
// shared by the eigen and SVD kernels (import them from "./qr").
//
// AS-level entry points (callable from other assembly files):
//   qr_f32(a, m, n, q, r)            a: m×n row-major (untouched) = q (m×k) · r (k×n), k = min(m, n)
//   house_f32(x, n) → tau            LAPACK larfg on a contiguous vector (x[0] ← beta, x[1..) ← v[1..))
//   larf_rows_f32(v, tau, m, n, c, ldc)       C ← C·(I − τ v vᵀ)  (one pass over the rows of C)
//   larf_cols_f32(v, tau, m, n, c, ldc, w)    C ← (I − τ v vᵀ)·C  (two passes; w: n floats)
//   apply_reflectors_rows_f32(refl, ldr, off, nref, tau, c, rows, ldc, width, tri)
//                                    C ← C·H_{nref−1}⋯H_0, reflectors stored as rows, blocked (compact WY + gemm)
//   transpose_f32(src, rows, cols, lds, dst, ldd)
//   dot_f32 / axpy_f32 / dot_f64 / axpy_f64 / rot_f64   SIMD vector primitives
//
// Design: the factorisation runs on Aᵀ (each column of A is a contiguous row),
// so every reflector is applied from the right to contiguous rows in a single
// pass (dot + axpy). Q is formed backwards as Qᵀ = [I 0]·H_{k−1}⋯H_0, again on rows.
import { fma4, hsum4 } from "../simd";
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { gemm_f32 } from "./gemm";
import { par_hold, par_release } from "../threads";
import { apply_reflectors_banded_f32 } from "./reflect";

/** qr_f32 runs on the calling thread alone below this many m·n·min(m, n) (see qr_f32). */
const QR_PAR_WORK: i64 = 1 << 25;

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

export function dot_f32(x: usize, y: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    a0 = fma4(v128.load(x + o), v128.load(y + o), a0);
    a1 = fma4(v128.load(x + o + 16), v128.load(y + o + 16), a1);
    a2 = fma4(v128.load(x + o + 32), v128.load(y + o + 32), a2);
    a3 = fma4(v128.load(x + o + 48), v128.load(y + o + 48), a3);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    a0 = fma4(v128.load(x + o), v128.load(y + o), a0);
  }
  let s = hsum4(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) s += load<f32>(at4(x, i)) * load<f32>(at4(y, i));
  return s;
}

/** y += alpha·x */
export function axpy_f32(alpha: f32, x: usize, y: usize, n: i32): void {
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(y + o, fma4(av, v128.load(x + o), v128.load(y + o)));
    v128.store(y + o + 16, fma4(av, v128.load(x + o + 16), v128.load(y + o + 16)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, fma4(av, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) store<f32>(at4(y, i), load<f32>(at4(y, i)) + alpha * load<f32>(at4(x, i)));
}

export function dot_f64(x: usize, y: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 3;
    a0 = f64x2.add(a0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(x + o + 16), v128.load(y + o + 16)));
  }
  const t = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; i < n; i++) s += load<f64>(at8(x, i)) * load<f64>(at8(y, i));
  return s;
}

/** y += alpha·x (f64) */
export function axpy_f64(alpha: f64, x: usize, y: usize, n: i32): void {
  const av = f64x2.splat(alpha);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(av, v128.load(x + o))));
  }
  for (; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) + alpha * load<f64>(at8(x, i)));
}

/** Plane rotation of two f64 rows: x ← c·x − s·y, y ← s·x + c·y. */
export function rot_f64(x: usize, y: usize, n: i32, c: f64, s: f64): void {
  const cv = f64x2.splat(c), sv = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const xv = v128.load(x + o), yv = v128.load(y + o);
    v128.store(x + o, f64x2.sub(f64x2.mul(cv, xv), f64x2.mul(sv, yv)));
    v128.store(y + o, f64x2.add(f64x2.mul(sv, xv), f64x2.mul(cv, yv)));
  }
  for (; i < n; i++) {
    const xv = load<f64>(at8(x, i)), yv = load<f64>(at8(y, i));
    store<f64>(at8(x, i), c * xv - s * yv);
    store<f64>(at8(y, i), s * xv + c * yv);
  }
}

/**
 * Householder reflector H = I − τ v vᵀ with H·x = β e₁ for a contiguous x of
 * length n (LAPACK larfg). On return x[0] = β, x[1..n) = v[1..n) (v[0] = 1 is
 * implicit); returns τ (0 when x[1..n) is already zero: H = I).
 */
export function house_f32(x: usize, n: i32): f32 {
  if (n <= 1) return 0;
  let ss: f64 = 0;
  for (let i = 1; i < n; i++) {
    const t = <f64>load<f32>(at4(x, i));
    ss += t * t;
  }
  if (ss == 0) return 0;
  const alpha = <f64>load<f32>(x);
  let beta = Math.sqrt(alpha * alpha + ss);
  if (alpha >= 0) beta = -beta;
  const tau = (beta - alpha) / beta;
  const diff = alpha - beta;
  if (Math.abs(diff) < 1e-30) {
    // x at the edge of float32's range (a rank-deficient matrix's trailing rounding noise): 1/diff
    // would overflow float32, so divide each entry in f64 (|v_i| ≤ 1 since |diff| ≥ |β| ≥ |x_i|)
    for (let i = 1; i < n; i++) store<f32>(at4(x, i), <f32>(<f64>load<f32>(at4(x, i)) / diff));
    store<f32>(x, <f32>beta);
    return <f32>tau;
  }
  const scal = <f32>(1.0 / diff);
  const sv = f32x4.splat(scal);
  let i = 1;
  for (; i < n && (i & 3) != 0; i++) store<f32>(at4(x, i), load<f32>(at4(x, i)) * scal);
  for (; i + 4 <= n; i += 4) v128.store(at4(x, i), f32x4.mul(v128.load(at4(x, i)), sv));
  for (; i < n; i++) store<f32>(at4(x, i), load<f32>(at4(x, i)) * scal);
  store<f32>(x, <f32>beta);
  return <f32>tau;
}

/** C ← C·(I − τ v vᵀ): C is m×n (row stride ldc), v has n entries with v[0] = 1 stored. */
export function larf_rows_f32(v: usize, tau: f32, m: i32, n: i32, c: usize, ldc: i32): void {
  if (tau == 0 || n <= 0) return;
  for (let r = 0; r < m; r++) {
    const row = at4(c, r * ldc);
    const d = tau * dot_f32(row, v, n);
    if (d != 0) axpy_f32(-d, v, row, n);
  }
}

/** C ← (I − τ v vᵀ)·C: C is m×n (row stride ldc), v has m entries with v[0] = 1 stored; w: n floats of scratch. */
export function larf_cols_f32(v: usize, tau: f32, m: i32, n: i32, c: usize, ldc: i32, w: usize): void {
  if (tau == 0 || n <= 0) return;
  memory.fill(w, 0, <usize>n << 2);
  for (let r = 0; r < m; r++) {
    const vr = load<f32>(at4(v, r));
    if (vr != 0) axpy_f32(vr, at4(c, r * ldc), w, n);
  }
  for (let r = 0; r < m; r++) {
    const vr = load<f32>(at4(v, r));
    if (vr != 0) axpy_f32(-tau * vr, w, at4(c, r * ldc), n);
  }
}

/** dst[j][i] = src[i][j] for a rows×cols block (src row stride lds, dst row stride ldd). */
export function transpose_f32(src: usize, rows: i32, cols: i32, lds: i32, dst: usize, ldd: i32): void {
  const B = 16;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = min(j0 + B, cols);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          store<f32>(at4(dst, j * ldd + i), load<f32>(at4(src, i * lds + j)));
        }
      }
    }
  }
}

/** Block size of the compact-WY (gemm-based) reflector updates. */
const NB = 64;

/**
 * Copy reflectors i0..i0+b−1 (row i holds v_i from column i + off on, v_i[0] = 1 stored)
 * into vr (b×L, row j = v_{i0+j} over columns col0 = i0 + off … col0 + L − 1, zeros before
 * its start) and vc = vrᵀ (L×b).
 */
function gather_block(refl: usize, ldr: i32, i0: i32, off: i32, b: i32, L: i32, vr: usize, vc: usize): void {
  const col0 = i0 + off;
  for (let j = 0; j < b; j++) {
    const dst = at4(vr, j * L);
    if (j > 0) memory.fill(dst, 0, <usize>j << 2);
    memory.copy(at4(dst, j), at4(refl, (i0 + j) * ldr + col0 + j), <usize>(L - j) << 2);
  }
  transpose_f32(vr, b, L, L, vc, b);
}

/**
 * T (b×b, upper triangular) of the compact-WY form H_0⋯H_{b−1} = I − V T Vᵀ, V's columns the
 * b reflectors in the rows of vr (b×L, zeros before each one's start).
 */
export function larft_f32(vr: usize, tau: usize, b: i32, L: i32, T: usize): void {
  const mark = scratch_mark();
  const tmp = scratch_alloc(<usize>b << 2);
  memory.fill(T, 0, <usize>(b * b) << 2);
  for (let j = 0; j < b; j++) {
    const tj = load<f32>(at4(tau, j));
    store<f32>(at4(T, j * b + j), tj);
    if (tj == 0) continue;
    const vj = at4(vr, j * L);
    for (let i = 0; i < j; i++) store<f32>(at4(tmp, i), -tj * dot_f32(at4(vr, i * L + j), at4(vj, j), L - j));
    // T[0:j, j] = T[0:j, 0:j] · tmp (upper triangular)
    for (let i = 0; i < j; i++) {
      let acc: f32 = 0;
      for (let p = i; p < j; p++) acc += load<f32>(at4(T, i * b + p)) * load<f32>(at4(tmp, p));
      store<f32>(at4(T, i * b + j), acc);
    }
  }
  scratch_reset(mark);
}

/**
 * C (rows×L, ldc) ← C·(I − V T Vᵀ) = C·H_0⋯H_{b−1} when fwd, else C·(I − V Tᵀ Vᵀ) = C·H_{b−1}⋯H_0,
 * for the b reflectors in vr (b×L rows) / vc (its transpose); three gemms.
 */
function larfb_rows_f32(vr: usize, vc: usize, tau: usize, b: i32, L: i32, c: usize, rows: i32, ldc: i32, fwd: bool): void {
  if (rows <= 0 || L <= 0) return;
  const mark = scratch_mark();
  const T = scratch_alloc(<usize>(b * b) << 2);
  larft_f32(vr, tau, b, L, T);
  let M = T;
  if (!fwd) {
    M = scratch_alloc(<usize>(b * b) << 2);
    transpose_f32(T, b, b, b, M, b);
  }
  const W = scratch_alloc(<usize>(rows * b) << 2);
  const W2 = scratch_alloc(<usize>(rows * b) << 2);
  gemm_f32(0, 0, rows, b, L, 1, c, ldc, vc, b, 0, W, b);
  gemm_f32(0, 0, rows, b, b, 1, W, b, M, b, 0, W2, b);
  gemm_f32(0, 0, rows, L, b, -1, W2, b, vr, L, 1, c, ldc);
  scratch_reset(mark);
}

/**
 * C (rows×width, ldc) ← C·H_{nref−1}⋯H_0 where reflector i is row i of refl (row stride ldr),
 * supported on columns [i + off, width) with v_i[0] = 1 stored at column i + off. With tri,
 * reflector i only touches rows ≥ i (as when forming Q from [I 0]). Blocked by NB with gemm.
 */
export function apply_reflectors_rows_f32(refl: usize, ldr: i32, off: i32, nref: i32, tau: usize, c: usize, rows: i32, ldc: i32, width: i32, tri: bool): void {
  if (!tri) {
    // every row of C independent: fixed row bands over the pool (assembly/linalg/reflect.ts)
    apply_reflectors_banded_f32(refl, ldr, off, nref, tau, c, rows, ldc, width);
    return;
  }
  const mark = scratch_mark();
  const vr = scratch_alloc(<usize>(NB * width) << 2);
  const vc = scratch_alloc(<usize>(NB * width) << 2);
  let i1 = nref;
  while (i1 > 0) {
    const i0 = ((i1 - 1) / NB) * NB;
    const b = i1 - i0;
    const col0 = i0 + off;
    const L = width - col0;
    const r0 = tri ? i0 : 0;
    if (L > 0 && rows - r0 > 0) {
      if (b >= 8 && L >= 16) {
        gather_block(refl, ldr, i0, off, b, L, vr, vc);
        larfb_rows_f32(vr, vc, at4(tau, i0), b, L, at4(c, r0 * ldc + col0), rows - r0, ldc, false);
      } else {
        for (let i = i1 - 1; i >= i0; i--) {
          const ri = tri ? i : 0;
          if (width - i - off > 0) larf_rows_f32(at4(refl, i * ldr + i + off), load<f32>(at4(tau, i)), rows - ri, width - i - off, at4(c, ri * ldc + i + off), ldc);
        }
      }
    }
    i1 = i0;
  }
  scratch_reset(mark);
}

/**
 * Householder QR of at (n×m row-major = Aᵀ, overwritten): on return row j holds
 * R[0..j][j] in columns 0..j and the reflector v_j (v_j[0] = 1 stored) in
 * columns j..m−1; beta (R's diagonal) goes to rdiag[j] and τ_j to tau[j].
 * k = min(m, n) reflectors. Panels of NB rows, trailing rows updated by gemm.
 */
export function qr_rows_f32(at: usize, m: i32, n: i32, tau: usize, rdiag: usize): void {
  const k = min(m, n);
  const mark = scratch_mark();
  const vr = scratch_alloc(<usize>(NB * m) << 2);
  const vc = scratch_alloc(<usize>(NB * m) << 2);
  for (let i0 = 0; i0 < k; i0 += NB) {
    const b = min(NB, k - i0);
    const pend = i0 + b;
    for (let i = i0; i < pend; i++) {
      const x = at4(at, i * m + i);
      const t = house_f32(x, m - i);
      store<f32>(at4(tau, i), t);
      store<f32>(at4(rdiag, i), load<f32>(x));
      store<f32>(x, 1);
      // inside the panel (all remaining rows when the trailing part is small)
      const upto = (n - pend < 16 || m - i0 < 16) ? n : pend;
      if (t != 0 && i + 1 < upto) larf_rows_f32(x, t, upto - i - 1, m - i, x + (<usize>m << 2), m);
    }
    if (n - pend >= 16 && m - i0 >= 16) {
      const L = m - i0;
      gather_block(at, m, i0, 0, b, L, vr, vc);
      larfb_rows_f32(vr, vc, at4(tau, i0), b, L, at4(at, pend * m + i0), n - pend, m, true);
    }
  }
  scratch_reset(mark);
}

/** Qᵀ (k×m row-major, row stride ldq) from the reflectors left in at by qr_rows_f32. */
export function form_qt_f32(at: usize, m: i32, n: i32, tau: usize, qt: usize, ldq: i32): void {
  const k = min(m, n);
  for (let i = 0; i < k; i++) {
    memory.fill(at4(qt, i * ldq), 0, <usize>m << 2);
    store<f32>(at4(qt, i * ldq + i), 1);
  }
  apply_reflectors_rows_f32(at, m, 0, k, tau, qt, k, ldq, m, true);
}

/** Thin QR: a (m×n row-major, untouched) = q (m×k) · r (k×n, upper triangular), k = min(m, n). */
export function qr_f32(a: usize, m: i32, n: i32, q: usize, r: usize): void {
  const mark = scratch_mark();
  const k = min(m, n);
  // Below QR_PAR_WORK (m·n·k) the blocked updates are a few small GEMMs between serial panel
  // steps: split over threads they cost more than they save (512×128: 2.5 ms on one thread,
  // 2.9 ms split over two), so the whole factorisation stays on the calling thread.
  const held = <i64>m * n * k < QR_PAR_WORK;
  const was = held ? par_hold() : false;
  const at = scratch_alloc(<usize>n * <usize>m * 4);
  const tau = scratch_alloc(<usize>k * 4);
  const rdiag = scratch_alloc(<usize>k * 4);
  const qt = scratch_alloc(<usize>k * <usize>m * 4);
  transpose_f32(a, m, n, n, at, m);
  qr_rows_f32(at, m, n, tau, rdiag);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      const val: f32 = j < i ? 0 : (j == i ? load<f32>(at4(rdiag, i)) : load<f32>(at4(at, j * m + i)));
      store<f32>(at4(r, i * n + j), val);
    }
  }
  form_qt_f32(at, m, n, tau, qt, m);
  transpose_f32(qt, k, m, m, q, k);
  if (held) par_release(was);
  scratch_reset(mark);
}
