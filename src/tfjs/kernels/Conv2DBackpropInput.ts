// dx = col2im(dy · Wᵀ) as blocked GEMM (assembly/conv/grad.ts).
// Replaces the stock kernel, which measured ≈ 8× slower (see src/tfjs/register.ts).
// A pointwise conv whose forward input is still alive gets dw in the same pass
// (assembly/conv/pointwise_grad.ts), parked for the Conv2DBackpropFilter call that follows
// (src/tfjs/conv-grad-pairing.ts). One input channel and few output channels: a direct kernel.
import { Conv2DBackpropInput, backend_util, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { type Scratch, withScratch } from "../../core/heap.ts";
import { checkFloat32, checkNHWC, checkStatus, copyIn, copyOut, putGeometry, readIn, type WasmBackendLike } from "../bridge.ts";
import { outBuf } from "../resident.ts";
import { forwardInputOf, parkFilterGrad } from "../conv-grad-pairing.ts";

const NAME = "Conv2DBackpropInput";

/**
 * One input channel, stride 1, no dilation, at most this many output channels: the direct kernel of
 * assembly/conv/single_channel.ts (x [64,28,28,1], 3×3 filter, one thread, load 5: 0.77 vs 0.94 ms
 * at 4 channels, 0.88 vs 0.97 at 5, but 2.0 vs 1.9 at 32, where the GEMM's tiles fill).
 */
export const C1_DX_MAX_OUT = 8;

/** Whether a single-channel direct kernel (dx or dW, assembly/conv/single_channel.ts) takes this conv: one input channel, at most `maxOut` output channels, stride 1, no dilation. */
export function singleChannel(info: backend_util.Conv2DInfo, maxOut: number): boolean {
  return info.inChannels === 1 && info.outChannels <= maxOut && info.strideHeight === 1 && info.strideWidth === 1
    && info.dilationHeight === 1 && info.dilationWidth === 1;
}

/** A 1×1 filter at stride 1 without padding: x is the patch matrix itself. */
export function isPointwise(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1
    && info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
}

/** The pointwise conv's forward input when it can still be read and fits this call, else undefined. */
function pairedInput(info: backend_util.Conv2DInfo, filter: TensorInfo, backend: WasmBackendLike, inputShape: readonly number[]): TensorInfo | undefined {
  if (!isPointwise(info)) return undefined;
  const x = forwardInputOf(filter);
  if (!x || x.dtype !== "float32" || x.shape.length !== 4 || x.shape.some((d, i) => d !== inputShape[i])) return undefined;
  return backend.refCount(x.dataId) > 0 ? x : undefined;
}

/** dx from dy and the filter already in our heap (g: putGeometry's), by the kernel that suits the shape; returns its status. */
export function backpropInputInHeap(s: Scratch, info: backend_util.Conv2DInfo, g: number, pdy: number, pw: number, pdx: number): number {
  return singleChannel(info, C1_DX_MAX_OUT) ? s.k.conv2d_backprop_input_c1_f32(g, pdy, pw, pdx) : s.k.conv2d_backprop_input_f32(g, pdy, pw, pdx);
}

export function conv2DBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  checkFloat32(NAME, "dy", dy);
  checkFloat32(NAME, "filter", filter);
  checkNHWC(NAME, attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1,
    attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  const x = pairedInput(info, filter, backend, attrs.inputShape);
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const pdy = readIn(s, backend, dy);
    const pw = copyIn(s, backend, filter);
    const pdx = outBuf(s, attrs.inputShape.reduce((a, b) => a * b, 1));
    if (x) {
      const px = readIn(s, backend, x);
      const pdw = s.f32(info.inChannels * info.outChannels);
      checkStatus(NAME, s.k.conv2d_backprop_pointwise_f32(g, px, pdy, pw, pdx, pdw));
      parkFilterGrad(x, dy, filter.shape, s.take(pdw, info.inChannels * info.outChannels));
    } else {
      checkStatus(NAME, backpropInputInHeap(s, info, g, pdy, pw, pdx));
    }
    return copyOut(s, backend, pdx, info.inShape);
  });
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
