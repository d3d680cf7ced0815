// The backward of a fused convolution's epilogue y = act(z + bias) in one pass over dy, in place:
// dz = dy · act'(y) (relu: step(y), with step(NaN) = NaN as tfjs's Step; linear: dz = dy), and the
// bias gradient db[c] = Σ_rows dz[r, c] accumulated in f64. tfjs-layers trains a relu conv as
// Conv2D → Add → Relu, whose gradient is Step, Multiply and a Sum: three passes over the output.
// relu's y > 0 exactly where z > 0, so the output stands in for the pre-activation.
// dy: [rows, cols] f32, overwritten with dz; db: cols f32 or 0 (no bias). Returns 0, or 1 when
// scratch could not grow.
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { ACT_RELU } from "./epilogue";
import { add_f32x4_to_f64, f64_to_f32 } from "../vec";

export function act_bias_grad_f32(dy: usize, y: usize, rows: i32, cols: i32, act: i32, db: usize): i32 {
  if (cols <= 0 || rows <= 0) {
    for (let c = 0; c < cols; c++) store<f32>(db + (<usize>c << 2), 0);
    return 0;
  }
  const mark = scratch_mark();
  let acc: usize = 0;
  if (db != 0) {
    acc = scratch_alloc(<usize>cols << 3);
    if (acc == 0) return 1;
    memory.fill(acc, 0, <usize>cols << 3);
  }
  const relu = act == ACT_RELU;
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>cols << 2;
    const drow = dy + off, yrow = y + off;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = drow + (<usize>c << 2);
      let v = v128.load(p);
      if (relu) {
        const yv = v128.load(yrow + (<usize>c << 2));
        let s = v128.bitselect(one, zero, f32x4.gt(yv, zero));
        s = v128.bitselect(yv, s, f32x4.ne(yv, yv));
        v = f32x4.mul(v, s);
        v128.store(p, v);
      }
      if (acc != 0) add_f32x4_to_f64(acc + (<usize>c << 3), v);
    }
    for (; c < cols; c++) {
      const p = drow + (<usize>c << 2);
      let v = load<f32>(p);
      if (relu) {
        const yv = load<f32>(yrow + (<usize>c << 2));
        const s: f32 = yv != yv ? yv : (yv > 0 ? 1 : 0);
        v = v * s;
        store<f32>(p, v);
      }
      if (acc != 0) {
        const a = acc + (<usize>c << 3);
        store<f64>(a, load<f64>(a) + <f64>v);
      }
    }
  }
  if (acc != 0) f64_to_f32(acc, cols, db);
  scratch_reset(mark);
  return 0;
}
