// op(A)·op(B) per batch with gemm_f32 (all transposes at one speed), batch
// dims broadcast numpy-style. Replaces the stock kernel, which is fast only
// untransposed — and Dense backprop uses exactly the transposed forms.
import { BatchMatMul, broadcast_util, type BatchMatMulAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { fail } from "../../core/errors.ts";
import { checkFloat32, copyIn, copyOut, serialUnlessThreaded, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { denseOnOurThreads } from "./FusedMatMul.ts";

const NAME = "BatchMatMul";

/**
 * Untransposed single (unbatched) products go to the stock kernel (XNNPACK): it
 * measured level with ours (bench/tfjs.bench.ts "BatchMatMul NN 512³" and
 * "NN 64×1024×784": 0.96–1.04× in one noisy run) and reaches ≈ 28 GFLOP/s on a quiet
 * machine. Batched NN stays ours: stock is ≈ 9× slower there ("NN batch 16 × 128³").
 * Training hits NN too: fused.matMul does not fuse relu while recording gradients.
 * Except, as _FusedMatMul (kernels/FusedMatMul.ts), where odecomp has more threads than tfjs-wasm and
 * the product has at least ROUTE_MIN_MACS multiply-adds (denseOnOurThreads): our GEMM on two threads ran the main CNN's
 * fc1 forward (64×3136 · 3136×128) in 1.95 ms against stock's 2.78.
 */
export const NN_TO_STOCK = true;

/**
 * Aᵀ·B over at most this many rows (Dense's weight gradient xᵀ·dy, rows = the batch) runs
 * gemm_tn_rows (assembly/conv/gemm_tn.ts: operands read in place, no packing): on the main job's
 * Dense shapes (64 rows; 3136×74, 3136×128, 74×128, 128×10) it measured 1.1–3× gemm_f32 with one or
 * two threads (one process, alternated, load 4.2) and gave the same floats. Threaded over C's rows
 * (gemm_tn_par; bitwise the same on any thread count).
 */
export const TN_ROWS_MAX = 256;

/** Flat batch index into `dims` (right-aligned, size-1 dims broadcast) for each flat index of `outDims`. */
function batchIndex(outDims: number[], dims: number[]): Int32Array {
  const total = outDims.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(total);
  const off = outDims.length - dims.length;
  for (let i = 0; i < total; i++) {
    let rest = i, flat = 0, stride = 1;
    for (let d = outDims.length - 1; d >= 0; d--) {
      const coord = rest % outDims[d];
      rest = Math.floor(rest / outDims[d]);
      const dd = d - off;
      if (dd >= 0) {
        if (dims[dd] !== 1) flat += coord * stride;
        stride *= dims[dd];
      }
    }
    idx[i] = flat;
  }
  return idx;
}

export function batchMatMul(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackendLike; attrs: BatchMatMulAttrs }): TensorInfo {
  const { inputs: { a, b }, backend, attrs } = args;
  checkFloat32(NAME, "a", a);
  checkFloat32(NAME, "b", b);
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2) fail(NAME, `inputs must have rank ≥ 2; got a [${a.shape}] and b [${b.shape}]`);
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka !== kb) {
    fail(NAME, `inner shapes (${ka}) and (${kb}) of a [${a.shape}] and b [${b.shape}] with transposeA=${ta}, transposeB=${tb} must match`);
  }
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const sizeA = outerA.reduce((x, y) => x * y, 1), sizeB = outerB.reduce((x, y) => x * y, 1);
  if (NN_TO_STOCK && !ta && !tb && sizeA === 1 && sizeB === 1 && !denseOnOurThreads(m, n, ka)) {
    const out = runStock(NAME, args);
    if (out) return out;
  }
  const outShape = [...outer, m, n];
  const batches = outer.reduce((x, y) => x * y, 1);
  return withScratch((s) => {
    const pa = copyIn(s, backend, a);
    const pb = copyIn(s, backend, b);
    const pc = s.f32(batches * m * n);
    const lda = a.shape[ra - 1], ldb = b.shape[rb - 1];
    const sa = m * ka * 4, sb = ka * n * 4, sc = m * n * 4;
    const tn = ta && !tb && ka <= TN_ROWS_MAX;
    // C = op(A)·op(B) for one batch (byte offsets into a, b, c)
    const product = (oa: number, ob: number, oc: number) => tn
      ? serialUnlessThreaded(s, () => s.k.gemm_tn_par(ka, m, n, pa + oa, lda, pb + ob, ldb, pc + oc, n, 0))
      : s.k.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, ka, 1, pa + oa, lda, pb + ob, ldb, 0, pc + oc, n);
    if (batches === 1) {
      product(0, 0, 0);
    } else {
      const ia = batchIndex(outer, outerA), ib = batchIndex(outer, outerB);
      for (let i = 0; i < batches; i++) product(ia[i] * sa, ib[i] * sb, i * sc);
    }
    return copyOut(s, backend, pc, outShape);
  });
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: "wasm",
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
