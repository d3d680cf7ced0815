// y = max over each window, SIMD over channels (assembly/conv/pool.ts), on odecomp's threads by ranges of
// images. Registered to route as the forward convs do: tfjs-wasm runs one thread in Node (tfjs#3830), so
// when odecomp has more threads, ours takes the call (its input is usually a conv output still resident in
// our heap, and its output stays there for the next conv and for MaxPoolGrad); otherwise stock XNNPACK.
// Bench `engine` profiles it (stock MaxPool was 1.6 ms, 2.6 % of the main CNN's decomposed step on 2 threads).
import { MaxPool, backend_util, type KernelConfig, type KernelFunc, type MaxPoolAttrs, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { sizeOf } from "../../core/tensor.ts";
import { checkFloat32, copyOut, oursHasMoreThreads, putGeometry, readIn, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { outBuf } from "../resident.ts";

const NAME = "MaxPool";

type Args = { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: MaxPoolAttrs };

/** Always odecomp's kernel (the tests call it directly). */
export function maxPool(args: Args): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  checkFloat32(NAME, "x", x);
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const px = readIn(s, backend, x);
    const n = sizeOf(info.outShape), py = outBuf(s, n);
    // A 1×1 window with the input's shape is the identity on tfjs's cpu backend (NaN kept), not a max over one tap.
    if (info.filterHeight === 1 && info.filterWidth === 1 && info.outHeight === info.inHeight && info.outWidth === info.inWidth) s.view(py, n).set(s.view(px, n));
    else s.k.maxpool_f32(g, px, py);
    return copyOut(s, backend, py, info.outShape);
  });
}

/** Which kernel runs the calls: "auto" (ours when it has more threads than tfjs-wasm) or always "stock" (bench `engine`'s A/B). */
export const poolRouting: { prefer: "auto" | "stock" } = { prefer: "auto" };

/** Whether ours takes the call: float32, and more odecomp threads than tfjs-wasm has. */
export function oursPools(x: TensorInfo): boolean {
  return x.dtype === "float32" && poolRouting.prefer === "auto" && oursHasMoreThreads();
}

/** The registered kernel. */
export function maxPoolRouted(args: Args): TensorInfo {
  return (!oursPools(args.inputs.x) && runStock(NAME, args)) || maxPool(args);
}

export const maxPoolRoutedConfig: KernelConfig = {
  kernelName: MaxPool,
  backendName: "wasm",
  kernelFunc: maxPoolRouted as unknown as KernelFunc,
};
