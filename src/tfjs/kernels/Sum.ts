// Sum over the leading axes of a float32 tensor (the bias gradient of every conv and Dense layer:
// dy [b, h, w, c] summed to [c]) as column sums in one SIMD pass with f64 accumulators
// (assembly/conv/bias_grad.ts). Stock tfjs-wasm first transposes the reduced axes innermost (a
// strided copy of all of dy), then sums: 5–10 % of a training step of the main job's CNN
// (bench/engine.bench.ts). A first version summed in JS straight from tfjs's heap (no copy) and
// measured level with stock; the copy into our heap plus SIMD is cheaper than scalar JS. Other
// reductions (the innermost axes, which stock reduces without a transpose; other dtypes; mixed
// axes) stay stock.
import { Sum, backend_util, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { checkStatus, copyIn, copyOut, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";

const NAME = "Sum";

type Args = { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: SumAttrs };

/** Number of leading axes reduced when `axes` are exactly 0..k-1 with k < rank, else 0. */
function leadingAxes(x: TensorInfo, axis: SumAttrs["axis"]): number {
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= x.shape.length) return 0;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return 0;
  return axes.length;
}

/** Column sums of the [rows, cols] view of x (rows = product of the k leading dims). */
export function sum(args: Args): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  const k = x.dtype === "float32" ? leadingAxes(x, attrs.axis) : 0;
  if (k === 0) return runStock(NAME, args)!;
  const rows = util.sizeFromShape(x.shape.slice(0, k)), cols = util.sizeFromShape(x.shape.slice(k));
  const outShape = attrs.keepDims ? backend_util.expandShapeToKeepDim(x.shape.slice(k), util.parseAxisParam(attrs.axis, x.shape)) : x.shape.slice(k);
  return withScratch((s) => {
    const px = copyIn(s, backend, x);
    const po = s.f32(cols);
    checkStatus(NAME, s.k.col_sums_f32(px, rows, cols, po));
    return copyOut(s, backend, po, outShape);
  });
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: "wasm",
  kernelFunc: sum as unknown as KernelFunc,
};
