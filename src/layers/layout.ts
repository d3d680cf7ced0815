// Kernel layout permutations, in one place. tfjs (channels-last) layouts:
//   Dense           kernel            [n, m]            (in, out)
//   Conv2D          kernel            [kh, kw, S, T]    (height, width, in, out)
//   DepthwiseConv2D depthwise_kernel  [kh, kw, C, mult]
// Every factorization is a pair of maps: factors → the kernels of a chain of
// stock layers (used by the factorizers) and chain kernels → the original
// kernel (used by reconstruct). Both are pure reshapes, permutations and
// matrix products, so they are testable without any decomposition.
import { type Tensor, sizeOf } from "../core/tensor.ts";
import { matmul } from "../linalg/matmul.ts";
import { fail } from "../core/errors.ts";

/** Same data, new shape (row-major reshape; sizes must agree). */
export function reshape(t: Tensor, shape: number[]): Tensor {
  if (sizeOf(shape) !== t.data.length) fail("reshape", `cannot reshape [${t.shape}] (${t.data.length} values) to [${shape}]`);
  return { data: t.data, shape: [...shape] };
}

/** out[i_perm[0], i_perm[1], ...] = t[i_0, i_1, ...] — numpy's transpose(t, perm). */
export function permute(t: Tensor, perm: number[]): Tensor {
  const nd = t.shape.length;
  if (perm.length !== nd || [...perm].sort().some((p, i) => p !== i)) fail("permute", `perm [${perm}] is not a permutation of 0..${nd - 1}`);
  const outShape = perm.map((p) => t.shape[p]);
  const inStrides = new Array<number>(nd);
  let st = 1;
  for (let d = nd - 1; d >= 0; d--) { inStrides[d] = st; st *= t.shape[d]; }
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(t.data.length);
  if (nd === 4) {
    const [d0, d1, d2, d3] = outShape, [s0, s1, s2, s3] = strides, src4 = t.data;
    let o = 0;
    for (let a = 0; a < d0; a++) for (let b = 0; b < d1; b++) for (let c = 0; c < d2; c++) {
      const base = a * s0 + b * s1 + c * s2;
      for (let d = 0; d < d3; d++) out[o++] = src4[base + d * s3];
    }
    return { data: out, shape: outShape };
  }
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = t.data[src];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

export function transpose2(t: Tensor): Tensor {
  return permute(t, [1, 0]);
}

/** A·B for 2-D tensors (wasm GEMM). */
export function mm(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return matmul(a, b, { transposeA, transposeB });
}

/** Scale column j of a (rows × cols) by s[j]. */
export function scaleColumns(a: Tensor, s: ArrayLike<number>): Tensor {
  const [r, c] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = a.data[i * c + j] * s[j];
  return { data: out, shape: [r, c] };
}

/** First k columns of a (rows × cols). */
export function leadingColumns(a: Tensor, k: number): Tensor {
  const [r, c] = a.shape;
  if (k === c) return a;
  const out = new Float32Array(r * k);
  for (let i = 0; i < r; i++) out.set(a.data.subarray(i * c, i * c + k), i * k);
  return { data: out, shape: [r, k] };
}

// ---- Dense ---------------------------------------------------------------

/** W ≈ U·diag(s)·Vᵀ → kernels of Dense(n→r) and Dense(r→m): U·√s and √s·Vᵀ. */
export function denseFromSvd(u: Tensor, s: ArrayLike<number>, v: Tensor): { first: Tensor; second: Tensor } {
  const root = Array.from(s, (x) => Math.sqrt(Math.max(x, 0)));
  return { first: scaleColumns(u, root), second: transpose2(scaleColumns(v, root)) };
}

export function denseFold(first: Tensor, second: Tensor): Tensor {
  return mm(first, second);
}

// ---- Conv2D: channel SVD (and Tucker-1 on the output mode) ---------------

/** [kh, kw, S, T] → (kh·kw·S) × T (a reshape in tfjs layout). */
export function convChannelMatrix(k: Tensor): Tensor {
  const [kh, kw, s, t] = k.shape;
  return reshape(k, [kh * kw * s, t]);
}

/** Channel factors (A: (kh·kw·S)×R, B: R×T) → kernels [kh,kw,S,R] and [1,1,R,T]. */
export function channelKernels(a: Tensor, b: Tensor, kh: number, kw: number): { spatial: Tensor; pointwise: Tensor } {
  const s = a.shape[0] / (kh * kw);
  const r = a.shape[1];
  return { spatial: reshape(a, [kh, kw, s, r]), pointwise: reshape(b, [1, 1, r, b.shape[1]]) };
}

export function channelFold(spatial: Tensor, pointwise: Tensor): Tensor {
  const [kh, kw, s, r] = spatial.shape;
  const t = pointwise.shape[3];
  return reshape(mm(reshape(spatial, [kh * kw * s, r]), reshape(pointwise, [r, t])), [kh, kw, s, t]);
}

/** Tucker-1 on the output mode: core [kh,kw,S,R] and U_out (T×R) → kernels [kh,kw,S,R], [1,1,R,T]. */
export function tucker1Kernels(core: Tensor, uOut: Tensor): { spatial: Tensor; pointwise: Tensor } {
  const [t, r] = uOut.shape;
  return { spatial: core, pointwise: reshape(transpose2(uOut), [1, 1, r, t]) };
}

// ---- Conv2D: spatial SVD --------------------------------------------------

/** [kh, kw, S, T] → (kh·S) × (kw·T): rows (i, s), columns (j, t). */
export function convSpatialMatrix(k: Tensor): Tensor {
  const [kh, kw, s, t] = k.shape;
  return reshape(permute(k, [0, 2, 1, 3]), [kh * s, kw * t]);
}

/** A: (kh·S)×R, B: (kw·T)×R → vertical kernel [kh,1,S,R] and horizontal kernel [1,kw,R,T]. */
export function spatialKernels(a: Tensor, b: Tensor, kh: number, kw: number): { vertical: Tensor; horizontal: Tensor } {
  const r = a.shape[1];
  const s = a.shape[0] / kh;
  const t = b.shape[0] / kw;
  const h = permute(reshape(b, [kw, t, r]), [0, 2, 1]); // [kw, R, T]
  return { vertical: reshape(a, [kh, 1, s, r]), horizontal: reshape(h, [1, kw, r, t]) };
}

export function spatialFold(vertical: Tensor, horizontal: Tensor): Tensor {
  const [kh, , s, r] = vertical.shape;
  const [, kw, , t] = horizontal.shape;
  const b = reshape(permute(reshape(horizontal, [kw, r, t]), [1, 0, 2]), [r, kw * t]);
  const m = mm(reshape(vertical, [kh * s, r]), b); // (kh·S) × (kw·T)
  return permute(reshape(m, [kh, s, kw, t]), [0, 2, 1, 3]);
}

// ---- Conv2D: Tucker-2 -----------------------------------------------------

/**
 * Partial Tucker on the channel modes, K ≈ core ×₂ U_in ×₃ U_out with core [kh,kw,Rin,Rout],
 * U_in S×Rin, U_out T×Rout → kernels [1,1,S,Rin], [kh,kw,Rin,Rout], [1,1,Rout,T].
 */
export function tucker2Kernels(core: Tensor, uIn: Tensor, uOut: Tensor): { first: Tensor; core: Tensor; last: Tensor } {
  const [s, rin] = uIn.shape;
  const [t, rout] = uOut.shape;
  return { first: reshape(uIn, [1, 1, s, rin]), core, last: reshape(transpose2(uOut), [1, 1, rout, t]) };
}

export function tucker2Fold(first: Tensor, core: Tensor, last: Tensor): Tensor {
  const [kh, kw, rin, rout] = core.shape;
  const s = first.shape[2];
  const t = last.shape[3];
  // (kh·kw·Rin) × Rout · Rout × T → [kh, kw, Rin, T]
  const right = reshape(mm(reshape(core, [kh * kw * rin, rout]), reshape(last, [rout, t])), [kh * kw, rin, t]);
  // S × Rin · Rin × (kh·kw·T), after moving Rin to the front.
  const moved = reshape(permute(right, [1, 0, 2]), [rin, kh * kw * t]);
  const full = reshape(mm(reshape(first, [s, rin]), moved), [s, kh, kw, t]);
  return permute(full, [1, 2, 0, 3]);
}

// ---- Conv2D: CP -------------------------------------------------------------

/**
 * K[i,j,s,t] ≈ Σ_r λ_r A[i,r] B[j,r] C[s,r] D[t,r] (A: kh×R, B: kw×R, C: S×R, D: T×R) →
 * 1×1 [1,1,S,R] = C, depthwise [kh,1,R,1] = A, depthwise [1,kw,R,1] = B, 1×1 [1,1,R,T] = (D·diag λ)ᵀ.
 */
export function cpKernels(weights: ArrayLike<number>, a: Tensor, b: Tensor, c: Tensor, d: Tensor): { first: Tensor; vertical: Tensor; horizontal: Tensor; last: Tensor } {
  const r = a.shape[1];
  const [kh, kw, s, t] = [a.shape[0], b.shape[0], c.shape[0], d.shape[0]];
  return {
    first: reshape(c, [1, 1, s, r]),
    vertical: reshape(a, [kh, 1, r, 1]),
    horizontal: reshape(b, [1, kw, r, 1]),
    last: reshape(transpose2(scaleColumns(d, weights)), [1, 1, r, t]),
  };
}

export function cpFold(first: Tensor, vertical: Tensor, horizontal: Tensor, last: Tensor): Tensor {
  const s = first.shape[2], r = first.shape[3];
  const kh = vertical.shape[0], kw = horizontal.shape[1], t = last.shape[3];
  const p = new Float32Array(kh * kw * s * r);
  const A = vertical.data, B = horizontal.data, C = first.data;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let q = 0; q < s; q++) {
        const o = ((i * kw + j) * s + q) * r;
        for (let x = 0; x < r; x++) p[o + x] = A[i * r + x] * B[j * r + x] * C[q * r + x];
      }
    }
  }
  return reshape(mm({ data: p, shape: [kh * kw * s, r] }, reshape(last, [r, t])), [kh, kw, s, t]);
}

/**
 * ‖a − b‖_F / ‖b‖_F of a folded kernel against the original (0 when both vanish, Infinity when only b
 * does). Named apart from `FactorizedTensor.relativeError`, which compares a decomposition with its input.
 */
export function kernelRelativeError(approx: Tensor, exact: Tensor): number {
  let num = 0, den = 0;
  for (let i = 0; i < exact.data.length; i++) {
    const d = approx.data[i] - exact.data[i];
    num += d * d;
    den += exact.data[i] * exact.data[i];
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/** Mode-n unfolding of a 4-D kernel as a matrix: dim(n) × (product of the other dims). */
export function convModeMatrix(k: Tensor, mode: number): Tensor {
  const perm = [mode, ...[0, 1, 2, 3].filter((d) => d !== mode)];
  return reshape(permute(k, perm), [k.shape[mode], k.data.length / k.shape[mode]]);
}
