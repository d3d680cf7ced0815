// y = patches(x) · W as blocked GEMM (assembly/conv/grad.ts).
// Registered only if it beats the stock (XNNPACK) kernel — see src/tfjs/register.ts.
import { Conv2D, backend_util, type Conv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { checkFloat32, checkNHWC, checkStatus, copyIn, copyOut, putGeometry, type WasmBackendLike } from "../bridge.ts";

const NAME = "Conv2D";

export function conv2D(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: Conv2DAttrs }): TensorInfo {
  const { inputs: { x, filter }, backend, attrs } = args;
  checkFloat32(NAME, "x", x);
  checkFloat32(NAME, "filter", filter);
  checkNHWC(NAME, attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const px = copyIn(s, backend, x);
    const pw = copyIn(s, backend, filter);
    const py = s.f32(info.outShape.reduce((a, b) => a * b, 1));
    checkStatus(NAME, s.k.conv2d_f32(g, px, pw, py));
    return copyOut(s, backend, py, info.outShape);
  });
}

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: "wasm",
  kernelFunc: conv2D as unknown as KernelFunc,
};
