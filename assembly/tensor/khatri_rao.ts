// Khatri–Rao product and MTTKRP (matricised tensor times Khatri–Rao product).
// Row order follows the unfolding convention of tensor/unfold.ts: in
// khatri_rao_f32(a, I, b, J, R) row i·J + j pairs row i of a with row j of b
// (first matrix slowest), so X_(n) · KR(U_0..U_{n-1}, U_{n+1}..) lines up.
import { gemm_f32 } from "../linalg/gemm";
import { fma4 } from "../simd";
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

/** orow[r] += wr[r] · kr[r] for r < R (the row update both MTTKRP reductions share). */
@inline function addmulRow(orow: usize, wr: usize, kr: usize, R: i32): void {
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

/**
 * MTTKRP for x viewed as (A, I, B): out (I × R) = X_(n) · (Kb ⊙ Ka), where
 * kb (A × R) is the Khatri–Rao product of the factors of the modes before n
 * and ka (B × R) that of the modes after n (pass 0 for an empty side, i.e.
 * A == 1 or B == 1: a row of ones). The Khatri–Rao product of all other
 * modes is never formed: W = x(A·I × B) · Ka is one GEMM, then
 * out[i, r] = Σ_a W[a·I + i, r] · Kb[a, r].
 */
export function mttkrp_f32(x: usize, A: i32, I: i32, B: i32, kb: usize, ka: usize, R: i32, out: usize): void {
  if (kb == 0) {
    // A == 1: out = x(I × B) · Ka
    gemm_f32(0, 0, I, R, B, 1, x, B, ka, R, 0, out, R);
    return;
  }
  const mark = scratch_mark();
  if (<i64>I * <i64>B * <i64>R <= 65536) {
    // Contract over a first: W (I·B × R) = Σ_a x[a, :]ᵀ ⊗ Kb[a, :], kept in cache;
    // then out[i, r] = Σ_b W[i·B + b, r] · Ka[b, r]. Avoids the tall-skinny
    // GEMMs (K = 3 or m = 3) that conv-kernel modes would otherwise give.
    const IB = I * B;
    const w = scratch_alloc(<usize>IB * <usize>R * 4);
    // accumulate each row W[j, r0:r0+16] in registers over all a (no W traffic in the a loop)
    for (let j = 0; j < IB; j++) {
      const wr = w + (<usize>(j * R) << 2);
      let r0 = 0;
      for (; r0 + 16 <= R; r0 += 16) {
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
        let xp = x + (<usize>j << 2);
        let kp = kb + (<usize>r0 << 2);
        for (let a = 0; a < A; a++) {
          const xs = f32x4.splat(load<f32>(xp));
          c0 = fma4(xs, v128.load(kp), c0);
          c1 = fma4(xs, v128.load(kp, 16), c1);
          c2 = fma4(xs, v128.load(kp, 32), c2);
          c3 = fma4(xs, v128.load(kp, 48), c3);
          xp += <usize>IB << 2;
          kp += <usize>R << 2;
        }
        const o = wr + (<usize>r0 << 2);
        v128.store(o, c0); v128.store(o, c1, 16); v128.store(o, c2, 32); v128.store(o, c3, 48);
      }
      for (; r0 + 4 <= R; r0 += 4) {
        let c0 = f32x4.splat(0);
        let xp = x + (<usize>j << 2);
        let kp = kb + (<usize>r0 << 2);
        for (let a = 0; a < A; a++) {
          c0 = fma4(f32x4.splat(load<f32>(xp)), v128.load(kp), c0);
          xp += <usize>IB << 2;
          kp += <usize>R << 2;
        }
        v128.store(wr + (<usize>r0 << 2), c0);
      }
      for (; r0 < R; r0++) {
        let c: f32 = 0;
        for (let a = 0; a < A; a++) c += load<f32>(x + (<usize>(a * IB + j) << 2)) * load<f32>(kb + (<usize>(a * R + r0) << 2));
        store<f32>(wr + (<usize>r0 << 2), c);
      }
    }
    if (ka == 0) {
      memory.copy(out, w, <usize>IB * <usize>R * 4);
    } else {
      memory.fill(out, 0, <usize>I * <usize>R * 4);
      for (let i = 0; i < I; i++) {
        const orow = out + (<usize>(i * R) << 2);
        for (let b = 0; b < B; b++) {
          const wr = w + (<usize>((i * B + b) * R) << 2);
          const kr = ka + (<usize>(b * R) << 2);
          addmulRow(orow, wr, kr, R);
        }
      }
    }
    scratch_reset(mark);
    return;
  }
  if (ka == 0) {
    // B == 1: out = x(A × I)ᵀ · Kb
    gemm_f32(1, 0, I, R, A, 1, x, I, kb, R, 0, out, R);
    scratch_reset(mark);
    return;
  }
  const w = scratch_alloc(<usize>A * <usize>I * <usize>R * 4);
  gemm_f32(0, 0, A * I, R, B, 1, x, B, ka, R, 0, w, R);
  memory.fill(out, 0, <usize>I * <usize>R * 4);
  for (let a = 0; a < A; a++) {
    const kr = kb + (<usize>(a * R) << 2);
    for (let i = 0; i < I; i++) {
      const wr = w + (<usize>((a * I + i) * R) << 2);
      const orow = out + (<usize>(i * R) << 2);
      addmulRow(orow, wr, kr, R);
    }
  }
  scratch_reset(mark);
}
