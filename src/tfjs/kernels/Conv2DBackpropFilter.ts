// dW = Σ patches(x)ᵀ · dy as blocked GEMM (assembly/conv/grad.ts). The stock
// wasm backend has no such kernel (model.fit of any Conv2D model throws).
// A pointwise conv's dW may already have been computed by Conv2DBackpropInput in its pass over dy
// (src/tfjs/conv-grad-pairing.ts): then it is only copied out. One input channel and few output
// channels: a direct kernel (assembly/conv/single_channel.ts).
import { Conv2DBackpropFilter, backend_util, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { type Scratch, withScratch } from "../../core/heap.ts";
import { checkFloat32, checkNHWC, checkStatus, copyOut, putGeometry, readIn, type WasmBackendLike } from "../bridge.ts";
import { takeFilterGrad } from "../conv-grad-pairing.ts";
import { isPointwise, singleChannel } from "./Conv2DBackpropInput.ts";

const NAME = "Conv2DBackpropFilter";

/**
 * One input channel, stride 1, no dilation, at most this many output channels: the direct kernel of
 * assembly/conv/single_channel.ts (x [64,28,28,1], 3×3 filter, one thread, load 5: 0.24 vs 0.87 ms at
 * 4 channels, 0.52 vs 0.95 at 5; level at 32, where grad.ts also splits over threads and this does not).
 */
export const C1_DW_MAX_OUT = 16;

/** dW from x and dy already in our heap (g: putGeometry's), by the kernel that suits the shape; returns its status. */
export function backpropFilterInHeap(s: Scratch, info: backend_util.Conv2DInfo, g: number, px: number, pdy: number, pdw: number): number {
  return singleChannel(info, C1_DW_MAX_OUT) ? s.k.conv2d_backprop_filter_c1_f32(g, px, pdy, pdw) : s.k.conv2d_backprop_filter_f32(g, px, pdy, pdw);
}

export function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  checkFloat32(NAME, "x", x);
  checkFloat32(NAME, "dy", dy);
  checkNHWC(NAME, attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1,
    attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  // (x, dy) fix the positions; a pointwise geometry here too fixes how they pair up
  const parked = takeFilterGrad(x, dy, attrs.filterShape);
  if (parked && isPointwise(info)) {
    const out = backend.makeOutput(info.filterShape, "float32");
    (backend.typedArrayFromHeap(out) as Float32Array).set(parked);
    return out;
  }
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const px = readIn(s, backend, x);
    const pdy = readIn(s, backend, dy);
    const pdw = s.f32(attrs.filterShape.reduce((a, b) => a * b, 1));
    checkStatus(NAME, backpropFilterInHeap(s, info, g, px, pdy, pdw));
    return copyOut(s, backend, pdw, info.filterShape);
  });
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
