// Helpers for spectra of unfoldings: orthonormalising a block of columns
// (random orthonormal starts), the Gram matrix of an unfolding accumulated in
// f64, and eigenvalues only of a symmetric f64 matrix (rank selection needs
// the small singular values accurately, so it does not go through f32).
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

@inline function ld64(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
@inline function st64(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/**
 * Orthonormalise the k columns of y (n×k, row-major, ld = k) in place by
 * modified Gram–Schmidt applied twice, in f64. A column that is (numerically)
 * in the span of the previous ones is replaced by the first unit vector e_j
 * that is not, so the result always has k orthonormal columns (k ≤ n).
 */
export function orthonormalize_f32(y: usize, n: i32, k: i32): void {
  const mark = scratch_mark();
  const q = scratch_alloc(<usize>n * <usize>k * 8); // column-major f64 copy: column c at q + c·n
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) st64(q, c * n + i, <f64>load<f32>(y + (<usize>(i * k + c) << 2)));
  let nextUnit = 0;
  for (let c = 0; c < k; c++) {
    const qc = q + (<usize>(c * n) << 3);
    let orig: f64 = 0;
    for (let i = 0; i < n; i++) orig += ld64(qc, i) * ld64(qc, i);
    orig = Math.sqrt(orig);
    let tries = 0;
    while (true) {
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < c; p++) {
          const qp = q + (<usize>(p * n) << 3);
          let d: f64 = 0;
          for (let i = 0; i < n; i++) d += ld64(qp, i) * ld64(qc, i);
          for (let i = 0; i < n; i++) st64(qc, i, ld64(qc, i) - d * ld64(qp, i));
        }
      }
      let nrm: f64 = 0;
      for (let i = 0; i < n; i++) nrm += ld64(qc, i) * ld64(qc, i);
      nrm = Math.sqrt(nrm);
      if (nrm > 1e-6 * orig && nrm > 1e-300) {
        const inv = 1.0 / nrm;
        for (let i = 0; i < n; i++) st64(qc, i, ld64(qc, i) * inv);
        break;
      }
      // deficient: restart from a unit vector
      if (tries++ > n) break;
      for (let i = 0; i < n; i++) st64(qc, i, 0);
      st64(qc, nextUnit % n, 1);
      nextUnit++;
      orig = 1;
    }
  }
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) store<f32>(y + (<usize>(i * k + c) << 2), <f32>ld64(q, c * n + i));
  scratch_reset(mark);
}

/**
 * Gram matrix X_(n)·X_(n)ᵀ in f64 (out: I×I f64) for x viewed as (A, I, B):
 * used where small singular values matter (rank selection), not on hot paths.
 */
export function unfold_gram_f64(x: usize, A: i32, I: i32, B: i32, out: usize): void {
  memory.fill(out, 0, <usize>I * <usize>I * 8);
  for (let a = 0; a < A; a++) {
    const xa = x + (<usize>(a * I * B) << 2);
    for (let i = 0; i < I; i++) {
      const ri = xa + (<usize>(i * B) << 2);
      for (let j = 0; j <= i; j++) {
        const rj = xa + (<usize>(j * B) << 2);
        let s: f64 = 0;
        for (let b = 0; b < B; b++) s += <f64>load<f32>(ri + (<usize>b << 2)) * <f64>load<f32>(rj + (<usize>b << 2));
        st64(out, i * I + j, ld64(out, i * I + j) + s);
      }
    }
  }
  for (let i = 0; i < I; i++) for (let j = i + 1; j < I; j++) st64(out, i * I + j, ld64(out, j * I + i));
}

/**
 * Eigenvalues (descending, f64) of a symmetric n×n f64 matrix a (destroyed):
 * Householder tridiagonalisation, then implicit QL (EISPACK tred1/tql1 style).
 */
export function sym_eigvals_f64(a: usize, n: i32, values: usize): void {
  const mark = scratch_mark();
  const e = scratch_alloc(<usize>n * 8);
  const d = values;
  // Householder reduction to tridiagonal form (lower triangle used), from JAMA tred2 without vectors.
  for (let j = 0; j < n; j++) st64(d, j, ld64(a, (n - 1) * n + j));
  for (let i = n - 1; i > 0; i--) {
    let scale: f64 = 0, h: f64 = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(ld64(d, k));
    if (scale == 0) {
      st64(e, i, ld64(d, i - 1));
      for (let j = 0; j < i; j++) {
        st64(d, j, ld64(a, (i - 1) * n + j));
        st64(a, i * n + j, 0);
        st64(a, j * n + i, 0);
      }
    } else {
      for (let k = 0; k < i; k++) { st64(d, k, ld64(d, k) / scale); h += ld64(d, k) * ld64(d, k); }
      let f = ld64(d, i - 1);
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      st64(e, i, scale * g);
      h = h - f * g;
      st64(d, i - 1, f - g);
      for (let j = 0; j < i; j++) st64(e, j, 0);
      for (let j = 0; j < i; j++) {
        f = ld64(d, j);
        st64(a, j * n + i, f);
        g = ld64(e, j) + ld64(a, j * n + j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += ld64(a, k * n + j) * ld64(d, k);
          st64(e, k, ld64(e, k) + ld64(a, k * n + j) * f);
        }
        st64(e, j, g);
      }
      f = 0;
      for (let j = 0; j < i; j++) { st64(e, j, ld64(e, j) / h); f += ld64(e, j) * ld64(d, j); }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) st64(e, j, ld64(e, j) - hh * ld64(d, j));
      for (let j = 0; j < i; j++) {
        f = ld64(d, j);
        g = ld64(e, j);
        for (let k = j; k <= i - 1; k++) st64(a, k * n + j, ld64(a, k * n + j) - (f * ld64(e, k) + g * ld64(d, k)));
        st64(d, j, ld64(a, (i - 1) * n + j));
        st64(a, i * n + j, 0);
      }
    }
    st64(d, i, h);
  }
  // d now holds the diagonal of T after this fix-up (JAMA accumulates transformations; without vectors the diagonal is a[i][i]).
  for (let i = 0; i < n; i++) st64(d, i, ld64(a, i * n + i));
  // QL iteration on (d, e) (JAMA tql2 without vectors).
  for (let i = 1; i < n; i++) st64(e, i - 1, ld64(e, i));
  if (n > 0) st64(e, n - 1, 0);
  let f: f64 = 0, tst1: f64 = 0;
  const eps = Math.pow(2.0, -52.0);
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(ld64(d, l)) + Math.abs(ld64(e, l)));
    let m = l;
    while (m < n) {
      if (Math.abs(ld64(e, m)) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        iter++;
        let g = ld64(d, l);
        let p = (ld64(d, l + 1) - g) / (2.0 * ld64(e, l));
        let r = Math.hypot(p, 1.0);
        if (p < 0) r = -r;
        st64(d, l, ld64(e, l) / (p + r));
        st64(d, l + 1, ld64(e, l) * (p + r));
        const dl1 = ld64(d, l + 1);
        let h = g - ld64(d, l);
        for (let i = l + 2; i < n; i++) st64(d, i, ld64(d, i) - h);
        f += h;
        p = ld64(d, m);
        let c: f64 = 1, c2: f64 = 1, c3: f64 = 1;
        const el1 = ld64(e, l + 1);
        let s: f64 = 0, s2: f64 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2; c2 = c; s2 = s;
          g = c * ld64(e, i);
          h = c * p;
          r = Math.hypot(p, ld64(e, i));
          st64(e, i + 1, s * r);
          s = ld64(e, i) / r;
          c = p / r;
          p = c * ld64(d, i) - s * g;
          st64(d, i + 1, h + s * (c * g + s * ld64(d, i)));
        }
        p = -s * s2 * c3 * el1 * ld64(e, l) / dl1;
        st64(e, l, s * p);
        st64(d, l, c * p);
      } while (Math.abs(ld64(e, l)) > eps * tst1 && iter < 60);
    }
    st64(d, l, ld64(d, l) + f);
    st64(e, l, 0);
  }
  // sort descending
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = ld64(d, i);
    for (let j = i + 1; j < n; j++) if (ld64(d, j) > p) { k = j; p = ld64(d, j); }
    if (k != i) { st64(d, k, ld64(d, i)); st64(d, i, p); }
  }
  scratch_reset(mark);
}
