// y = patches(x) · W as blocked GEMM (assembly/conv/grad.ts), on odecomp's threads.
// Registered to route: with more odecomp threads than tfjs-wasm has, ours takes every call (it measured
// faster, see below); otherwise stock XNNPACK computes every call it gets right (faster on one thread)
// and ours takes the calls stock gets wrong (see stockComputes).
import { Conv2D, backend_util, type Conv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { sizeOf } from "../../core/tensor.ts";
import { checkFloat32, checkNHWC, checkStatus, copyIn, copyOut, enginePasses, oursHasMoreThreads, putGeometry, readIn, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { rememberForwardInput } from "../conv-grad-pairing.ts";
import { outBuf, residentOptions } from "../resident.ts";

const NAME = "Conv2D";

/*
 * Why stock does the forward pass (bench/engine.bench.ts and an ad-hoc per-shape run on the decomposed
 * model's conv shapes, x [64,28,28,·] and [64,14,14,·], 1–64 channels, loaded 2-vCPU machine): with
 * one odecomp thread ours ran 0.11–1.29× stock (0.39–0.73× on most shapes); with two, 0.11–0.84× —
 * XNNPACK's 1×1 and small-channel convs reach 18–20 GFLOP/s where our GEMM with K ≤ 64 plus the copy
 * in and out of our heap reaches 2–8; in the engine profile the decomposed step's FusedConv2D took
 * 362 ms ours (2 threads) against 168 ms stock. Kept for the calls stock gets wrong.
 * Re-measured after the forward moved to gemm_nb_rows (x read in place, W packed once, threaded by
 * ranges of positions; min of 15 alternated calls, load 7–8): ours 0.51–0.98× stock on the 1×1
 * shapes, 0.49–1.41× on the 3×3 ones, with one or two threads (the second core was not free
 * enough to judge threading); in the training step, our k×k forward on two threads was level with
 * stock at best (min 236.9 vs 235.9 ms decomposed, median 1.24× slower). Still stock.
 */

/*
 * With two odecomp threads on an idle second core (session 7, load 2.1 from other work, min of 12
 * alternated calls, x [64,28,28,·] / [64,14,14,·]): ours ran 1.50–2.08× stock on every 3×3 conv
 * of the main CNN and its chains (16→16 … 64→64), 1.25–1.32× on 1×1 convs at 14², 0.94–0.99× on
 * 1×1 at 28² and level on the 1-channel first conv; on one thread 0.80–1.07×. tfjs-wasm runs one
 * thread in Node (tfjs#3830), so when odecomp has more threads than tfjs-wasm's pool, ours takes
 * the forward pass; otherwise stock does (a threaded tfjs-wasm with at least as many threads, as in a
 * cross-origin-isolated page given fewer odecomp threads, keeps XNNPACK's own pool). Only Node was measured.
 */

/*
 * Except the large 1×1 convs (session 8, x [64,28,28,16–32], 1×1 to 16–32 channels): with a free
 * second core ours ran 0.94–0.99× stock (above), and on a machine whose other core was busy
 * (load 3.2–3.4 on 2 vCPUs; medians of 18 calls per process, 1- and 2-thread rounds alternated, in
 * 4 processes) 0.76–0.81× (2.20–2.41 ms against XNNPACK's 1.78–1.84); at 14² ours ran 0.76–0.91×
 * there, but 1.25–1.32× with a free core. A/B of whole decomposed steps at 2 threads, this rule
 * against session 7's, alternated (load 3.6): 120.6 vs 119.6 ms, within the noise. So a 1×1 stride-1 conv over at least POINTWISE_STOCK_POSITIONS positions goes
 * to stock; the rule is a function of the shapes, so a run's results do not depend on the load.
 */
export const POINTWISE_STOCK_POSITIONS = 32768;

/*
 * Except while our outputs stay resident (src/tfjs/resident.ts, on by default with two or more threads):
 * XNNPACK's output is then the one tensor of the chain the next kernel has to copy in, and its input
 * has to be copied out for it. A/B of whole decomposed main-CNN steps at 2 threads, 40 alternated
 * rounds per process, session 16 (load 1.4–1.5): this rule 77.9 / 73.7 ms, ours for every forward conv
 * 73.3 / 67.0 ms, stock for every one 94.5 / 100.9 ms. So with the ring on, ours takes these too.
 */

/** Which forward conv runs the calls both compute correctly: "auto" (see above: with resident outputs on, the same as "threads"), "threads" (ours whenever it has more threads than tfjs-wasm: session 7's rule), or always "stock" (bench A/B). */
export const forwardRouting: { prefer: "auto" | "threads" | "stock" } = { prefer: "auto" };

/** Whether our threaded forward takes calls stock also computes correctly (see above); without shapes, whether it takes any. */
export function oursForwardFaster(x?: readonly number[], filter?: readonly number[], strides?: Conv2DAttrs["strides"]): boolean {
  if (forwardRouting.prefer === "stock" || !oursHasMoreThreads()) return false;
  if (forwardRouting.prefer === "threads" || !x || !filter || residentOptions.enabled) return true;
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides ?? [1, 1];
  const pointwise = filter[0] === 1 && filter[1] === 1 && sh === 1 && sw === 1;
  return !(pointwise && x[0] * x[1] * x[2] >= POINTWISE_STOCK_POSITIONS);
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
type ConvGeometryAttrs = Pick<Conv2DAttrs, "strides" | "dilations" | "pad" | "dimRoundingMode" | "dataFormat">;

/** Always odecomp's kernel (the tests and bench/tfjs.bench.ts call it directly). */
export function conv2D(args: Args): TensorInfo {
  const { inputs: { x, filter }, backend, attrs } = args;
  return convForward(NAME, x, filter, backend, attrs);
}

/** The activations the epilogue covers, as assembly/conv/epilogue.ts numbers them. */
export const EPILOGUE_ACTS = { linear: 0, relu: 1 } as const;

/** FusedConv2D's epilogue: bias (floats of the output channels, or one) and activation (an EPILOGUE_ACTS code). */
export interface Epilogue { bias?: TensorInfo; act: number }

/**
 * The forward conv of Conv2D and FusedConv2D: checks, geometry, copies in, conv2d_f32 — or, with an
 * `epilogue`, conv2d_bias_act_f32, which applies bias and activation to each block as its thread
 * computes it — then the single copy out.
 */
export function convForward(name: string, x: TensorInfo, filter: TensorInfo, backend: WasmBackendLike, attrs: ConvGeometryAttrs, epilogue?: Epilogue): TensorInfo {
  checkFloat32(name, "x", x);
  checkFloat32(name, "filter", filter);
  checkNHWC(name, attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const px = readIn(s, backend, x);
    const pw = copyIn(s, backend, filter);
    const py = outBuf(s, info.outShape.reduce((a, b) => a * b, 1));
    const bias = epilogue?.bias;
    if (epilogue && (bias || epilogue.act !== 0)) {
      const pb = bias ? copyIn(s, backend, bias) : 0, biasLen = bias ? sizeOf(bias.shape) : 0;
      if (enginePasses.threaded) {
        checkStatus(name, s.k.conv2d_bias_act_f32(g, px, pw, py, pb, biasLen, epilogue.act));
      } else { // the bench's "before": the epilogue as a second, single-threaded pass
        checkStatus(name, s.k.conv2d_f32(g, px, pw, py));
        s.k.bias_act_f32(py, info.batchSize * info.outHeight * info.outWidth, info.outChannels, pb, biasLen, epilogue.act);
      }
    } else {
      checkStatus(name, s.k.conv2d_f32(g, px, pw, py));
    }
    return copyOut(s, backend, py, info.outShape);
  });
}

/** The registered kernel: stock where it computes the call correctly, else ours. */
export function conv2DRouted(args: Args): TensorInfo {
  rememberForwardInput(args.inputs.filter, args.inputs.x);
  const { x, filter } = args.inputs;
  return (stockComputes(filter.shape, args.attrs.strides) && !oursForwardFaster(x.shape, filter.shape, args.attrs.strides) && runStock(NAME, args)) || conv2D(args);
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
