// Symmetric eigendecomposition.
//
// Entry points (the first three are also kernel exports, see assembly/index.ts):
//   eigh_f32(a, n, w, z) → fails     a: n×n symmetric row-major (untouched); w: n eigenvalues,
//                                    descending; z: n×n, eigenvector i in column i. Returns the
//                                    number of eigenvalues that did not converge (0 normally).
//   eigh_top_f32(a, n, nv, w, z) → fails   the same with only the top nv eigenvectors (z: n×nv).
//   eigh_batch_f32(count, desc) → fails    count independent eigh_top_f32 solves, one per thread.
//   tridiag_f32(A, n, d, e, tau)     Householder tridiagonalisation in place (reflectors kept in A's rows).
//   tridiag_eig_f64(d, e, n, lam, zt) → fails   eigenpairs of an f64 tridiagonal (d: n, e: n−1, kept):
//                                    lam descending, row k of zt (n×n f64) = eigenvector k;
//                                    tridiag_eig_top_f64 for the top nv eigenvectors only.
//   tql_f64(d, e, n, zt, nz) → fails implicit QL with Wilkinson shifts (d ← eigenvalues, unsorted; e kept);
//                                    rotations applied to the rows of zt (nz f64 each), zt = 0 for values only.
//   sort_desc_f64(d, n, perm)        perm (i32) ← indices of d in descending order.
//
// Design: Householder tridiagonalisation in f32 on the full symmetric matrix (rows
// contiguous; one fused pass per step: rank-2 update + the next step's symv), then the
// tridiagonal problem in f64: eigenvalues by QL without vectors on each unreduced block
// (blocks of DC_MIN or more: one divide-and-conquer split, the halves' QL side by side,
// assembly/linalg/tridiag_dc.ts),
// eigenvectors by inverse iteration (O(n²), Gram–Schmidt only inside clusters of close
// eigenvalues), back-transformed by the reflectors in compact-WY blocks (gemm).
import { scratch_alloc, scratch_try_alloc, scratch_arena, scratch_mark, scratch_reset } from "../mem";
import { JOB_EIGH, JOB_INVIT, JOB_TRIDIAG, arg_f32, arg_i32, in_worker, par_claim, par_run, par_threads, set_arg_f32, set_arg_i32 } from "../threads";
import { tri_values_dc_f64 } from "./tridiag_dc";
import { apply_reflectors_rows_f32, axpy_f32, axpy_f64, dot_f32, dot_f64, house_f32, rot_f64, transpose_f32 } from "./qr";

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
  // deflate when e is negligible next to its neighbours or to ‖T‖ (absolute accuracy ε·‖T‖;
  // the purely relative test can stall on clusters of eigenvalues at rounding level)
  let tnorm: f64 = 0;
  for (let i = 0; i < n; i++) tnorm = max(tnorm, Math.abs(load<f64>(at8(d, i))) + Math.abs(load<f64>(at8(ee, i))));
  const small = EPS * tnorm;
  let fails = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m = l;
    while (true) {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(load<f64>(at8(d, m))) + Math.abs(load<f64>(at8(d, m + 1)));
        const em = Math.abs(load<f64>(at8(ee, m)));
        if (em <= EPS * dd || em <= small) break;
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
        // √(f² + g²) directly where the squares cannot over- or underflow (one sqrt on the
        // sweep's serial chain instead of hypot's division and sqrt)
        const ff = f * f + g * g;
        r = ff > 1e-280 && ff < 1e280 ? Math.sqrt(ff) : hypot(f, g);
        store<f64>(at8(ee, i + 1), r);
        if (r == 0) {
          store<f64>(at8(d, i + 1), load<f64>(at8(d, i + 1)) - p);
          store<f64>(at8(ee, m), 0);
          early = true;
          break;
        }
        const ir = 1.0 / r;
        s = f * ir;
        c = g * ir;
        g = load<f64>(at8(d, i + 1)) - p;
        r = (load<f64>(at8(d, i)) - g) * s + 2.0 * c * b;
        p = s * r;
        store<f64>(at8(d, i + 1), g + p);
        g = c * r - b;
        if (zt != 0) {
          // columns i, i+1 of Z are rows i, i+1 of zt: z_i ← c z_i − s z_{i+1}, z_{i+1} ← s z_i + c z_{i+1}
          if (nz == 1) {
            // one tracked row (tridiag_dc.ts): inline, off the sweep's serial chain
            const zi = load<f64>(at8(zt, i)), zn = load<f64>(at8(zt, i + 1));
            store<f64>(at8(zt, i), c * zi - s * zn);
            store<f64>(at8(zt, i + 1), s * zi + c * zn);
          } else {
            rot_f64(at8(zt, i * nz), at8(zt, (i + 1) * nz), nz, c, s);
          }
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

/**
 * Eigen-decomposition of the symmetric tridiagonal (diag, off) in f64: values
 * by implicit QL without vectors on each unreduced block, vectors by inverse
 * iteration (tridiagonal LU with partial pivoting, three solves) with
 * Gram–Schmidt inside clusters of close eigenvalues (gap ≤ 1e-7·‖T‖). O(n²)
 * except for large clusters. On return lam[k] (descending) and row k of zt
 * (n f64, contiguous) hold the k-th eigenpair. diag/off are not modified.
 */
export function tridiag_eig_f64(diag: usize, off: usize, n: i32, lam: usize, zt: usize): i32 {
  return tridiag_eig_top_f64(diag, off, n, n, lam, zt);
}

/**
 * tridiag_eig_f64 with eigenvectors only for the nv largest eigenvalues: zt has nv rows
 * (row k = eigenvector k). Each vector's random start comes from its own seed, so each
 * computed vector equals the one tridiag_eig_f64 gives (unless ties put a skipped vector
 * inside a cluster: then it is left out of the cluster's Gram–Schmidt, which only matters
 * between computed vectors).
 */
export function tridiag_eig_top_f64(diag: usize, off: usize, n: i32, nv: i32, lam: usize, zt: usize): i32 {
  const mark = scratch_mark();
  const EPS: f64 = 2.220446049250313e-16;
  const dd = scratch_alloc(<usize>n << 3);
  const ee = scratch_alloc(<usize>n << 3);
  const vals = scratch_alloc(<usize>n << 3);
  const perm = scratch_alloc(<usize>n << 2);
  const rowOf = scratch_alloc(<usize>n << 2);
  const bend = scratch_alloc(<usize>n << 2);
  const tnorm = tridiagNorm(diag, off, n);
  const ortol = 1e-7 * tnorm;
  let fails = 0;
  // phase 1: eigenvalues of each unreduced block, descending within the block, in vals[b0..b1)
  let b0 = 0;
  while (b0 < n) {
    let b1 = b0 + 1;
    while (b1 < n) {
      const e = load<f64>(at8(off, b1 - 1));
      if (Math.abs(e) <= EPS * (Math.abs(load<f64>(at8(diag, b1 - 1))) + Math.abs(load<f64>(at8(diag, b1)))) || Math.abs(e) <= EPS * tnorm) break;
      b1++;
    }
    store<i32>(at4(bend, b0), b1);
    const bn = b1 - b0;
    if (bn == 1) {
      store<f64>(at8(vals, b0), load<f64>(at8(diag, b0)));
    } else {
      memory.copy(dd, at8(diag, b0), <usize>bn << 3);
      memory.copy(ee, at8(off, b0), <usize>(bn - 1) << 3);
      fails += tri_values_dc_f64(dd, ee, bn);
      sort_desc_f64(dd, bn, perm);
      for (let k = 0; k < bn; k++) store<f64>(at8(vals, b0 + k), load<f64>(at8(dd, load<i32>(at4(perm, k)))));
    }
    b0 = b1;
  }
  // global order: value id → output row
  sort_desc_f64(vals, n, perm);
  for (let k = 0; k < n; k++) {
    const id = load<i32>(at4(perm, k));
    store<i32>(at4(rowOf, id), k);
    store<f64>(at8(lam, k), load<f64>(at8(vals, id)));
  }
  // phase 2: vectors by inverse iteration, written straight into their output rows. Value
  // id g = b0 + k (block order). Each vector depends only on its own seed and, inside a
  // cluster of close values, on the cluster's earlier vectors; so the ids are cut into
  // INV_CHUNKS fixed ranges that start at cluster (or block) starts, and the threads claim
  // chunks one at a time. The cuts depend on the values only: same result for any thread count.
  const blk = scratch_alloc(<usize>n << 2); // value id → its block's start
  const cut = scratch_alloc(<usize>(INV_CHUNKS + 1) << 2);
  b0 = 0;
  while (b0 < n) {
    const b1 = load<i32>(at4(bend, b0));
    for (let g = b0; g < b1; g++) store<i32>(at4(blk, g), b0);
    b0 = b1;
  }
  store<i32>(cut, 0);
  for (let c = 1; c <= INV_CHUNKS; c++) {
    let g = max(<i32>(<i64>n * c / INV_CHUNKS), load<i32>(at4(cut, c - 1)));
    // move forward to the next cluster start (a block start, or a gap > ortol to the value before)
    while (g < n && g > 0 && load<i32>(at4(blk, g)) != g && load<f64>(at8(vals, g - 1)) - load<f64>(at8(vals, g)) <= ortol) g++;
    store<i32>(at4(cut, c), g);
  }
  // per part: u0, u1, u2, ll (f64) and swp (i32), n each
  const parts = n >= INV_PAR_N ? min(par_threads(), INV_CHUNKS) : 1;
  const wstride = <usize>n * 36 + 64;
  const work = scratch_alloc(wstride * <usize>parts);
  const claim = scratch_alloc(16);
  store<i32>(claim, 0);
  if (parts > 1) {
    set_arg_i32(I_DIAG, <i32>diag); set_arg_i32(I_OFF, <i32>off); set_arg_i32(I_N, n); set_arg_i32(I_NV, nv);
    set_arg_i32(I_ZT, <i32>zt); set_arg_i32(I_VALS, <i32>vals); set_arg_i32(I_ROWOF, <i32>rowOf); set_arg_i32(I_BEND, <i32>bend);
    set_arg_i32(I_BLK, <i32>blk); set_arg_i32(I_CUT, <i32>cut); set_arg_i32(I_WORK, <i32>work); set_arg_i32(I_WSTRIDE, <i32>wstride);
    set_arg_i32(I_CLAIM, <i32>claim);
    par_run(JOB_INVIT, parts);
  } else {
    for (let c = 0; c < INV_CHUNKS; c++) {
      invitRange(diag, off, n, nv, zt, vals, rowOf, bend, blk, load<i32>(at4(cut, c)), load<i32>(at4(cut, c + 1)), work);
    }
  }
  scratch_reset(mark);
  return fails;
}

/** Fixed number of ranges the inverse-iteration vectors are cut into (independent of the pool size). */
const INV_CHUNKS = 16;
/** Below this n the vectors cost less than waking the pool. */
const INV_PAR_N = 96;
const I_DIAG = 0, I_OFF = 1, I_N = 2, I_NV = 3, I_ZT = 4, I_VALS = 5, I_ROWOF = 6, I_BEND = 7, I_BLK = 8, I_CUT = 9, I_WORK = 10, I_WSTRIDE = 11, I_CLAIM = 12;

/** Part `part` of a JOB_INVIT job: the chunks it claims, with the part's own work space. */
export function invit_part(part: i32): void {
  const cut = <usize>arg_i32(I_CUT), claim = <usize>arg_i32(I_CLAIM);
  const work = <usize>arg_i32(I_WORK) + <usize>part * <usize>arg_i32(I_WSTRIDE);
  for (let c = par_claim(claim); c < INV_CHUNKS; c = par_claim(claim)) {
    invitRange(<usize>arg_i32(I_DIAG), <usize>arg_i32(I_OFF), arg_i32(I_N), arg_i32(I_NV), <usize>arg_i32(I_ZT), <usize>arg_i32(I_VALS),
      <usize>arg_i32(I_ROWOF), <usize>arg_i32(I_BEND), <usize>arg_i32(I_BLK), load<i32>(at4(cut, c)), load<i32>(at4(cut, c + 1)), work);
  }
}

/** Start seed of value id g's random vectors (a 32-bit hash of g; never 0, xorshift's fixed point). */
@inline function seedOf(g: i32): u32 {
  let h = <u32>g * 0x9e3779b9 + 0x7f4a7c15;
  h ^= h >> 16; h *= 0x85ebca6b; h ^= h >> 13; h *= 0xc2b2ae35; h ^= h >> 16;
  return h == 0 ? 1 : h;
}

/**
 * Inverse-iteration vectors for value ids g0…g1−1 (g0 starts a cluster). LU of (T_block − shift·I)
 * with partial pivoting, two solves from a seeded random start, Gram–Schmidt against the
 * cluster's earlier vectors; close values get shifts pushed apart by pertol.
 */
function invitRange(diag: usize, off: usize, n: i32, nv: i32, zt: usize, vals: usize, rowOf: usize, bend: usize, blk: usize, g0: i32, g1: i32, work: usize): void {
  if (g0 >= g1) return;
  const u0 = work, u1 = work + (<usize>n << 3), u2 = work + (<usize>n << 4), ll = work + <usize>n * 24;
  const swp = work + (<usize>n << 5);
  const EPS: f64 = 2.220446049250313e-16;
  const tnorm = tridiagNorm(diag, off, n);
  const ortol = 1e-7 * tnorm, pertol = 10 * EPS * tnorm, tiny = EPS * tnorm;
  let cstart = 0;
  let prev: f64 = 0;
  for (let g = g0; g < g1; g++) {
    const b0 = load<i32>(at4(blk, g));
    const bn = load<i32>(at4(bend, b0)) - b0;
    const k = g - b0;
    const out = load<i32>(at4(rowOf, g));
    const wanted = out < nv;
    const row = at8(zt, out * n);
    if (wanted) memory.fill(row, 0, <usize>n << 3);
    if (bn == 1) {
      if (wanted) store<f64>(at8(row, b0), 1);
      continue;
    }
    const lk = load<f64>(at8(vals, g));
    let shift = lk;
    if (k == 0 || g == g0 || load<f64>(at8(vals, g - 1)) - lk > ortol) cstart = k;
    if (k > cstart && shift >= prev - pertol) shift = prev - pertol;
    prev = shift;
    if (!wanted) continue;
    let p0 = load<f64>(at8(diag, b0)) - shift;
    let p1 = load<f64>(at8(off, b0));
    for (let i = 0; i < bn - 1; i++) {
      const c = load<f64>(at8(off, b0 + i));
      const a1 = load<f64>(at8(diag, b0 + i + 1)) - shift;
      const bb = i + 1 < bn - 1 ? load<f64>(at8(off, b0 + i + 1)) : 0;
      if (Math.abs(p0) >= Math.abs(c)) {
        if (p0 == 0) p0 = tiny;
        const l = c / p0;
        store<f64>(at8(u0, i), 1.0 / p0); store<f64>(at8(u1, i), p1); store<f64>(at8(u2, i), 0);
        store<f64>(at8(ll, i), l); store<i32>(at4(swp, i), 0);
        p0 = a1 - l * p1;
        p1 = bb;
      } else {
        const l = p0 / c;
        store<f64>(at8(u0, i), 1.0 / c); store<f64>(at8(u1, i), a1); store<f64>(at8(u2, i), bb);
        store<f64>(at8(ll, i), l); store<i32>(at4(swp, i), 1);
        p0 = p1 - l * a1;
        p1 = -l * bb;
      }
    }
    if (Math.abs(p0) < tiny) p0 = p0 < 0 ? -tiny : tiny;
    store<f64>(at8(u0, bn - 1), 1.0 / p0);
    const x = at8(row, b0);
    let seed = seedOf(g);
    for (let i = 0; i < bn; i++) {
      seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
      store<f64>(at8(x, i), <f64>seed / 4294967296.0 - 0.5);
    }
    for (let it = 0; it < 2; it++) {
      for (let i = 0; i < bn - 1; i++) {
        let xi = load<f64>(at8(x, i)), xn = load<f64>(at8(x, i + 1));
        if (load<i32>(at4(swp, i))) { const t = xi; xi = xn; xn = t; store<f64>(at8(x, i), xi); }
        store<f64>(at8(x, i + 1), xn - load<f64>(at8(ll, i)) * xi);
      }
      let x1: f64 = 0, x2: f64 = 0, big: f64 = 0;
      for (let i = bn - 1; i >= 0; i--) {
        const v = (load<f64>(at8(x, i)) - load<f64>(at8(u1, i)) * x1 - load<f64>(at8(u2, i)) * x2) * load<f64>(at8(u0, i));
        store<f64>(at8(x, i), v);
        x2 = x1; x1 = v;
        const av = Math.abs(v);
        if (av > big) {
          big = av;
          if (big > 1e250) {
            // rescale everything (solved part and right-hand side alike) to avoid overflow
            for (let j = 0; j < bn; j++) store<f64>(at8(x, j), load<f64>(at8(x, j)) * 1e-250);
            x1 *= 1e-250; x2 *= 1e-250; big *= 1e-250;
          }
        }
      }
      if (big > 0) {
        const inv = 1.0 / big;
        for (let i = 0; i < bn; i++) store<f64>(at8(x, i), load<f64>(at8(x, i)) * inv);
      }
      for (let j = cstart; j < k; j++) {
        const oj = load<i32>(at4(rowOf, b0 + j));
        if (oj >= nv) continue;
        const q = at8(zt, oj * n + b0);
        axpy_f64(-dot_f64(q, x, bn), q, x, bn);
      }
      const nrm = Math.sqrt(dot_f64(x, x, bn));
      if (nrm > 0) {
        const inv = 1.0 / nrm;
        for (let i = 0; i < bn; i++) store<f64>(at8(x, i), load<f64>(at8(x, i)) * inv);
      } else {
        for (let i = 0; i < bn; i++) {
          seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
          store<f64>(at8(x, i), <f64>seed / 4294967296.0 - 0.5);
        }
      }
    }
  }
}

/** perm ← indices 0..n−1 ordered by d descending (Shell sort, no allocation). */
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
 * One fused pass per step: the rank-2 update of each trailing row is followed at
 * once by its dot with the next reflector (the next step's symv).
 */
export function tridiag_f32(A: usize, n: i32, d: usize, e: usize, tau: usize): void {
  if (n == 1) {
    store<f64>(d, <f64>load<f32>(A));
    return;
  }
  const mark = scratch_mark();
  let p = scratch_alloc(<usize>n << 2);
  let pn = scratch_alloc(<usize>n << 2);
  // first reflector and its symv
  {
    const L = n - 1;
    const v = at4(A, 1);
    const t = house_f32(v, L);
    store<f64>(at8(e, 0), <f64>load<f32>(v));
    store<f32>(at4(tau, 0), t);
    store<f32>(v, 1);
    for (let r = 0; r < L; r++) store<f32>(at4(p, r), t == 0 ? <f32>0 : t * dot_f32(at4(A, (1 + r) * n + 1), v, L));
  }
  for (let i = 0; i < n - 1; i++) {
    const L = n - i - 1;
    const v = at4(A, i * n + i + 1);
    const t = load<f32>(at4(tau, i));
    store<f64>(at8(d, i), <f64>load<f32>(at4(A, i * n + i)));
    if (t != 0) {
      // w = p − (τ/2)(pᵀv) v, in place in p
      const K = <f32>0.5 * t * dot_f32(p, v, L);
      axpy_f32(-K, v, p, L);
    }
    const row0 = at4(A, (i + 1) * n + i + 1);
    if (t != 0) {
      axpy_f32(-1, p, row0, L);
      axpy_f32(-load<f32>(p), v, row0, L);
    }
    if (L == 1) break;
    // next reflector from row i+1, columns i+2..
    const v2 = at4(row0, 1);
    const t2 = house_f32(v2, L - 1);
    store<f64>(at8(e, i + 1), <f64>load<f32>(v2));
    store<f32>(at4(tau, i + 1), t2);
    store<f32>(v2, 1);
    // trailing rows 1…L−1: independent of each other, split over the pool when large enough
    const parts = <i32>min<i64>(par_threads(), (<i64>L * L) >> TRIDIAG_SPLIT_SHIFT);
    if (parts > 1) {
      set_arg_i32(T_A, <i32>A); set_arg_i32(T_N, n); set_arg_i32(T_I, i); set_arg_i32(T_L, L);
      set_arg_f32(T_T, t); set_arg_f32(T_T2, t2);
      set_arg_i32(T_V, <i32>v); set_arg_i32(T_P, <i32>p); set_arg_i32(T_PN, <i32>pn); set_arg_i32(T_V2, <i32>v2);
      set_arg_i32(T_PARTS, parts);
      par_run(JOB_TRIDIAG, parts);
    } else {
      tridiagRows(A, n, i, L, t, t2, v, p, pn, v2, 1, L);
    }
    const tmp = p; p = pn; pn = tmp;
  }
  store<f64>(at8(d, n - 1), <f64>load<f32>(at4(A, (n - 1) * n + n - 1)));
  scratch_reset(mark);
}

/** A step's trailing rows are split into at most L²/2^TRIDIAG_SPLIT_SHIFT parts (L² ≥ 32K for two). At 16
 *  (L ≥ 362 for two parts) a 512×512 solve ran mostly serial; with only the taking-part workers
 *  acknowledging a job (threads.ts), steps down to L ≈ 180 pay for a split. */
const TRIDIAG_SPLIT_SHIFT = 14;
const T_A = 0, T_N = 1, T_I = 2, T_L = 3, T_T = 4, T_T2 = 5, T_V = 6, T_P = 7, T_PN = 8, T_V2 = 9, T_PARTS = 10;

/** Part `part` of a JOB_TRIDIAG job: a contiguous range of the trailing rows. */
export function tridiag_part(part: i32): void {
  const L = arg_i32(T_L), parts = arg_i32(T_PARTS);
  tridiagRows(<usize>arg_i32(T_A), arg_i32(T_N), arg_i32(T_I), L, arg_f32(T_T), arg_f32(T_T2),
    <usize>arg_i32(T_V), <usize>arg_i32(T_P), <usize>arg_i32(T_PN), <usize>arg_i32(T_V2),
    1 + <i32>(<i64>(L - 1) * part / parts), 1 + <i32>(<i64>(L - 1) * (part + 1) / parts));
}

/** Rows r0…r1−1 of a tridiagonalisation step: rank-2 update, then the next reflector's symv entry. */
function tridiagRows(A: usize, n: i32, i: i32, L: i32, t: f32, t2: f32, v: usize, p: usize, pn: usize, v2: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const row = at4(A, (i + 1 + r) * n + i + 1);
    if (t != 0) {
      axpy_f32(-load<f32>(at4(v, r)), p, row, L);
      axpy_f32(-load<f32>(at4(p, r)), v, row, L);
    }
    store<f32>(at4(pn, r - 1), t2 == 0 ? <f32>0 : t2 * dot_f32(at4(row, 1), v2, L - 1));
  }
}

export function eigh_f32(a: usize, n: i32, w: usize, z: usize): i32 {
  return eigh_top_f32(a, n, n, w, z);
}

/**
 * eigh_f32 with only the eigenvectors of the nv largest eigenvalues (1 ≤ nv ≤ n): w gets
 * all n eigenvalues (descending), z is n×nv (eigenvector i in column i). Inverse iteration
 * and the back-transform run for those nv vectors only; the vectors equal eigh_f32's first
 * nv columns (see tridiag_eig_top_f64 for the rare exceptions).
 */
export function eigh_top_f32(a: usize, n: i32, nv: i32, w: usize, z: usize): i32 {
  if (nv < 1 || nv > n) nv = n;
  const mark = scratch_mark();
  const A = scratch_alloc(<usize>n * <usize>n * 4);
  memory.copy(A, a, <usize>n * <usize>n * 4);
  // scale extreme magnitudes to ≈ 1 so f32 intermediates cannot over/underflow
  const total = n * n;
  let amax: f32 = 0;
  for (let i = 0; i < total; i++) amax = max(amax, Mathf.abs(load<f32>(at4(A, i))));
  const scaled = amax > 0 && (amax > <f32>1e15 || amax < <f32>1e-15);
  if (scaled) {
    const sc = <f32>1 / amax;
    for (let i = 0; i < total; i++) store<f32>(at4(A, i), load<f32>(at4(A, i)) * sc);
  }
  const d = scratch_alloc(<usize>n << 3);
  const e = scratch_alloc(<usize>n << 3);
  const tau = scratch_alloc(<usize>n << 2);
  tridiag_f32(A, n, d, e, tau);
  const zt = scratch_alloc(<usize>nv * <usize>n * 8);
  const lam = scratch_alloc(<usize>n << 3);
  const fails = tridiag_eig_top_f64(d, e, n, nv, lam, zt);
  for (let k = 0; k < n; k++) store<f32>(at4(w, k), <f32>(load<f64>(at8(lam, k)) * (scaled ? <f64>amax : 1.0)));
  // Rows of zt32 = eigenvectors of T in descending order.
  const zt32 = scratch_alloc(<usize>nv * <usize>n * 4);
  for (let k = 0; k < nv; k++) {
    const src = at8(zt, k * n), dst = at4(zt32, k * n);
    for (let j = 0; j < n; j++) store<f32>(at4(dst, j), <f32>load<f64>(at8(src, j)));
  }
  // zᵀ = yᵀ H_{n−2} ⋯ H_0
  if (n > 1) apply_reflectors_rows_f32(A, n, 1, n - 1, tau, zt32, nv, n, n, false);
  transpose_f32(zt32, nv, n, n, z, nv);
  scratch_reset(mark);
  return fails;
}

// ---- several eigensolves at once (one per thread) -------------------------------
// The decompositions need the eigenvectors of several independent Gram matrices (one per
// Tucker mode). The tridiagonalisation and the tridiagonal solve are serial, so instead of
// splitting one solve, each thread runs whole solves: record i goes to part i mod parts.
// A worker solves in an arena of the caller's scratch (EIGH_ARENA bytes for the largest n);
// the caller solves in its own scratch. Results equal those of eigh_f32 call by call.

/** Scratch eigh_f32(n) may take, with margin: n² f32 work + n² f64 vectors + n² f32 copy,
 *  the back-transform's gathered reflectors (n²/2 f32), O(n) vectors, its bands' panels and
 *  gemm packing (≤ 2.2 MB). */
@inline function eighArena(n: i32): usize {
  return <usize>n * <usize>n * 24 + <usize>n * 2048 + (3 << 20);
}

// record layout (i32 × 8): a, n, w, z, fails (out), part (set here), assigned flag (set here),
// nv (eigenvectors wanted: the top nv; 0 = all n, z is then n×n)
const E_REC: usize = 32;
const E_DESC = 0, E_COUNT = 1, E_PARTS = 2, E_ARENA = 3, E_STRIDE = 4;

/** Part `part` of a JOB_EIGH job (arguments read before any solve: the solves' own kernels run serially). */
export function eigh_batch_part(part: i32): void {
  eighRecords(<usize>arg_i32(E_DESC), arg_i32(E_COUNT), arg_i32(E_PARTS), <usize>arg_i32(E_ARENA), <usize>arg_i32(E_STRIDE), part);
}

function eighRecords(desc: usize, count: i32, parts: i32, arenas: usize, stride: usize, part: i32): void {
  const arena = arenas + <usize>(part - 1) * stride;
  for (let i = 0; i < count; i++) {
    const r = desc + <usize>i * E_REC;
    if (parts > 1 && load<i32>(r, 20) != part) continue;
    if (in_worker()) scratch_arena(arena, arena + stride);
    const n = load<i32>(r, 4), nv = load<i32>(r, 28);
    store<i32>(r, eigh_top_f32(<usize>load<i32>(r), n, nv > 0 ? nv : n, <usize>load<i32>(r, 8), <usize>load<i32>(r, 12)), 16);
  }
}

/**
 * `count` independent eigh_f32 calls, spread over the pool. desc holds count records of
 * 8 i32: a, n, w, z (as for eigh_f32), then the call's unconverged count is written at
 * index 4; index 7 may ask for the top nv eigenvectors only (eigh_top_f32; z is n×nv).
 * Returns the total unconverged count, or −1 when memory cannot grow for the arenas.
 */
export function eigh_batch_f32(count: i32, desc: usize): i32 {
  if (count <= 0) return 0;
  const mark = scratch_mark();
  // Side by side only when the two largest solves are about equal (within 10%): otherwise one
  // after another is faster, each with its own threaded tridiagonalisation and back-transform.
  let n1 = 0, n2 = 0;
  for (let i = 0; i < count; i++) {
    const n = load<i32>(desc + <usize>i * E_REC, 4);
    if (n > n1) { n2 = n1; n1 = n; } else if (n > n2) n2 = n;
  }
  const nmax = n1;
  const parts = n2 * 10 >= n1 * 9 ? min(count, par_threads()) : 1;
  if (parts > 1) {
    // largest first, each to the part with the least work so far (cost ∝ n³); part index at slot 5
    const load_ = scratch_alloc(<usize>parts << 3);
    memory.fill(load_, 0, <usize>parts << 3);
    for (let k = 0; k < count; k++) {
      let best = -1, bn = -1;
      for (let i = 0; i < count; i++) {
        const r = desc + <usize>i * E_REC;
        if (load<i32>(r, 24) == 0 && load<i32>(r, 4) > bn) { bn = load<i32>(r, 4); best = i; }
      }
      const r = desc + <usize>best * E_REC;
      store<i32>(r, 1, 24); // assigned
      let p = 0;
      for (let q = 1; q < parts; q++) if (load<f64>(load_ + (<usize>q << 3)) < load<f64>(load_ + (<usize>p << 3))) p = q;
      store<f64>(load_ + (<usize>p << 3), load<f64>(load_ + (<usize>p << 3)) + <f64>bn * bn * bn);
      store<i32>(r, p, 20);
    }
  }
  const stride = (eighArena(nmax) + 15) & ~(<usize>15);
  const arena = parts > 1 ? scratch_try_alloc(stride * <usize>(parts - 1)) : 0;
  if (parts > 1 && arena == 0) {
    scratch_reset(mark);
    return -1;
  }
  if (parts > 1) {
    set_arg_i32(E_DESC, <i32>desc);
    set_arg_i32(E_COUNT, count);
    set_arg_i32(E_PARTS, parts);
    set_arg_i32(E_ARENA, <i32>arena);
    set_arg_i32(E_STRIDE, <i32>stride);
    par_run(JOB_EIGH, parts);
  } else {
    eighRecords(desc, count, 1, 0, 0, 0);
  }
  scratch_reset(mark);
  let fails = 0;
  for (let i = 0; i < count; i++) fails += load<i32>(desc + <usize>i * E_REC, 16);
  return fails;
}

/** ‖T‖_∞ of the symmetric tridiagonal (diag, off) — the scale of the inverse-iteration tolerances; 1 for T = 0. */
function tridiagNorm(diag: usize, off: usize, n: i32): f64 {
  let tnorm: f64 = 0;
  for (let i = 0; i < n; i++) {
    let r = Math.abs(load<f64>(at8(diag, i)));
    if (i > 0) r += Math.abs(load<f64>(at8(off, i - 1)));
    if (i < n - 1) r += Math.abs(load<f64>(at8(off, i)));
    tnorm = max(tnorm, r);
  }
  return tnorm == 0 ? 1 : tnorm;
}
