// A transpose split over the pool (row bands of the source; a pure copy, so any split gives
// the same bits). For the large final copies of the factorisations (the SVD's Uᵀ → U and
// Vᵀ → V), which otherwise run on one thread between parallel phases.
//   transpose_par_f32(src, rows, cols, lds, dst, ldd)   as transpose_f32 (assembly/linalg/qr.ts)
import { JOB_TRANSPOSE, arg_i32, par_run, par_threads, set_arg_i32 } from "../threads";
import { transpose_f32 } from "./qr";

/** Below this many elements one thread copies (waking the pool costs more). */
const TRANSPOSE_PAR: i64 = 1 << 16;
const X_SRC = 0, X_ROWS = 1, X_COLS = 2, X_LDS = 3, X_DST = 4, X_LDD = 5, X_PARTS = 6;

export function transpose_par_f32(src: usize, rows: i32, cols: i32, lds: i32, dst: usize, ldd: i32): void {
  const parts = <i64>rows * cols >= TRANSPOSE_PAR && rows >= 32 ? min(par_threads(), 8) : 1;
  if (parts <= 1) {
    transpose_f32(src, rows, cols, lds, dst, ldd);
    return;
  }
  set_arg_i32(X_SRC, <i32>src); set_arg_i32(X_ROWS, rows); set_arg_i32(X_COLS, cols); set_arg_i32(X_LDS, lds);
  set_arg_i32(X_DST, <i32>dst); set_arg_i32(X_LDD, ldd); set_arg_i32(X_PARTS, parts);
  par_run(JOB_TRANSPOSE, parts);
}

/** Part `part` of a JOB_TRANSPOSE job: a band of source rows (cut at multiples of 16, transpose_f32's tile). */
export function transpose_part(part: i32): void {
  const rows = arg_i32(X_ROWS), parts = arg_i32(X_PARTS);
  const r0 = <i32>(<i64>rows * part / parts) & ~15, r1 = part == parts - 1 ? rows : <i32>(<i64>rows * (part + 1) / parts) & ~15;
  if (r1 <= r0) return;
  const lds = arg_i32(X_LDS);
  transpose_f32(<usize>arg_i32(X_SRC) + (<usize>r0 * <usize>lds << 2), r1 - r0, arg_i32(X_COLS), lds, <usize>arg_i32(X_DST) + (<usize>r0 << 2), arg_i32(X_LDD));
}
