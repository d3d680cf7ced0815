// Tensor train by TT-SVD (Oseledets 2011): sweep left to right, each step
// keeping the leading singular vectors of the current (r_k·d_k) × rest
// matrix. The singular vectors come from the Gram matrix of the shorter side
// (one GEMM + the symmetric eigensolver), the remainder from one more GEMM.
import { type Tensor, checkTensor, sizeOf } from "../core/tensor.ts";
import { withScratch } from "../core/heap.ts";
import { gemm } from "../core/kernels.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { eighInto } from "../linalg/eigh.ts";
import { KERNEL_SLACK, scaleInPlace, unscale } from "../linalg/scale.ts";
import { numOption } from "./common.ts";
import { type EncodedFactorized, FactorizedTensor } from "./factorized.ts";

export interface TTOptions {
  /** Largest TT rank (one number for every bond) or the N−1 inner ranks. */
  rank?: number | number[];
  /** Relative error target: bonds are truncated so ‖X − X̂‖ ≤ tol·‖X‖ (with rank as a cap when both are given). */
  tol?: number;
}

export interface EncodedTT extends EncodedFactorized {
  $class: "TTTensor"; cores: Tensor[];
}

/** cores[k] has shape [r_k, d_k, r_{k+1}] with r_0 = r_N = 1. */
export class TTTensor extends FactorizedTensor {
  constructor(readonly cores: Tensor[]) {
    super();
  }

  get kind(): "TTTensor" {
    return "TTTensor";
  }

  get shape(): number[] {
    return this.cores.map((c) => c.shape[1]);
  }

  /** [1, r_1, …, r_{N−1}, 1]. */
  get ranks(): number[] {
    return [...this.cores.map((c) => c.shape[0]), 1];
  }

  toDense(): Tensor {
    const shape = this.shape;
    return withScratch((s) => {
      let cur = s.put(this.cores[0].data);
      let rows = shape[0];
      for (let k = 1; k < this.cores.length; k++) {
        const [r, d, r2] = this.cores[k].shape;
        const c = s.put(this.cores[k].data);
        const out = s.f32(rows * d * r2);
        gemm(s.k, { m: rows, n: d * r2, k: r, a: cur, lda: r, b: c, ldb: d * r2, c: out, ldc: d * r2 });
        cur = out;
        rows *= d;
      }
      return { data: s.take(cur, sizeOf(shape)), shape };
    });
  }

  nParams(): number {
    return this.cores.reduce((a, c) => a + sizeOf(c.shape), 0);
  }

  encode(): EncodedTT {
    return { $class: "TTTensor", cores: this.cores };
  }

  static decode(e: EncodedTT): TTTensor {
    return new TTTensor(e.cores);
  }
}

export function tt(t: Tensor, options: TTOptions): TTTensor {
  const where = "tt";
  checkTensor(where, "t", t);
  if (options === null || typeof options !== "object") fail(where, `options must be an object like { rank: 8 } or { tol: 1e-3 }, got ${show(options)}`);
  const shape = [...t.shape];
  const N = shape.length;
  if (options.rank === undefined && options.tol === undefined) fail(where, "expected a rank ({ rank: 8 } or one per bond) or a tolerance ({ tol: 1e-3 }); got neither");
  const tol = options.tol === undefined ? 0 : numOption(where, "tol", options.tol, 0, 0, 1);
  let caps: number[];
  const rk = options.rank;
  if (rk === undefined) caps = new Array(N - 1).fill(Infinity);
  else if (typeof rk === "number") {
    if (!Number.isInteger(rk) || rk < 1) fail(where, `rank ${show(rk)} is invalid; expected an integer ≥ 1`);
    caps = new Array(N - 1).fill(rk);
  } else if (Array.isArray(rk)) {
    if (rk.length !== N - 1) fail(where, `rank [${rk}] has ${rk.length} entries; expected ${N - 1} inner ranks for a ${N}-way tensor`);
    caps = rk.map((r, k) => {
      let left = 1, right = 1;
      for (let j = 0; j <= k; j++) left *= shape[j];
      for (let j = k + 1; j < N; j++) right *= shape[j];
      const max = Math.min(left, right);
      if (typeof r !== "number" || !Number.isInteger(r) || r < 1 || r > max) fail(where, `rank ${show(r)} for bond ${k + 1} is invalid; expected an integer in 1…${max}`);
      return r;
    });
  } else fail(where, `rank ${show(rk)} is invalid; expected an integer or an array of ${N - 1} integers`);

  return withScratch((s) => {
    // the tensor and its remainders, and per bond the Gram of the shorter side and its eigensolve
    let grams = 0, left = 1;
    for (let n = 0; n < N - 1; n++) {
      left *= shape[n];
      const small = Math.min(left, t.data.length / left);
      grams += 5 * small * small;
    }
    s.need(4 * (3 * t.data.length + grams) + KERNEL_SLACK, where, `TT-SVD of a [${shape}] tensor`);
    const k = s.k;
    let c = s.put(t.data, where, "t");
    // tiny or huge values: decompose 2^e·t (exact); the last core carries the scale back
    const scaleExp = scaleInPlace(s, c, t.data.length);
    const normX2 = k.sumsq_f32(c, t.data.length);
    const delta2 = N > 1 ? (tol * tol * normX2) / (N - 1) : 0;
    const cores: Tensor[] = [];
    let r = 1;
    let rest = t.data.length;
    for (let n = 0; n < N - 1; n++) {
      const m = r * shape[n];
      rest /= shape[n];
      const small = Math.min(m, rest);
      const g = s.f32(small * small);
      if (m <= rest) gemm(k, { transB: true, m, n: m, k: rest, a: c, lda: rest, b: c, ldb: rest, c: g, ldc: m });
      else gemm(k, { transA: true, m: rest, n: rest, k: m, a: c, lda: rest, b: c, ldb: rest, c: g, ldc: rest });
      const e = eighInto(s, g, small);
      const lam = s.view(e.values, small);
      let rNext = Math.min(caps[n], small);
      if (tol > 0) {
        let tail = 0, keep = small;
        for (let i = small - 1; i > 0; i--) {
          tail += Math.max(lam[i], 0);
          if (tail > delta2) break;
          keep = i;
        }
        rNext = Math.min(rNext, keep);
      }
      const vr = s.f32(small * rNext);
      k.copy_block_f32(e.vectors, small, vr, rNext, small, rNext);
      const next = s.f32(rNext * rest);
      if (m <= rest) {
        cores.push({ data: s.take(vr, m * rNext), shape: [r, shape[n], rNext] });
        gemm(k, { transA: true, m: rNext, n: rest, k: m, a: vr, lda: rNext, b: c, ldb: rest, c: next, ldc: rest });
      } else {
        // C ≈ (C·V)·Vᵀ = U·Σ·Vᵀ: the core gets U = C·V·Σ⁻¹, the remainder Σ·Vᵀ (as in a plain SVD sweep)
        const sig = s.f32(rNext), inv = s.f32(rNext);
        const sv = s.view(sig, rNext), iv = s.view(inv, rNext);
        for (let i = 0; i < rNext; i++) { sv[i] = Math.sqrt(Math.max(lam[i], 0)); iv[i] = sv[i] > 0 ? 1 / sv[i] : 0; }
        const core = s.f32(m * rNext);
        gemm(k, { m, n: rNext, k: rest, a: c, lda: rest, b: vr, ldb: rNext, c: core, ldc: rNext });
        k.scale_cols_f32(core, m, rNext, inv);
        cores.push({ data: s.take(core, m * rNext), shape: [r, shape[n], rNext] });
        k.scale_cols_f32(vr, rest, rNext, sig);
        k.swap_last_f32(vr, 1, rest, rNext, next);
      }
      c = next;
      r = rNext;
    }
    unscale(s, where, "TT core values", c, r * shape[N - 1], scaleExp);
    cores.push({ data: s.take(c, r * shape[N - 1]), shape: [r, shape[N - 1], 1] });
    return new TTTensor(cores);
  });
}
