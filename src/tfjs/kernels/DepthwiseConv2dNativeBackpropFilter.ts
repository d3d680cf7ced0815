// dW[kh, kw, c, m] = Σ x · dy, SIMD over channels (assembly/conv/depthwise.ts).
// The stock wasm backend has no such kernel.
import { DepthwiseConv2dNativeBackpropFilter, backend_util, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { checkFloat32, copyIn, copyOut, putGeometry, type WasmBackendLike } from "../bridge.ts";

const NAME = "DepthwiseConv2dNativeBackpropFilter";

export function depthwiseConv2dNativeBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: DepthwiseConv2dNativeBackpropFilterAttrs }): TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  checkFloat32(NAME, "x", x);
  checkFloat32(NAME, "dy", dy);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides,
    attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return withScratch((s) => {
    const g = putGeometry(s, info, true);
    const px = copyIn(s, backend, x);
    const pdy = copyIn(s, backend, dy);
    const pdw = s.f32(attrs.filterShape.reduce((a, b) => a * b, 1));
    s.k.depthwise_backprop_filter_f32(g, px, pdy, pdw);
    return copyOut(s, backend, pdw, info.filterShape);
  });
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: "wasm",
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
