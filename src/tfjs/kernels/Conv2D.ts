// y = patches(x) · W as blocked GEMM (assembly/conv/grad.ts), on odecomp's threads.
// Hands the call to the stock kernel (XNNPACK) where that measured faster — see oursForward.
import { Conv2D, backend_util, type Conv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { getThreads } from "../../core/loader.ts";
import { checkFloat32, checkNHWC, checkStatus, copyIn, copyOut, putGeometry, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";

const NAME = "Conv2D";

/**
 * Whether odecomp's forward conv beats stock tfjs-wasm (XNNPACK, always one thread in Node) for this
 * call. Measured in bench/engine.bench.ts on the main job's CNN steps: with one odecomp thread ours ran
 * 0.65–1.18× stock (bench/tfjs.bench.ts, no clear win), so one thread stays stock; with two, the GEMM
 * splits over both cores (see the engine table in the closing note of issue 16).
 */
export function oursForward(): boolean {
  return getThreads() >= 2;
}

/**
 * Whether stock tfjs-wasm computes this conv correctly. Its Conv2D / FusedConv2D (XNNPACK, tfjs 4.x)
 * give wrong outputs for a non-square filter with a stride above 1 (e.g. x [2,6,6,3], filter 1×3,
 * stride 2, 'same': max abs error ≈ 3 against tfjs-cpu, found by test/tfjs/engine-kernels.test.ts);
 * such calls always run ours.
 */
export function stockComputes(filterShape: readonly number[], strides: Conv2DAttrs["strides"]): boolean {
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
  return filterShape[0] === filterShape[1] || (sh === 1 && sw === 1);
}

type Args = { inputs: { x: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: Conv2DAttrs };

/** Always odecomp's kernel (the tests and bench/tfjs.bench.ts call it directly). */
export function conv2D(args: Args): TensorInfo {
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

/** The registered kernel: ours where it measured faster, else stock. */
export function conv2DRouted(args: Args): TensorInfo {
  const stock = !oursForward() && stockComputes(args.inputs.filter.shape, args.attrs.strides);
  return (stock && runStock(NAME, args)) || conv2D(args);
}

/** odecomp's kernel alone (not registered). */
export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: "wasm",
  kernelFunc: conv2D as unknown as KernelFunc,
};

/** What register.ts installs. */
export const conv2DRoutedConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: "wasm",
  kernelFunc: conv2DRouted as unknown as KernelFunc,
};
