// Eigenvalues (no vectors) of a symmetric tridiagonal by one divide-and-conquer split, so the
// serial QL sweeps run as two half-size problems side by side (a QL values pass costs O(n²),
// so each half costs a quarter):
//   tri_values_dc_f64(d, e, n) → fails    as tql_f64(d, e, n, 0, 0): d ← the eigenvalues (unsorted), e kept.
//
// T = diag(T1, T2) + θ·v·vᵀ with θ = |e[k−1]|, v = e_{k−1} + sign(e[k−1])·e_k (T1, T2 have θ taken off
// their touching diagonal entries). QL on each half also tracks one row of its rotations: the
// last (T1) or first (T2) component of every eigenvector, which is all the merge needs. The
// merged values are the roots of the secular equation 1/ρ + Σ ζ_j²/(δ_j − λ) = 0 (Cuppen 1981;
// Golub 1973), one in each gap between consecutive poles δ_j, after deflating the poles with a
// negligible weight or a negligible gap (an absolute error of a few ε·‖T‖, QL's own accuracy).
// Each root is found by the two-pole rational model of the secular function (the "middle way"
// of Li 1993, simplified: a bracketed iteration that falls back to bisection), on its own, so
// ranges of roots split over the pool. The split and every root depend on T only: the same
// bits for any thread count. Should a root not converge, the whole problem falls back to QL.
import { scratch_alloc, scratch_arena, scratch_mark, scratch_reset, scratch_try_alloc } from "../mem";
import { JOB_TRIDC, arg_i32, in_worker, par_run, par_threads, set_arg_i32 } from "../threads";
import { sort_desc_f64, tql_f64 } from "./eig";

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

/** Below this size plain QL (the merge's O(n²) secular work does not pay off). */
export const DC_MIN: i32 = 384;
const EPS: f64 = 2.220446049250313e-16;
const MAX_IT = 60;
/** A worker's scratch for its half's QL (one f64 vector of up to n entries, with margin). */
@inline function arenaBytes(n: i32): usize { return (<usize>n << 3) + 256; }

const C_D = 0, C_E = 1, C_Z = 2, C_K = 3, C_N = 4, C_FAILS = 5, C_ARENA = 6, C_PHASE = 7, C_POLES = 8, C_W = 9, C_KK = 10, C_RHO = 11, C_OUT = 12, C_PARTS = 13, C_BAD = 14;

export function tri_values_dc_f64(d: usize, e: usize, n: i32): i32 {
  if (n < DC_MIN) return tql_f64(d, e, n, 0, 0);
  const mark = scratch_mark();
  const k = n >> 1;
  const ek = load<f64>(at8(e, k - 1));
  const theta = Math.abs(ek), sg: f64 = ek < 0 ? -1 : 1;
  // halves: D (n) = [d1; d2] with θ taken off, E = their off-diagonals, Z = the tracked rows
  const D = scratch_alloc(<usize>n << 3), E = scratch_alloc(<usize>n << 3), Z = scratch_alloc(<usize>n << 3);
  memory.copy(D, d, <usize>n << 3);
  memory.copy(E, e, <usize>(k - 1) << 3);
  memory.copy(at8(E, k), at8(e, k), <usize>(n - k - 1) << 3);
  store<f64>(at8(D, k - 1), load<f64>(at8(D, k - 1)) - theta);
  store<f64>(at8(D, k), load<f64>(at8(D, k)) - theta);
  memory.fill(Z, 0, <usize>n << 3);
  store<f64>(at8(Z, k - 1), 1);
  store<f64>(at8(Z, k), 1);
  const fl = scratch_alloc(16);
  store<i32>(fl, 0); store<i32>(fl, 0, 4); store<i32>(fl, 0, 8);
  const threads = par_threads();
  const arena = threads > 1 ? scratch_try_alloc(arenaBytes(n)) : 0;
  set_arg_i32(C_D, <i32>D); set_arg_i32(C_E, <i32>E); set_arg_i32(C_Z, <i32>Z); set_arg_i32(C_K, k); set_arg_i32(C_N, n);
  set_arg_i32(C_FAILS, <i32>fl); set_arg_i32(C_ARENA, <i32>arena);
  if (arena != 0) {
    set_arg_i32(C_PHASE, 0);
    par_run(JOB_TRIDC, 2);
  } else {
    halfQL(D, E, Z, k, n, 0, fl);
    halfQL(D, E, Z, k, n, 1, fl);
  }
  if (load<i32>(fl) + load<i32>(fl, 4) > 0) {
    scratch_reset(mark);
    return tql_f64(d, e, n, 0, 0);
  }
  if (theta == 0) {
    // T splits exactly: the halves' values are T's
    memory.copy(d, D, <usize>n << 3);
    scratch_reset(mark);
    return 0;
  }
  for (let j = k; j < n; j++) store<f64>(at8(Z, j), sg * load<f64>(at8(Z, j)));
  // poles ascending (perm by descending, read backwards), weights normalised: ρ = θ‖z‖²
  const perm = scratch_alloc(<usize>n << 2);
  sort_desc_f64(D, n, perm);
  let zz: f64 = 0, dmax: f64 = 0;
  for (let j = 0; j < n; j++) {
    const z = load<f64>(at8(Z, j));
    zz += z * z;
    dmax = max(dmax, Math.abs(load<f64>(at8(D, j))));
  }
  const rho = theta * zz, zs = 1.0 / Math.sqrt(zz);
  const tol = 8.0 * EPS * max(dmax, rho);
  // deflation: a negligible weight leaves its pole as a value; two poles closer than tol merge
  // their weights into the upper one (a rotation), the lower one becoming a value
  const poles = scratch_alloc(<usize>n << 3), w = scratch_alloc(<usize>n << 3), out = scratch_alloc(<usize>n << 3);
  let kk = 0, nd = 0;
  for (let q = n - 1; q >= 0; q--) {
    const j = load<i32>(at4(perm, q));
    const dj = load<f64>(at8(D, j));
    let zj = load<f64>(at8(Z, j)) * zs;
    if (rho * Math.abs(zj) <= tol) {
      store<f64>(at8(out, nd++), dj);
      continue;
    }
    if (kk > 0 && dj - load<f64>(at8(poles, kk - 1)) <= tol) {
      const zp = load<f64>(at8(w, kk - 1));
      store<f64>(at8(out, nd++), load<f64>(at8(poles, kk - 1)));
      zj = Math.sqrt(zp + zj * zj); // (w holds squared weights)
      kk--;
    }
    store<f64>(at8(poles, kk), dj);
    store<f64>(at8(w, kk), zj * zj);
    kk++;
  }
  // roots: one above each pole, the last within ρ of the top pole
  const bad = scratch_alloc(16);
  store<i32>(bad, 0);
  const parts = arena != 0 && kk >= 64 ? 2 : 1;
  if (parts > 1) {
    set_arg_i32(C_PHASE, 1); set_arg_i32(C_POLES, <i32>poles); set_arg_i32(C_W, <i32>w); set_arg_i32(C_KK, kk);
    set_arg_i32(C_RHO, <i32>scratch_rho(rho)); set_arg_i32(C_OUT, <i32>(out + (<usize>nd << 3))); set_arg_i32(C_PARTS, parts); set_arg_i32(C_BAD, <i32>bad);
    par_run(JOB_TRIDC, parts);
  } else {
    secularRoots(poles, w, kk, rho, at8(out, nd), 0, kk, bad);
  }
  if (load<i32>(bad) != 0) {
    // a root did not converge: plain QL on the whole problem
    scratch_reset(mark);
    return tql_f64(d, e, n, 0, 0);
  }
  memory.copy(d, out, <usize>n << 3);
  scratch_reset(mark);
  return 0;
}

/** ρ passed to the workers through scratch (the argument slots are 32-bit). */
function scratch_rho(rho: f64): usize {
  const p = scratch_alloc(8);
  store<f64>(p, rho);
  return p;
}

/** Part `part` of a JOB_TRIDC job: phase 0 one half's QL, phase 1 a range of secular roots. */
export function tridc_part(part: i32): void {
  if (arg_i32(C_PHASE) == 0) {
    if (in_worker()) {
      const a = <usize>arg_i32(C_ARENA);
      scratch_arena(a, a + arenaBytes(arg_i32(C_N)));
    }
    halfQL(<usize>arg_i32(C_D), <usize>arg_i32(C_E), <usize>arg_i32(C_Z), arg_i32(C_K), arg_i32(C_N), part, <usize>arg_i32(C_FAILS));
  } else {
    const kk = arg_i32(C_KK), parts = arg_i32(C_PARTS);
    const r0 = <i32>(<i64>kk * part / parts), r1 = <i32>(<i64>kk * (part + 1) / parts);
    secularRoots(<usize>arg_i32(C_POLES), <usize>arg_i32(C_W), kk, load<f64>(<usize>arg_i32(C_RHO)), <usize>arg_i32(C_OUT), r0, r1, <usize>arg_i32(C_BAD));
  }
}

/** QL values of half h (0: rows 0…k−1, 1: rows k…n−1), tracking the touching row of its rotations in Z. */
function halfQL(D: usize, E: usize, Z: usize, k: i32, n: i32, h: i32, fails: usize): void {
  const o = h == 0 ? 0 : k, len = h == 0 ? k : n - k;
  store<i32>(fails + (<usize>h << 2), tql_f64(at8(D, o), at8(E, o), len, at8(Z, o), 1));
}

// secSums' results (module globals: each thread's instance has its own)
let sSum: f64 = 0, sDer: f64 = 0, sAbs: f64 = 0;

/**
 * Σ q_j, Σ q_j/t_j and Σ |q_j| over j0…j1−1 with t_j = (p_j − origin) − τ, q_j = w_j/t_j: one
 * division per term, two lanes at a time (a fixed order, so the same bits wherever it runs).
 */
function secSums(p: usize, w: usize, j0: i32, j1: i32, origin: f64, tau: f64): void {
  const ov = f64x2.splat(origin), tv = f64x2.splat(tau), one = f64x2.splat(1);
  let s = f64x2.splat(0), ds = f64x2.splat(0), as = f64x2.splat(0);
  let j = j0;
  for (; j + 2 <= j1; j += 2) {
    const t = f64x2.sub(f64x2.sub(v128.load(at8(p, j)), ov), tv);
    const r = f64x2.div(one, t);
    const q = f64x2.mul(v128.load(at8(w, j)), r);
    s = f64x2.add(s, q);
    ds = f64x2.add(ds, f64x2.mul(q, r));
    as = f64x2.add(as, f64x2.abs(q));
  }
  let s1 = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  let d1 = f64x2.extract_lane(ds, 0) + f64x2.extract_lane(ds, 1);
  let a1 = f64x2.extract_lane(as, 0) + f64x2.extract_lane(as, 1);
  for (; j < j1; j++) {
    const r = 1.0 / ((load<f64>(at8(p, j)) - origin) - tau);
    const q = load<f64>(at8(w, j)) * r;
    s1 += q; d1 += q * r; a1 += Math.abs(q);
  }
  sSum = s1; sDer = d1; sAbs = a1;
}

/**
 * Roots r0…r1−1 of 1/ρ + Σ_j w_j/(p_j − λ) = 0 (p ascending, w > 0): root i lies in
 * (p_i, p_{i+1}) (the last in (p_{kk−1}, p_{kk−1} + ρ]). Worked relative to the nearer end
 * of its interval (τ = λ − origin, poles as p_j − origin) so roots next to a pole keep their
 * accuracy. Sets *bad on a root that does not converge.
 */
function secularRoots(p: usize, w: usize, kk: i32, rho: f64, out: usize, r0: i32, r1: i32, bad: usize): void {
  const irho = 1.0 / rho;
  for (let i = r0; i < r1; i++) {
    const a = load<f64>(at8(p, i));
    const last = i == kk - 1;
    const b = last ? a + rho : load<f64>(at8(p, i + 1));
    // which end is nearer: the secular function's sign at the midpoint
    const mid = 0.5 * (b - a);
    secSums(p, w, 0, kk, a, mid);
    const g = irho + sSum;
    const fromA = last || g > 0;
    const origin = fromA ? a : b;
    // bracket for τ
    let lo: f64 = fromA ? 0 : -mid, hi: f64 = fromA ? mid : 0;
    if (last) { lo = 0; hi = rho; }
    let tau = 0.5 * (lo + hi);
    const da = a - origin, db = b - origin; // the interval's ends relative to the origin (one is 0)
    let done = false;
    for (let it = 0; it < MAX_IT; it++) {
      // ψ over poles ≤ a, φ over poles ≥ b (for the last root φ is empty), and their derivatives
      secSums(p, w, 0, i + 1, origin, tau);
      const psi = sSum, dpsi = sDer;
      let absum = sAbs;
      secSums(p, w, i + 1, kk, origin, tau);
      const phi = sSum, dphi = sDer;
      absum += sAbs;
      const f = irho + psi + phi;
      if (f < 0) lo = tau; else hi = tau;
      // converged: f at rounding level, or the bracket at rounding level of the root
      if (Math.abs(f) <= 8.0 * EPS * (<f64>kk + 2) * (irho + absum) || hi - lo <= 4.0 * EPS * max(Math.abs(origin + lo), Math.abs(origin + hi))) {
        done = true;
        break;
      }
      // two-pole model: f(x) ≈ C + s1/(da − x) + s2/(db − x) matching ψ, φ and slopes at τ
      const ta = da - tau, tb = db - tau;
      const s1 = dpsi * ta * ta;
      let s2 = dphi * tb * tb;
      let C = irho + (psi - dpsi * ta) + (phi - dphi * tb);
      let nt: f64 = NaN;
      if (last) {
        // no pole above: f(x) ≈ C + s1/(da − x), C = 1/ρ + φ-part (0) + ψ − ψ'·ta
        s2 = 0;
        C = irho + (psi - dpsi * ta);
        if (C > 0) nt = da + s1 / C;
      } else {
        // C(da − x)(db − x) + s1(db − x) + s2(da − x) = 0: qa x² + qb x + qc = 0
        const qa = C, qb = -(C * (da + db) + s1 + s2), qc = C * da * db + s1 * db + s2 * da;
        if (qa == 0) {
          if (qb != 0) nt = -qc / qb;
        } else {
          const disc = qb * qb - 4.0 * qa * qc;
          if (disc >= 0) {
            const sq = Math.sqrt(disc);
            const q = -0.5 * (qb + (qb >= 0 ? sq : -sq));
            const x1 = q / qa, x2 = q != 0 ? qc / q : NaN;
            nt = x1 > lo && x1 < hi ? x1 : x2;
          }
        }
      }
      // keep inside the bracket, else bisect (and every other step after the first few, so
      // the bracket at least halves every two steps whatever the model does)
      tau = nt > lo && nt < hi && (it < 6 || (it & 1) == 0) ? nt : 0.5 * (lo + hi);
    }
    if (!done) store<i32>(bad, 1);
    store<f64>(at8(out, i), origin + tau);
  }
}
