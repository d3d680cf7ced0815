// Classical Gram–Schmidt, twice ("twice is enough"), of one f64 vector against k orthonormal
// rows, split over the pool without changing a bit of the result:
//   cgs2_f64(q, k, n, y, c) → ‖y‖ before normalising   q: k rows of n f64 (row stride n),
//                                                       y: n f64 (overwritten, normalised when ‖y‖ > 0),
//                                                       c: k f64 of scratch for the coefficients.
// Each pass is two independent sweeps: c_j = q_j·y (each dot whole on one thread, rows split
// into ranges), then y_i −= Σ_j c_j q_j[i] (columns split into ranges, j in order for every
// column). Neither sweep's arithmetic depends on where the ranges are cut, so the result is
// the same for any number of threads; MGS (one dependent update per row) would not split.
import { JOB_CGS, arg_i32, par_run, par_threads, set_arg_i32 } from "../threads";
import { axpy_f64, dot_f64 } from "./qr";

@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

/** Below this k·n a pass runs on the calling thread (waking the pool costs more). */
const CGS_PAR_WORK: i64 = 1 << 16;
const G_Q = 0, G_K = 1, G_N = 2, G_Y = 3, G_C = 4, G_STEP = 5, G_PARTS = 6;

export function cgs2_f64(q: usize, k: i32, n: i32, y: usize, c: usize): f64 {
  const parts = <i64>k * n >= CGS_PAR_WORK ? min(par_threads(), 8) : 1;
  for (let pass = 0; pass < 2; pass++) {
    if (k > 0) {
      if (parts > 1) {
        set_arg_i32(G_Q, <i32>q); set_arg_i32(G_K, k); set_arg_i32(G_N, n); set_arg_i32(G_Y, <i32>y); set_arg_i32(G_C, <i32>c);
        set_arg_i32(G_PARTS, parts);
        set_arg_i32(G_STEP, 0);
        par_run(JOB_CGS, parts);
        set_arg_i32(G_STEP, 1);
        par_run(JOB_CGS, parts);
      } else {
        coefs(q, n, y, c, 0, k);
        subtract(q, k, n, y, c, 0, n);
      }
    }
  }
  const nrm = Math.sqrt(dot_f64(y, y, n));
  if (nrm > 0) {
    const inv = 1.0 / nrm;
    for (let i = 0; i < n; i++) store<f64>(at8(y, i), load<f64>(at8(y, i)) * inv);
  }
  return nrm;
}

/** Part `part` of a JOB_CGS job: a range of coefficients (step 0) or of columns (step 1, even bounds: whole f64x2 pairs). */
export function cgs_part(part: i32): void {
  const k = arg_i32(G_K), n = arg_i32(G_N), parts = arg_i32(G_PARTS);
  const q = <usize>arg_i32(G_Q), y = <usize>arg_i32(G_Y), c = <usize>arg_i32(G_C);
  if (arg_i32(G_STEP) == 0) {
    coefs(q, n, y, c, <i32>(<i64>k * part / parts), <i32>(<i64>k * (part + 1) / parts));
  } else {
    const i0 = <i32>(<i64>n * part / parts) & ~1, i1 = part == parts - 1 ? n : <i32>(<i64>n * (part + 1) / parts) & ~1;
    subtract(q, k, n, y, c, i0, i1);
  }
}

function coefs(q: usize, n: i32, y: usize, c: usize, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j++) store<f64>(at8(c, j), dot_f64(at8(q, j * n), y, n));
}

/** y[i0:i1] −= Σ_j c_j q_j[i0:i1], j in order (the same per element wherever the range starts). */
function subtract(q: usize, k: i32, n: i32, y: usize, c: usize, i0: i32, i1: i32): void {
  if (i1 <= i0) return;
  for (let j = 0; j < k; j++) axpy_f64(-load<f64>(at8(c, j)), at8(q, j * n + i0), at8(y, i0), i1 - i0);
}
