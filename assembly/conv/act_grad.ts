// The backward of a fused convolution's epilogue y = act(z + bias) in one pass over dy, in place:
// dz = dy · act'(y) (relu: step(y), with step(NaN) = NaN as tfjs's Step; linear: dz = dy), and the
// bias gradient db[c] = Σ_rows dz[r, c] accumulated in f64. tfjs-layers trains a relu conv as
// Conv2D → Add → Relu, whose gradient is Step, Multiply and a Sum: three passes over the output.
// relu's y > 0 exactly where z > 0, so the output stands in for the pre-activation.
// dy: [rows, cols] f32, overwritten with dz when dz is 0; otherwise relu's dz goes to dz and dy is
// left as it was (dy may be a tensor's resident copy that later kernels read: src/tfjs/resident.ts;
// linear's dz is dy itself, and nothing is written); db: cols f32 or 0 (no bias). Returns 0, or 1 when
// scratch could not grow.
// Threads: the rows are cut into ACT_CHUNK_ROWS-row chunks (a function of rows alone); each chunk's
// db partial is summed in f64 on its own and the partials are added in chunk order, so every
// thread count gives bitwise the same db (and dz, which is element-wise).
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";
import { ACT_RELU } from "./epilogue";
import { add_f32x4_to_f64, f64_to_f32 } from "../vec";
import { JOB_ACT_GRAD, arg_i32, arg_ptr, claim_arg, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";

/** Rows per chunk of the bias-gradient sum (see above): 4096 rows of ≤ 64 channels are ≤ 1 MiB of dy. */
const ACT_CHUNK_ROWS = 4096;

// argument slots of a JOB_ACT_GRAD job
const A_DY = 0, A_Y = 1, A_ROWS = 2, A_COLS = 3, A_ACT = 4, A_PARTIAL = 5, A_CHUNKS = 6, A_PARTS = 7, A_DZ = 8, A_CLAIM = 9;

export function act_bias_grad_f32(dy: usize, y: usize, rows: i32, cols: i32, act: i32, db: usize, dz: usize): i32 {
  if (cols <= 0 || rows <= 0) {
    for (let c = 0; c < cols; c++) store<f32>(db + (<usize>c << 2), 0);
    return 0;
  }
  const mark = scratch_mark();
  const chunks = (rows + ACT_CHUNK_ROWS - 1) / ACT_CHUNK_ROWS;
  let partial: usize = 0;
  if (db != 0) {
    partial = scratch_alloc(<usize>chunks * <usize>cols << 3);
    if (partial == 0) return 1;
  }
  // Threads pay from about a quarter of a million values per part (a wake-up costs microseconds).
  let parts = min(par_threads(), chunks);
  if (<i64>rows * cols < (<i64>parts << 18)) parts = 1;
  set_arg_i32(A_DY, <i32>dy); set_arg_i32(A_Y, <i32>y); set_arg_i32(A_ROWS, rows); set_arg_i32(A_COLS, cols);
  set_arg_i32(A_ACT, act); set_arg_i32(A_PARTIAL, <i32>partial); set_arg_i32(A_CHUNKS, chunks); set_arg_i32(A_PARTS, parts);
  set_arg_i32(A_DZ, <i32>(dz != 0 ? dz : dy));
  claim_arg(A_CLAIM);
  if (parts > 1) par_run(JOB_ACT_GRAD, parts);
  else act_grad_part(0);
  if (db != 0) {
    // Σ_chunks in chunk order, in f64, rounded once
    for (let k = 1; k < chunks; k++) {
      const src = partial + (<usize>k * <usize>cols << 3);
      for (let c = 0; c < cols; c++) {
        const a = partial + (<usize>c << 3);
        store<f64>(a, load<f64>(a) + load<f64>(src + (<usize>c << 3)));
      }
    }
    f64_to_f32(partial, cols, db);
  }
  scratch_reset(mark);
  return 0;
}

/** Part `part` of a JOB_ACT_GRAD job: the chunks it claims (par_claim). */
export function act_grad_part(part: i32): void {
  const chunks = arg_i32(A_CHUNKS), claim = arg_ptr(A_CLAIM);
  const dy = <usize>arg_i32(A_DY), y = <usize>arg_i32(A_Y), rows = arg_i32(A_ROWS), cols = arg_i32(A_COLS);
  const act = arg_i32(A_ACT), partial = <usize>arg_i32(A_PARTIAL), dz = <usize>arg_i32(A_DZ);
  for (let k = par_claim(claim); k < chunks; k = par_claim(claim)) {
    const r0 = k * ACT_CHUNK_ROWS, r1 = min(rows, r0 + ACT_CHUNK_ROWS);
    const acc: usize = partial != 0 ? partial + (<usize>k * <usize>cols << 3) : 0;
    if (acc != 0) memory.fill(acc, 0, <usize>cols << 3);
    chunkGrad(dy, y, dz, r0, r1, cols, act, acc);
  }
}

/** dz over rows [r0, r1) (relu: into dz, which may be dy), and (acc ≠ 0) acc[c] += Σ dz[r, c] in row order. */
function chunkGrad(dy: usize, y: usize, dz: usize, r0: i32, r1: i32, cols: i32, act: i32, acc: usize): void {
  const relu = act == ACT_RELU;
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const off = <usize>r * <usize>cols << 2;
    const drow = dy + off, yrow = y + off, zrow = dz + off;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = drow + (<usize>c << 2);
      let v = v128.load(p);
      if (relu) {
        const yv = v128.load(yrow + (<usize>c << 2));
        let s = v128.bitselect(one, zero, f32x4.gt(yv, zero));
        s = v128.bitselect(yv, s, f32x4.ne(yv, yv));
        v = f32x4.mul(v, s);
        v128.store(zrow + (<usize>c << 2), v);
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
        store<f32>(zrow + (<usize>c << 2), v);
      }
      if (acc != 0) {
        const a = acc + (<usize>c << 3);
        store<f64>(a, load<f64>(a) + <f64>v);
      }
    }
  }
}
