// Column sums of a row-major [rows, cols] f32 matrix into f32 out[cols], accumulated in f64: the
// gradient of a bias added per channel (dy [batch, h, w, c] summed over batch, h and w). One pass
// over the input, SIMD over four columns at a time (two f64x2 accumulators each) with a scalar
// tail; the f64 accumulators sit in scratch (cols·8 bytes, in L1 for any realistic channel count).
// Returns 0, or 1 when scratch could not grow.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { col_sums_f64, f64_to_f32 } from "../vec";

export function col_sums_f32(x: usize, rows: i32, cols: i32, out: usize): i32 {
  if (cols <= 0) return 0;
  const mark = scratch_mark();
  const acc = scratch_alloc(<usize>cols << 3);
  if (acc == 0) return 1;
  col_sums_f64(x, rows, cols, acc);
  f64_to_f32(acc, cols, out);
  scratch_reset(mark);
  return 0;
}
