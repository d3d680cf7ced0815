// Thin singular value decomposition.
//
// AS-level entry point (callable from other assembly files):
//   svd_f32(a, m, n, u, s, v) → fails   a: m×n row-major (untouched) = u·diag(s)·vᵀ with
//                                       k = min(m, n): u m×k, s k (descending, ≥ 0), v n×k,
//                                       all row-major. Returns the number of unconverged
//                                       eigenvalues of the inner tridiagonal problem (0 normally).
//
// Method (m ≥ n; a wide matrix is transposed and u, v swapped):
//  1. tall (m ≥ 5n/4): Householder QR first, the rest works on the n×n R; U = Q·U_R by gemm;
//  2. Householder bidiagonalisation A = Q_B·B·P_Bᵀ in f32 (B upper bidiagonal);
//  3. eigenproblem of the tridiagonal T = BᵀB in f64 (implicit QL, vectors as rows) → V_B, σ = √λ.
//     In f64 the squaring costs nothing a float32 result can see: λ has absolute error ≈ 1e-16·σ₁²,
//     so σ's absolute error stays ≪ ε_f32·σ₁;
//  4. U_B = B·V_B·Σ⁻¹ (f64) for σ ≥ 1e-2·σ₁; smaller ones (and zeros) are orthogonalised
//     twice against all previous columns (MGS), so U stays orthonormal for rank-deficient input;
//  5. back-transform: U = Q_B·[U_B; 0], V = P_B·V_B, reflectors applied to rows in one pass.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { gemm_f32 } from "./gemm";
import { axpy_f64, dot_f64, form_qt_f32, house_f32, larf_cols_f32, larf_rows_f32, qr_rows_f32, transpose_f32 } from "./qr";
import { sort_desc_f64, tql_f64 } from "./eig";

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

/** SVD of A (m×n, m ≥ n, row-major, overwritten): writes ut (n×m: row k = u_k), s (n) and vt (n×n: row k = v_k). */
function svd_bidiag(A: usize, m: i32, n: i32, ut: usize, s: usize, vt: usize): i32 {
  const mark = scratch_mark();
  const VL = scratch_alloc(<usize>n * <usize>m * 4);
  const tauL = scratch_alloc(<usize>n << 2);
  const tauR = scratch_alloc(<usize>n << 2);
  const alpha = scratch_alloc(<usize>n << 3);
  const beta = scratch_alloc(<usize>n << 3);
  const w = scratch_alloc(<usize>n << 2);
  store<f64>(at8(beta, n - 1), 0);
  for (let i = 0; i < n; i++) {
    // left reflector from column i, rows i..m−1
    const L = m - i;
    const vl = at4(VL, i * m + i);
    for (let r = 0; r < L; r++) store<f32>(at4(vl, r), load<f32>(at4(A, (i + r) * n + i)));
    const t = house_f32(vl, L);
    store<f64>(at8(alpha, i), <f64>load<f32>(vl));
    store<f32>(vl, 1);
    store<f32>(at4(tauL, i), t);
    if (i + 1 < n) larf_cols_f32(vl, t, L, n - i - 1, at4(A, i * n + i + 1), n, w);
    // right reflector from row i, columns i+1..n−1
    if (i < n - 1) {
      const Lr = n - i - 1;
      const xr = at4(A, i * n + i + 1);
      const t2 = house_f32(xr, Lr);
      store<f64>(at8(beta, i), <f64>load<f32>(xr));
      store<f32>(xr, 1);
      store<f32>(at4(tauR, i), t2);
      if (i + 1 < m) larf_rows_f32(xr, t2, m - i - 1, Lr, at4(A, (i + 1) * n + i + 1), n);
    } else {
      store<f32>(at4(tauR, i), 0);
    }
  }
  // T = BᵀB (f64)
  const d = scratch_alloc(<usize>n << 3);
  const e = scratch_alloc(<usize>n << 3);
  for (let j = 0; j < n; j++) {
    const aj = load<f64>(at8(alpha, j));
    const bp = j > 0 ? load<f64>(at8(beta, j - 1)) : 0;
    store<f64>(at8(d, j), aj * aj + bp * bp);
    if (j < n - 1) store<f64>(at8(e, j), aj * load<f64>(at8(beta, j)));
  }
  const wv = scratch_alloc(<usize>n * <usize>n * 8);
  memory.fill(wv, 0, <usize>n * <usize>n * 8);
  for (let i = 0; i < n; i++) store<f64>(at8(wv, i * n + i), 1);
  const fails = tql_f64(d, e, n, wv, n);
  const perm = scratch_alloc(<usize>n << 2);
  sort_desc_f64(d, n, perm);
  const s0 = Math.sqrt(max(load<f64>(at8(d, load<i32>(perm))), 0));
  const tol = 1e-2 * s0;
  // U_B rows (f64), then f32 rows of ut / vt
  const wu = scratch_alloc(<usize>n * <usize>n * 8);
  let nextUnit = 0;
  for (let k = 0; k < n; k++) {
    const pk = load<i32>(perm + (<usize>k << 2));
    const sig = Math.sqrt(max(load<f64>(at8(d, pk)), 0));
    store<f32>(at4(s, k), <f32>sig);
    const x = at8(wv, pk * n);
    const y = at8(wu, k * n);
    let nrm: f64 = 0;
    for (let i = 0; i < n; i++) {
      let yi = load<f64>(at8(alpha, i)) * load<f64>(at8(x, i));
      if (i < n - 1) yi += load<f64>(at8(beta, i)) * load<f64>(at8(x, i + 1));
      store<f64>(at8(y, i), yi);
      nrm += yi * yi;
    }
    nrm = Math.sqrt(nrm);
    if (sig > tol && nrm > 0) {
      const inv = 1.0 / nrm;
      for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
    } else {
      // tiny or zero σ: orthogonalise against all previous columns; fall back to unit vectors
      let ok = false;
      if (nrm > 0) {
        const inv = 1.0 / nrm;
        for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
        ok = orth_against(wu, k, n, y) > 0.5;
      }
      while (!ok && nextUnit < n) {
        memory.fill(y, 0, <usize>n << 3);
        store<f64>(at8(y, nextUnit), 1);
        nextUnit++;
        ok = orth_against(wu, k, n, y) > 0.5;
      }
    }
  }
  // rows of ut: [U_B row k, 0], then ut ← ut·H_{n−1}⋯H_0
  for (let k = 0; k < n; k++) {
    const src = at8(wu, k * n), dst = at4(ut, k * m);
    for (let j = 0; j < n; j++) store<f32>(at4(dst, j), <f32>load<f64>(at8(src, j)));
    if (m > n) memory.fill(at4(dst, n), 0, <usize>(m - n) << 2);
  }
  for (let i = n - 1; i >= 0; i--) {
    larf_rows_f32(at4(VL, i * m + i), load<f32>(at4(tauL, i)), n, m - i, at4(ut, i), m);
  }
  // rows of vt: V_B rows, then vt ← vt·G_{n−2}⋯G_0
  for (let k = 0; k < n; k++) {
    const src = at8(wv, load<i32>(at4(perm, k)) * n), dst = at4(vt, k * n);
    for (let j = 0; j < n; j++) store<f32>(at4(dst, j), <f32>load<f64>(at8(src, j)));
  }
  for (let i = n - 2; i >= 0; i--) {
    larf_rows_f32(at4(A, i * n + i + 1), load<f32>(at4(tauR, i)), n, n - i - 1, at4(vt, i + 1), n);
  }
  scratch_reset(mark);
  return fails;
}

/** Two passes of Gram–Schmidt of the unit vector y against the k rows of q (f64, length n); normalises y, returns its norm before normalising. */
function orth_against(q: usize, k: i32, n: i32, y: usize): f64 {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < k; j++) {
      const qj = at8(q, j * n);
      axpy_f64(-dot_f64(qj, y, n), qj, y, n);
    }
  }
  const nrm = Math.sqrt(dot_f64(y, y, n));
  if (nrm > 0) {
    const inv = 1.0 / nrm;
    for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
  }
  return nrm;
}

/** SVD of a tall or square a (m×n, m ≥ n, row stride lda; untouched). u: m×n, v: n×n row-major. */
function svd_tall(a: usize, lda: i32, trans: bool, m: i32, n: i32, u: usize, s: usize, v: usize): i32 {
  const mark = scratch_mark();
  // working copy A (m×n) with a max-abs scaling so f32 intermediates never over/underflow
  const A = scratch_alloc(<usize>m * <usize>n * 4);
  if (trans) transpose_f32(a, n, m, lda, A, n);
  else for (let i = 0; i < m; i++) memory.copy(at4(A, i * n), at4(a, i * lda), <usize>n << 2);
  let amax: f32 = 0;
  const total = m * n;
  for (let i = 0; i < total; i++) amax = max(amax, Mathf.abs(load<f32>(at4(A, i))));
  const scale: f32 = amax > 0 ? <f32>1 / amax : <f32>1;
  if (amax > 0 && (amax > <f32>1e15 || amax < <f32>1e-15)) {
    for (let i = 0; i < total; i++) store<f32>(at4(A, i), load<f32>(at4(A, i)) * scale);
  }
  const unscale: f32 = amax > 0 && (amax > <f32>1e15 || amax < <f32>1e-15) ? amax : <f32>1;
  const ut = scratch_alloc(<usize>n * <usize>m * 4);
  const vt = scratch_alloc(<usize>n * <usize>n * 4);
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
    const urt = scratch_alloc(<usize>n * <usize>n * 4);
    fails = svd_bidiag(R, n, n, urt, s, vt);
    form_qt_f32(at, m, n, tau, A, m); // Qᵀ (n×m) into A's storage
    // ut (n×m) = U_Rᵀ · Qᵀ
    gemm_f32(0, 0, n, m, n, 1, urt, n, A, m, 0, ut, m);
  } else {
    fails = svd_bidiag(A, m, n, ut, s, vt);
  }
  if (unscale != 1) for (let i = 0; i < n; i++) store<f32>(at4(s, i), load<f32>(at4(s, i)) * unscale);
  transpose_f32(ut, n, m, m, u, n);
  transpose_f32(vt, n, n, n, v, n);
  scratch_reset(mark);
  return fails;
}

export function svd_f32(a: usize, m: i32, n: i32, u: usize, s: usize, v: usize): i32 {
  if (m >= n) return svd_tall(a, n, false, m, n, u, s, v);
  // wide: Aᵀ = V Σ Uᵀ
  return svd_tall(a, n, true, n, m, v, s, u);
}
