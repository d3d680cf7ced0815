// dx = Σ dy · W over the taps, SIMD over channels (assembly/conv/depthwise.ts).
// The stock wasm backend has no such kernel.
import { DepthwiseConv2dNativeBackpropInput, backend_util, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { checkFloat32, copyIn, copyOut, putGeometry, type WasmBackendLike } from "../bridge.ts";

const NAME = "DepthwiseConv2dNativeBackpropInput";

export function depthwiseConv2dNativeBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: DepthwiseConv2dNativeBackpropInputAttrs }): TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  checkFloat32(NAME, "dy", dy);
  checkFloat32(NAME, "filter", filter);
  const info = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides,
    attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return withScratch((s) => {
    const g = putGeometry(s, info, true);
    const pdy = copyIn(s, backend, dy);
    const pw = copyIn(s, backend, filter);
    const pdx = s.f32(attrs.inputShape.reduce((a, b) => a * b, 1));
    s.k.depthwise_backprop_input_f32(g, pdy, pw, pdx);
    return copyOut(s, backend, pdx, info.inShape);
  });
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: "wasm",
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
