// Column sums of a row-major [rows, cols] f32 matrix into f32 out[cols], accumulated in f64: the
// gradient of a bias added per channel (dy [batch, h, w, c] summed over batch, h and w). One pass
// over the input, SIMD over four columns at a time (two f64x2 accumulators each) with a scalar
// tail; the f64 accumulators sit in scratch (cols·8 bytes, in L1 for any realistic channel count).
// Returns 0, or 1 when scratch could not grow.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

export function col_sums_f32(x: usize, rows: i32, cols: i32, out: usize): i32 {
  if (cols <= 0) return 0;
  const mark = scratch_mark();
  const acc = scratch_alloc(<usize>cols << 3);
  if (acc == 0) return 1;
  memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>cols << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))));
    }
    for (; c < cols; c++) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
  for (let c = 0; c < cols; c++) store<f32>(out + (<usize>c << 2), <f32>load<f64>(acc + (<usize>c << 3)));
  scratch_reset(mark);
  return 0;
}
