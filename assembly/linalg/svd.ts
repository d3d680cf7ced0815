// Thin singular value decomposition.
//
// AS-level entry point (callable from other assembly files):
//   svd_f32(a, m, n, u, s, v) → fails   a: m×n row-major (untouched) = u·diag(s)·vᵀ with
//                                       k = min(m, n): u m×k, s k (descending, ≥ 0), v n×k,
//                                       all row-major. Returns the number of unconverged
//                                       eigenvalues of the inner tridiagonal problem (0 normally).
//   svd_values_f32(a, m, n, s) → fails  singular values only (no vectors: bidiagonalisation + QL).
//
// Method (m ≥ n; a wide matrix is transposed and u, v swapped):
//  1. tall (m ≥ 5n/4): Householder QR first, the rest works on the n×n R; U = Q·[U_R; 0] by the
//     blocked reflectors (no explicit Q);
//  2. Householder bidiagonalisation A = Q_B·B·P_Bᵀ in f32 (B upper bidiagonal);
//  3. eigenproblem of the tridiagonal T = BᵀB in f64 (QL values, split in halves from 384 on; inverse-iteration vectors) → V_B, σ = √λ.
//     In f64 the squaring costs nothing a float32 result can see: λ has absolute error ≈ 1e-16·σ₁²,
//     so σ's absolute error stays ≪ ε_f32·σ₁;
//  4. U_B = B·V_B·Σ⁻¹ (f64) for σ ≥ 1e-2·σ₁; smaller ones (and zeros) are orthogonalised
//     twice against all previous columns (MGS), or replaced by the least-covered unit vector
//     when nothing is left of them, so U stays orthonormal for rank-deficient input;
//  5. back-transform: U = Q_B·[U_B; 0], V = P_B·V_B, reflectors applied to rows in one pass.
// Threads: every phase is split over the pool in fixed pieces that depend on the size only —
// bidiagonalisation chunks of rows (each thread keeps the same rows from step to step, so
// they stay in its cache), the values' two half-size QL problems and ranges of their merge's
// secular roots (tridiag_dc.ts), inverse-iteration chunks cut at cluster starts (eig.ts),
// ranges of U_B rows, CGS2 rows/columns (orth.ts), 64-row bands of both back-transformations
// in one job, each band copied in from f64 and written out transposed (reflect.ts) — so the
// result is bitwise the same for any thread count.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { fma4, hsum4 } from "../simd";
import { axpy_f32, dot_f32, house_f32, qr_rows_f32, transpose_f32 } from "./qr";
import { REFLECT_REC, apply_reflectors_multi_f32, reflect_io, reflect_set } from "./reflect";
import { sort_desc_f64, tridiag_eig_f64 } from "./eig";
import { tri_values_dc_f64 } from "./tridiag_dc";
import { JOB_BIDIAG, JOB_SVD_UB, arg_f32, arg_i32, par_run, par_threads, set_arg_f32, set_arg_i32 } from "../threads";
import { cgs2_f64 } from "./orth";
import { maxabs_f32 } from "./scale";

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

/** row ← row + a·w (n entries); returns the updated row · u. */
function axpy_dot_f32(a: f32, w: usize, row: usize, u: usize, n: i32): f32 {
  const av = f32x4.splat(a);
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const o = <usize>j << 2;
    const r0 = fma4(av, v128.load(w + o), v128.load(row + o));
    const r1 = fma4(av, v128.load(w + o + 16), v128.load(row + o + 16));
    v128.store(row + o, r0);
    v128.store(row + o + 16, r1);
    acc0 = fma4(r0, v128.load(u + o), acc0);
    acc1 = fma4(r1, v128.load(u + o + 16), acc1);
  }
  let sum = hsum4(f32x4.add(acc0, acc1));
  for (; j < n; j++) {
    const rv = load<f32>(at4(row, j)) + a * load<f32>(at4(w, j));
    store<f32>(at4(row, j), rv);
    sum += rv * load<f32>(at4(u, j));
  }
  return sum;
}

/**
 * row ← row + a·u (n entries), then with x = the new row[0]: acc[j−1] += x·row[j] for j ≥ 1.
 * Returns x. (The right update fused with the next step's vᵀA accumulation.)
 */
function axpy_acc_f32(a: f32, u: usize, row: usize, acc: usize, n: i32): f32 {
  const x = load<f32>(row) + a * load<f32>(u);
  store<f32>(row, x);
  if (x == 0 && a == 0) return x;
  const av = f32x4.splat(a), xv = f32x4.splat(x);
  let j = 1;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    const rv = fma4(av, v128.load(u + o), v128.load(row + o));
    v128.store(row + o, rv);
    v128.store(acc + o - 4, fma4(xv, rv, v128.load(acc + o - 4)));
  }
  for (; j < n; j++) {
    const rv = load<f32>(at4(row, j)) + a * load<f32>(at4(u, j));
    store<f32>(at4(row, j), rv);
    store<f32>(at4(acc, j - 1), load<f32>(at4(acc, j - 1)) + x * rv);
  }
  return x;
}

/**
 * Householder bidiagonalisation A = Q_B·B·P_Bᵀ of A (m×n, m ≥ n, row-major, overwritten),
 * one fused pass over the trailing matrix per step: each row gets the left update, the
 * right reflector's dot and update, and contributes to the next step's vᵀA.
 * Out: alpha/beta (f64) the diagonal/superdiagonal of B (beta[n−1] = 0); row i of VL
 * (n×m) holds left reflector v_i from column i (v_i[0] = 1 stored), τ in tauL[i]; row i
 * of A holds right reflector u_i from column i+1 (u_i[0] = 1 stored), τ in tauR[i].
 */
export function bidiag_f32(A: usize, m: i32, n: i32, VL: usize, tauL: usize, tauR: usize, alpha: usize, beta: usize): void {
  const mark = scratch_mark();
  const w = scratch_alloc(<usize>n << 2);
  const wstride = <usize>((n + 3) & ~3) << 2;
  const wacc = scratch_alloc(wstride * BD_CHUNKS); // BD_CHUNKS partial sums (chunk 0's is the total)
  const claim = scratch_alloc(BD_CHUNKS << 2);
  store<f64>(at8(beta, n - 1), 0);
  store<f32>(at4(tauR, n - 1), 0);
  // pre-pass: column 0 into VL row 0, wacc = Σ_{r≥1} x_r·A[r][1:]
  memory.fill(wacc, 0, <usize>n << 2);
  for (let r = 0; r < m; r++) {
    const x = load<f32>(at4(A, r * n));
    store<f32>(at4(VL, r), x);
    if (r >= 1 && n > 1 && x != 0) axpy_f32(x, at4(A, r * n + 1), wacc, n - 1);
  }
  for (let i = 0; i < n; i++) {
    const L = m - i;
    const vl = at4(VL, i * m + i);
    const araw = load<f32>(vl);
    const t = house_f32(vl, L);
    const bta = load<f32>(vl);
    store<f64>(at8(alpha, i), <f64>bta);
    store<f32>(vl, 1);
    store<f32>(at4(tauL, i), t);
    const nc = n - i - 1;
    if (nc == 0) break;
    const rowi = at4(A, i * n + i + 1);
    if (t != 0) {
      // w = vᵀ A[i:, i+1:] = A[i][i+1:] + scal·wacc, then the left update of row i
      memory.copy(w, rowi, <usize>nc << 2);
      const diff = <f64>araw - <f64>bta;
      if (Math.abs(diff) < 1e-30) {
        // as in house_f32: 1/diff would overflow float32, so divide in f64
        for (let j = 0; j < nc; j++) store<f32>(at4(w, j), load<f32>(at4(w, j)) + <f32>(<f64>load<f32>(at4(wacc, j)) / diff));
      } else {
        axpy_f32(<f32>1 / (araw - bta), wacc, w, nc);
      }
      axpy_f32(-t, w, rowi, nc);
    }
    const t2 = house_f32(rowi, nc);
    store<f64>(at8(beta, i), <f64>load<f32>(rowi));
    store<f32>(rowi, 1);
    store<f32>(at4(tauR, i), t2);
    const vnext = at4(VL, (i + 1) * m);
    if (nc > 1) memory.fill(wacc, 0, <usize>(nc - 1) << 2);
    // the trailing rows: BD_CHUNKS fixed row ranges, spread over the pool when large enough
    const rows = m - i - 1;
    const parts = <i32>min<i64>(min(par_threads(), BD_CHUNKS), (<i64>rows * nc) >> 15);
    if (parts > 1) {
      set_arg_i32(B_A, <i32>A); set_arg_i32(B_N, n); set_arg_i32(B_M, m); set_arg_i32(B_I, i);
      set_arg_f32(B_T, t); set_arg_f32(B_T2, t2);
      set_arg_i32(B_VL, <i32>vl); set_arg_i32(B_W, <i32>w); set_arg_i32(B_VNEXT, <i32>vnext);
      set_arg_i32(B_WACC, <i32>wacc); set_arg_i32(B_WSTRIDE, <i32>wstride); set_arg_i32(B_CLAIM, <i32>claim);
      set_arg_i32(B_PARTS, parts);
      memory.fill(claim, 0, BD_CHUNKS << 2);
      par_run(JOB_BIDIAG, parts);
    } else {
      for (let c = 0; c < BD_CHUNKS; c++) bidiagChunk(A, n, m, i, t, t2, vl, w, vnext, wacc, wstride, c);
    }
    // chunk partial sums of the next step's vᵀA, added in chunk order (the same for any thread count)
    for (let c = 1; c < BD_CHUNKS; c++) axpy_f32(1, wacc + <usize>c * wstride, wacc, nc - 1);
  }
  scratch_reset(mark);
}

// Trailing-row update of one bidiagonalisation step. The rows are cut into BD_CHUNKS fixed
// ranges (16: with 8, a 16-core machine could use only half its cores on the SVD's largest phase), each accumulating its own partial of the next step's vᵀA; the partials are added
// in chunk order afterwards. The chunks depend on the matrix size only, so the result is
// the same for any number of threads (each thread claims chunks one at a time).
const BD_CHUNKS = 16;
const B_A = 0, B_N = 1, B_M = 2, B_I = 3, B_T = 4, B_T2 = 5, B_VL = 6, B_W = 7, B_VNEXT = 8, B_WACC = 9, B_WSTRIDE = 10, B_CLAIM = 11, B_PARTS = 12;

/**
 * Part `part` of a JOB_BIDIAG job. Each part first takes its own share of the chunks (the
 * same rows step after step, so they stay in that core's cache as the trailing matrix
 * shrinks), in order, then takes what is left of the others' from their far ends (so a
 * descheduled thread holds up at most the chunk it is on). Every chunk is taken once
 * through its own flag, and a chunk's arithmetic does not depend on who runs it.
 */
export function bidiag_part(part: i32): void {
  const claim = <usize>arg_i32(B_CLAIM), parts = arg_i32(B_PARTS);
  const c0 = part * BD_CHUNKS / parts, c1 = (part + 1) * BD_CHUNKS / parts;
  for (let c = c0; c < c1; c++) if (takeChunk(claim, c)) runChunk(c);
  for (let q = 1; q < parts; q++) {
    const o = (part + q) % parts;
    const o0 = o * BD_CHUNKS / parts;
    for (let c = (o + 1) * BD_CHUNKS / parts - 1; c >= o0; c--) if (takeChunk(claim, c)) runChunk(c);
  }
}

/** True for the one caller that takes chunk c (its flag goes 0 → 1). */
@inline function takeChunk(claim: usize, c: i32): bool {
  if (ASC_FEATURE_THREADS) return atomic.cmpxchg<i32>(claim + (<usize>c << 2), 0, 1) == 0;
  if (load<i32>(claim + (<usize>c << 2)) != 0) return false;
  store<i32>(claim + (<usize>c << 2), 1);
  return true;
}

function runChunk(c: i32): void {
  bidiagChunk(<usize>arg_i32(B_A), arg_i32(B_N), arg_i32(B_M), arg_i32(B_I), arg_f32(B_T), arg_f32(B_T2),
    <usize>arg_i32(B_VL), <usize>arg_i32(B_W), <usize>arg_i32(B_VNEXT), <usize>arg_i32(B_WACC), <usize>arg_i32(B_WSTRIDE), c);
}

function bidiagChunk(A: usize, n: i32, m: i32, i: i32, t: f32, t2: f32, vl: usize, w: usize, vnext: usize, wacc: usize, wstride: usize, c: i32): void {
  const nc = n - i - 1;
  const rowi = at4(A, i * n + i + 1);
  const rows = m - i - 1;
  const r0 = i + 1 + <i32>(<i64>rows * c / BD_CHUNKS), r1 = i + 1 + <i32>(<i64>rows * (c + 1) / BD_CHUNKS);
  const acc = wacc + <usize>c * wstride;
  if (c > 0 && nc > 1) memory.fill(acc, 0, <usize>(nc - 1) << 2);
  for (let r = r0; r < r1; r++) {
    const row = at4(A, r * n + i + 1);
    let dd: f32 = 0;
    if (t != 0 && t2 != 0) {
      dd = t2 * axpy_dot_f32(-t * load<f32>(at4(vl, r - i)), w, row, rowi, nc);
    } else if (t != 0) {
      axpy_f32(-t * load<f32>(at4(vl, r - i)), w, row, nc);
    } else if (t2 != 0) {
      dd = t2 * dot_f32(row, rowi, nc);
    }
    let x: f32;
    if (r >= i + 2) {
      x = axpy_acc_f32(-dd, rowi, row, acc, nc);
    } else {
      if (dd != 0) axpy_f32(-dd, rowi, row, nc);
      x = load<f32>(row);
    }
    store<f32>(at4(vnext, r), x);
  }
}

/**
 * SVD of A (m×n, m ≥ n, row-major, overwritten): s (n), ut (n×m: row k = u_k) and vt (n×n:
 * row k = v_k); ut = 0: values only. u ≠ 0 (m×n) and v ≠ 0 (n×n) also get utᵀ and vtᵀ.
 */
function svd_bidiag(A: usize, m: i32, n: i32, ut: usize, s: usize, vt: usize, u: usize, v: usize): i32 {
  const mark = scratch_mark();
  const VL = scratch_alloc(<usize>n * <usize>m * 4);
  const tauL = scratch_alloc(<usize>n << 2);
  const tauR = scratch_alloc(<usize>n << 2);
  const alpha = scratch_alloc(<usize>n << 3);
  const beta = scratch_alloc(<usize>n << 3);
  bidiag_f32(A, m, n, VL, tauL, tauR, alpha, beta);
  // T = BᵀB (f64)
  const d = scratch_alloc(<usize>n << 3);
  const e = scratch_alloc(<usize>n << 3);
  for (let j = 0; j < n; j++) {
    const aj = load<f64>(at8(alpha, j));
    const bp = j > 0 ? load<f64>(at8(beta, j - 1)) : 0;
    store<f64>(at8(d, j), aj * aj + bp * bp);
    if (j < n - 1) store<f64>(at8(e, j), aj * load<f64>(at8(beta, j)));
  }
  if (ut == 0) {
    // values only: QL without vectors on T
    const fv = tri_values_dc_f64(d, e, n);
    const perm = scratch_alloc(<usize>n << 2);
    sort_desc_f64(d, n, perm);
    for (let k = 0; k < n; k++) store<f32>(at4(s, k), <f32>Math.sqrt(max(load<f64>(at8(d, load<i32>(at4(perm, k)))), 0)));
    scratch_reset(mark);
    return fv;
  }
  const wv = scratch_alloc(<usize>n * <usize>n * 8);
  const lam = scratch_alloc(<usize>n << 3);
  const fails = tridiag_eig_f64(d, e, n, lam, wv);
  for (let k = 0; k < n; k++) store<f32>(at4(s, k), <f32>Math.sqrt(max(load<f64>(at8(lam, k)), 0)));
  // U_B rows (f64): B·v_k/‖B·v_k‖, independent per k, split over the pool by ranges of k
  const wu = scratch_alloc(<usize>n * <usize>n * 8);
  const nrms = scratch_alloc(<usize>n << 3);
  const parts = n >= 64 ? min(par_threads(), 16) : 1;
  if (parts > 1) {
    set_arg_i32(U_ALPHA, <i32>alpha); set_arg_i32(U_BETA, <i32>beta); set_arg_i32(U_WV, <i32>wv); set_arg_i32(U_WU, <i32>wu);
    set_arg_i32(U_LAM, <i32>lam); set_arg_i32(U_NRMS, <i32>nrms); set_arg_i32(U_N, n); set_arg_i32(U_PARTS, parts);
    par_run(JOB_SVD_UB, parts);
  } else {
    ubRows(alpha, beta, wv, wu, lam, nrms, n, 0, n);
  }
  // tiny or zero σ (a suffix, σ descending): orthogonalise against all previous rows; fall back to unit vectors
  const tol = 1e-2 * Math.sqrt(max(load<f64>(lam), 0));
  const coef = scratch_alloc(<usize>n << 3);
  let rn: usize = 0;
  for (let k = 0; k < n; k++) {
    const y = at8(wu, k * n);
    const nrm = load<f64>(at8(nrms, k));
    if (!(Math.sqrt(max(load<f64>(at8(lam, k)), 0)) > tol && nrm > 0)) {
      let ok = false;
      if (nrm > 0) {
        const inv = 1.0 / nrm;
        for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
        ok = cgs2_f64(wu, k, n, y, coef) > 0.5;
      }
      if (!ok) {
        // complete the basis with the unit vector least covered by the rows so far:
        // rn[j] = Σ_i wu[i][j]² is its squared projection, so 1 − rn[j] ≥ (n − k)/n for the best j
        if (rn == 0) {
          rn = scratch_alloc(<usize>n << 3);
          memory.fill(rn, 0, <usize>n << 3);
          for (let i = 0; i < k; i++) add_squares(rn, at8(wu, i * n), n);
        }
        let best = 0;
        let bv = load<f64>(rn);
        for (let j = 1; j < n; j++) {
          const v = load<f64>(at8(rn, j));
          if (v < bv) { bv = v; best = j; }
        }
        memory.fill(y, 0, <usize>n << 3);
        store<f64>(at8(y, best), 1);
        cgs2_f64(wu, k, n, y, coef);
      }
    }
    if (rn != 0) add_squares(rn, y, n);
  }
  // Both back-transformations in one job: rows of ut start as [U_B row k, 0] and get
  // ut ← ut·H_{n−1}⋯H_0, rows of vt start as V_B rows and get vt ← vt·G_{n−2}⋯G_0; each band
  // of rows then goes out transposed to u / v (when given) while it is in cache.
  const probs = scratch_alloc(2 * REFLECT_REC);
  reflect_set(probs, 0, VL, m, 0, n, tauL, ut, n, m, m);
  reflect_io(probs, 0, wu, n, n, u, n);
  reflect_set(probs, 1, A, n, 1, n - 1, tauR, vt, n, n, n);
  reflect_io(probs, 1, wv, n, n, v, n);
  apply_reflectors_multi_f32(probs, 2);
  scratch_reset(mark);
  return fails;
}

const U_ALPHA = 0, U_BETA = 1, U_WV = 2, U_WU = 3, U_LAM = 4, U_NRMS = 5, U_N = 6, U_PARTS = 7;

/** Part `part` of a JOB_SVD_UB job: a contiguous range of k. */
export function svd_ub_part(part: i32): void {
  const n = arg_i32(U_N), parts = arg_i32(U_PARTS);
  ubRows(<usize>arg_i32(U_ALPHA), <usize>arg_i32(U_BETA), <usize>arg_i32(U_WV), <usize>arg_i32(U_WU), <usize>arg_i32(U_LAM), <usize>arg_i32(U_NRMS),
    n, <i32>(<i64>n * part / parts), <i32>(<i64>n * (part + 1) / parts));
}

/**
 * Rows k0…k1−1 of U_B: y = B·x_k (B upper bidiagonal: alpha, beta), ‖y‖ into nrms[k];
 * y normalised when σ_k > 1e-2·σ_0 (the rest are finished serially by the caller).
 */
function ubRows(alpha: usize, beta: usize, wv: usize, wu: usize, lam: usize, nrms: usize, n: i32, k0: i32, k1: i32): void {
  const tol = 1e-2 * Math.sqrt(max(load<f64>(lam), 0));
  for (let k = k0; k < k1; k++) {
    const x = at8(wv, k * n);
    const y = at8(wu, k * n);
    let nrm: f64 = 0;
    for (let i = 0; i < n; i++) {
      let yi = load<f64>(at8(alpha, i)) * load<f64>(at8(x, i));
      if (i < n - 1) yi += load<f64>(at8(beta, i)) * load<f64>(at8(x, i + 1));
      store<f64>(at8(y, i), yi);
      nrm += yi * yi;
    }
    nrm = Math.sqrt(nrm);
    store<f64>(at8(nrms, k), nrm);
    if (Math.sqrt(max(load<f64>(at8(lam, k)), 0)) > tol && nrm > 0) {
      const inv = 1.0 / nrm;
      for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
    }
  }
}

function add_squares(acc: usize, y: usize, n: i32): void {
  for (let j = 0; j < n; j++) {
    const v = load<f64>(at8(y, j));
    store<f64>(at8(acc, j), load<f64>(at8(acc, j)) + v * v);
  }
}

/** SVD of a tall or square a (m×n, m ≥ n, row stride lda; untouched). u: m×n, v: n×n row-major. */
function svd_tall(a: usize, lda: i32, trans: bool, m: i32, n: i32, u: usize, s: usize, v: usize): i32 {
  const mark = scratch_mark();
  // working copy A (m×n) with a max-abs scaling so f32 intermediates never over/underflow
  const A = scratch_alloc(<usize>m * <usize>n * 4);
  if (trans) transpose_f32(a, n, m, lda, A, n);
  else for (let i = 0; i < m; i++) memory.copy(at4(A, i * n), at4(a, i * lda), <usize>n << 2);
  const total = m * n;
  const amax = maxabs_f32(A, total);
  const scale: f32 = amax > 0 ? <f32>1 / amax : <f32>1;
  if (amax > 0 && (amax > <f32>1e15 || amax < <f32>1e-15)) {
    for (let i = 0; i < total; i++) store<f32>(at4(A, i), load<f32>(at4(A, i)) * scale);
  }
  const unscale: f32 = amax > 0 && (amax > <f32>1e15 || amax < <f32>1e-15) ? amax : <f32>1;
  const vecs = u != 0;
  const ut = vecs ? scratch_alloc(<usize>n * <usize>m * 4) : 0;
  const vt = vecs ? scratch_alloc(<usize>n * <usize>n * 4) : 0;
  let fails = 0;
  if (m * 4 >= n * 5 && n > 0) {
    // QR first: A = Q R, R = U_R Σ Vᵀ, U = Q U_R
    const at = scratch_alloc(<usize>n * <usize>m * 4);
    transpose_f32(A, m, n, n, at, m);
    const tau = scratch_alloc(<usize>n << 2);
    const rdiag = scratch_alloc(<usize>n << 2);
    qr_rows_f32(at, m, n, tau, rdiag);
    const R = scratch_alloc(<usize>n * <usize>n * 4);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const val: f32 = j < i ? 0 : (j == i ? load<f32>(at4(rdiag, i)) : load<f32>(at4(at, j * m + i)));
        store<f32>(at4(R, i * n + j), val);
      }
    }
    const urt = vecs ? scratch_alloc(<usize>n * <usize>n * 4) : 0;
    fails = svd_bidiag(R, n, n, urt, s, vt, 0, v);
    if (vecs) {
      // Uᵀ = [U_Rᵀ 0]·H_{n−1}⋯H_0: the QR reflectors applied to the rows, no explicit Q; out transposed
      for (let k = 0; k < n; k++) {
        memory.copy(at4(ut, k * m), at4(urt, k * n), <usize>n << 2);
        memory.fill(at4(ut, k * m + n), 0, <usize>(m - n) << 2);
      }
      const probs = scratch_alloc(REFLECT_REC);
      reflect_set(probs, 0, at, m, 0, n, tau, ut, n, m, m);
      reflect_io(probs, 0, 0, 0, 0, u, n);
      apply_reflectors_multi_f32(probs, 1);
    }
  } else {
    fails = svd_bidiag(A, m, n, ut, s, vt, u, v);
  }
  if (unscale != 1) for (let i = 0; i < n; i++) store<f32>(at4(s, i), load<f32>(at4(s, i)) * unscale);
  scratch_reset(mark);
  return fails;
}

/** Singular values only (k = min(m, n), descending) of a (m×n row-major, untouched). Returns unconverged count. */
export function svd_values_f32(a: usize, m: i32, n: i32, s: usize): i32 {
  if (m >= n) return svd_tall(a, n, false, m, n, 0, s, 0);
  return svd_tall(a, n, true, n, m, 0, s, 0);
}

export function svd_f32(a: usize, m: i32, n: i32, u: usize, s: usize, v: usize): i32 {
  if (m >= n) return svd_tall(a, n, false, m, n, u, s, v);
  // wide: Aᵀ = V Σ Uᵀ
  return svd_tall(a, n, true, n, m, v, s, u);
}
