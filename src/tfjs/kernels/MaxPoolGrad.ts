// dx[argmax of each window] += dy, SIMD over channels (assembly/conv/pool.ts).
// Replaces the stock kernel, which took ≈ 25 % of the reference CNN's training
// step (bench/tfjs.bench.ts); ties resolve like tfjs's cpu backend (first max).
// On odecomp's threads, by ranges of images.
import { MaxPoolGrad, backend_util, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { checkFloat32, copyOut, putGeometry, readIn, serialUnlessThreaded, type WasmBackendLike } from "../bridge.ts";
import { outBuf } from "../resident.ts";

const NAME = "MaxPoolGrad";

export function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: WasmBackendLike; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { inputs: { dy, input }, backend, attrs } = args;
  checkFloat32(NAME, "dy", dy);
  checkFloat32(NAME, "input", input);
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1,
    attrs.pad, attrs.dimRoundingMode);
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const px = readIn(s, backend, input);
    const pdy = readIn(s, backend, dy);
    const pdx = outBuf(s, input.shape.reduce((a, b) => a * b, 1));
    serialUnlessThreaded(s, () => s.k.maxpool_backprop_f32(g, px, pdy, pdx));
    return copyOut(s, backend, pdx, input.shape);
  });
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: "wasm",
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
