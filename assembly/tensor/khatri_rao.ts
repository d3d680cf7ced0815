// Khatri–Rao product and MTTKRP (matricised tensor times Khatri–Rao product).
// Row order follows the unfolding convention of tensor/unfold.ts: in
// khatri_rao_f32(a, I, b, J, R) row i·J + j pairs row i of a with row j of b
// (first matrix slowest), so X_(n) · KR(U_0..U_{n-1}, U_{n+1}..) lines up.
import { gemm_f32 } from "../linalg/gemm";
import { scratch_alloc, scratch_mark, scratch_reset } from "../mem";

/** out (I·J × R)[i·J + j, r] = a[i, r] · b[j, r]; a is I×R, b is J×R, all row-major. */
export function khatri_rao_f32(a: usize, I: i32, b: usize, J: i32, R: i32, out: usize): void {
  for (let i = 0; i < I; i++) {
    const ar = a + (<usize>(i * R) << 2);
    for (let j = 0; j < J; j++) {
      const br = b + (<usize>(j * R) << 2);
      const orow = out + (<usize>((i * J + j) * R) << 2);
      let r = 0;
      for (; r + 4 <= R; r += 4) {
        const off = <usize>r << 2;
        v128.store(orow + off, f32x4.mul(v128.load(ar + off), v128.load(br + off)));
      }
      for (; r < R; r++) {
        const off = <usize>r << 2;
        store<f32>(orow + off, load<f32>(ar + off) * load<f32>(br + off));
      }
    }
  }
}

/**
 * MTTKRP for x viewed as (A, I, B): out (I × R) = X_(n) · (Kb ⊙ Ka), where
 * kb (A × R) is the Khatri–Rao product of the factors of the modes before n
 * and ka (B × R) that of the modes after n (pass 0 for an empty side, i.e.
 * A == 1 or B == 1: a row of ones). The Khatri–Rao product of all other
 * modes is never formed: W = x(A·I × B) · Ka is one GEMM, then
 * out[i, r] = Σ_a W[a·I + i, r] · Kb[a, r].
 */
export function mttkrp_f32(x: usize, A: i32, I: i32, B: i32, kb: usize, ka: usize, R: i32, out: usize): void {
  if (ka == 0) {
    // B == 1: out = x(A × I)ᵀ · Kb
    gemm_f32(1, 0, I, R, A, 1, x, I, kb, R, 0, out, R);
    return;
  }
  if (kb == 0) {
    // A == 1: out = x(I × B) · Ka
    gemm_f32(0, 0, I, R, B, 1, x, B, ka, R, 0, out, R);
    return;
  }
  const mark = scratch_mark();
  const w = scratch_alloc(<usize>A * <usize>I * <usize>R * 4);
  gemm_f32(0, 0, A * I, R, B, 1, x, B, ka, R, 0, w, R);
  memory.fill(out, 0, <usize>I * <usize>R * 4);
  for (let a = 0; a < A; a++) {
    const kr = kb + (<usize>(a * R) << 2);
    for (let i = 0; i < I; i++) {
      const wr = w + (<usize>((a * I + i) * R) << 2);
      const orow = out + (<usize>(i * R) << 2);
      let r = 0;
      for (; r + 4 <= R; r += 4) {
        const off = <usize>r << 2;
        v128.store(orow + off, f32x4.add(v128.load(orow + off), f32x4.mul(v128.load(wr + off), v128.load(kr + off))));
      }
      for (; r < R; r++) {
        const off = <usize>r << 2;
        store<f32>(orow + off, load<f32>(orow + off) + load<f32>(wr + off) * load<f32>(kr + off));
      }
    }
  }
  scratch_reset(mark);
}
