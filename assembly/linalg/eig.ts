// Symmetric eigendecomposition.
//
// AS-level entry points (callable from other assembly files):
//   eigh_f32(a, n, w, z) → fails     a: n×n symmetric row-major (untouched); w: n eigenvalues,
//                                    descending; z: n×n, eigenvector i in column i. Returns the
//                                    number of eigenvalues that did not converge (0 normally).
//   tql_f64(d, e, n, zt, nz) → fails implicit QL with Wilkinson shifts on the f64 tridiagonal
//                                    (d: n diagonal, e: n−1 off-diagonal, both destroyed; d ← eigenvalues,
//                                    unsorted); rotations are applied to the rows of zt (n rows of nz
//                                    f64 each, contiguous), zt = 0 for values only.
//   sort_desc_f64(d, n, perm)        perm (i32) ← indices of d in descending order.
//
// Design: Householder tridiagonalisation in f32 on the full symmetric matrix
// (rows contiguous, symv + rank-2 update per step), the tridiagonal problem in
// f64, eigenvectors accumulated as rows (each rotation touches two contiguous
// rows) and back-transformed by the reflectors applied to rows in one pass.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { axpy_f32, dot_f32, house_f32, larf_rows_f32, rot_f64, transpose_f32 } from "./qr";

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

@inline function hypot(a: f64, b: f64): f64 {
  const x = Math.abs(a), y = Math.abs(b);
  const big = max(x, y), small = min(x, y);
  if (big == 0) return 0;
  const r = small / big;
  return big * Math.sqrt(1 + r * r);
}

export function tql_f64(d: usize, e: usize, n: i32, zt: usize, nz: i32): i32 {
  if (n <= 1) return 0;
  // Work on a copy of e with a trailing zero: e[i] couples i and i+1.
  const mark = scratch_mark();
  const ee = scratch_alloc(<usize>n << 3);
  memory.copy(ee, e, <usize>(n - 1) << 3);
  store<f64>(at8(ee, n - 1), 0);
  const EPS: f64 = 2.220446049250313e-16;
  let fails = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m = l;
    while (true) {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(load<f64>(at8(d, m))) + Math.abs(load<f64>(at8(d, m + 1)));
        if (Math.abs(load<f64>(at8(ee, m))) <= EPS * dd) break;
      }
      if (m == l) break;
      if (iter++ >= 60) { fails++; break; }
      const dl = load<f64>(at8(d, l));
      const el = load<f64>(at8(ee, l));
      let g = (load<f64>(at8(d, l + 1)) - dl) / (2.0 * el);
      let r = hypot(g, 1.0);
      g = load<f64>(at8(d, m)) - dl + el / (g + (g >= 0 ? r : -r));
      let s: f64 = 1, c: f64 = 1, p: f64 = 0;
      let i = m - 1;
      let early = false;
      for (; i >= l; i--) {
        const ei = load<f64>(at8(ee, i));
        const f = s * ei;
        const b = c * ei;
        r = hypot(f, g);
        store<f64>(at8(ee, i + 1), r);
        if (r == 0) {
          store<f64>(at8(d, i + 1), load<f64>(at8(d, i + 1)) - p);
          store<f64>(at8(ee, m), 0);
          early = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = load<f64>(at8(d, i + 1)) - p;
        r = (load<f64>(at8(d, i)) - g) * s + 2.0 * c * b;
        p = s * r;
        store<f64>(at8(d, i + 1), g + p);
        g = c * r - b;
        if (zt != 0) {
          // columns i, i+1 of Z are rows i, i+1 of zt: z_i ← c z_i − s z_{i+1}, z_{i+1} ← s z_i + c z_{i+1}
          rot_f64(at8(zt, i * nz), at8(zt, (i + 1) * nz), nz, c, s);
        }
      }
      if (early) continue;
      store<f64>(at8(d, l), load<f64>(at8(d, l)) - p);
      store<f64>(at8(ee, l), g);
      store<f64>(at8(ee, m), 0);
    }
  }
  scratch_reset(mark);
  return fails;
}

/** perm ← indices 0..n−1 ordered by d descending (insertion into a merge sort would be faster; n log n via shell sort). */
export function sort_desc_f64(d: usize, n: i32, perm: usize): void {
  for (let i = 0; i < n; i++) store<i32>(at4(perm, i), i);
  let gap = 1;
  while (gap < n / 3) gap = gap * 3 + 1;
  while (gap >= 1) {
    for (let i = gap; i < n; i++) {
      const pi = load<i32>(at4(perm, i));
      const v = load<f64>(at8(d, pi));
      let j = i;
      while (j >= gap) {
        const pj = load<i32>(at4(perm, j - gap));
        if (load<f64>(at8(d, pj)) >= v) break;
        store<i32>(at4(perm, j), pj);
        j -= gap;
      }
      store<i32>(at4(perm, j), pi);
    }
    gap = (gap - 1) / 3;
  }
}

/**
 * Householder tridiagonalisation of the symmetric n×n matrix in A (row-major,
 * overwritten). On return d (f64, n) and e (f64, n−1) hold T; the reflector for
 * step i is stored in row i, columns i+1..n−1 (v[0] = 1 stored), with τ in tau[i].
 */
export function tridiag_f32(A: usize, n: i32, d: usize, e: usize, tau: usize): void {
  const mark = scratch_mark();
  const p = scratch_alloc(<usize>n << 2);
  for (let i = 0; i < n; i++) {
    store<f64>(at8(d, i), <f64>load<f32>(at4(A, i * n + i)));
    if (i == n - 1) break;
    const L = n - i - 1;
    const x = at4(A, i * n + i + 1);
    const t = house_f32(x, L);
    store<f64>(at8(e, i), <f64>load<f32>(x));
    store<f32>(at4(tau, i), t);
    store<f32>(x, 1);
    if (t == 0) continue;
    const S = at4(A, (i + 1) * n + i + 1);
    // p = τ S v ; w = p − (τ/2)(pᵀv) v ; S ← S − v wᵀ − w vᵀ
    for (let r = 0; r < L; r++) store<f32>(at4(p, r), t * dot_f32(at4(S, r * n), x, L));
    const K = <f32>0.5 * t * dot_f32(p, x, L);
    axpy_f32(-K, x, p, L);
    for (let r = 0; r < L; r++) {
      const row = at4(S, r * n);
      axpy_f32(-load<f32>(at4(x, r)), p, row, L);
      axpy_f32(-load<f32>(at4(p, r)), x, row, L);
    }
  }
  scratch_reset(mark);
}

export function eigh_f32(a: usize, n: i32, w: usize, z: usize): i32 {
  const mark = scratch_mark();
  const A = scratch_alloc(<usize>n * <usize>n * 4);
  memory.copy(A, a, <usize>n * <usize>n * 4);
  const d = scratch_alloc(<usize>n << 3);
  const e = scratch_alloc(<usize>n << 3);
  const tau = scratch_alloc(<usize>n << 2);
  tridiag_f32(A, n, d, e, tau);
  const zt = scratch_alloc(<usize>n * <usize>n * 8);
  memory.fill(zt, 0, <usize>n * <usize>n * 8);
  for (let i = 0; i < n; i++) store<f64>(at8(zt, i * n + i), 1);
  const fails = tql_f64(d, e, n, zt, n);
  const perm = scratch_alloc(<usize>n << 2);
  sort_desc_f64(d, n, perm);
  // Rows of zt32 = eigenvectors of T in descending order.
  const zt32 = scratch_alloc(<usize>n * <usize>n * 4);
  for (let k = 0; k < n; k++) {
    const pk = load<i32>(at4(perm, k));
    store<f32>(at4(w, k), <f32>load<f64>(at8(d, pk)));
    const src = at8(zt, pk * n), dst = at4(zt32, k * n);
    for (let j = 0; j < n; j++) store<f32>(at4(dst, j), <f32>load<f64>(at8(src, j)));
  }
  // zᵀ = yᵀ H_{n−2} ⋯ H_0
  for (let i = n - 2; i >= 0; i--) {
    larf_rows_f32(at4(A, i * n + i + 1), load<f32>(at4(tau, i)), n, n - i - 1, at4(zt32, i + 1), n);
  }
  transpose_f32(zt32, n, n, n, z, n);
  scratch_reset(mark);
  return fails;
}
