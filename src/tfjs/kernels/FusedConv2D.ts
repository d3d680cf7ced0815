// act(conv(x, W) + bias) in one call: the blocked-GEMM conv of Conv2D.ts on odecomp's threads, with
// bias and activation applied (assembly/conv/epilogue.ts) by each thread to each block of rows it has
// just computed, before the single copy out. tfjs runs this kernel while training for every conv whose activation is linear (the inner
// layers of the Tucker / CP / SVD chains), and for every conv at inference.
// Registered to route as Conv2D.ts: ours when it has more threads than tfjs-wasm (measured faster), else
// stock (XNNPACK) for every call it computes correctly and ours for the ones it does not (a non-square
// filter with stride > 1, a scalar bias) — unless ours does not cover them (activations other than
// linear / relu, PReLU weights), which always go to stock.
import { FusedConv2D, type FusedConv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { fail } from "../../core/errors.ts";
import { checkFloat32, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { rememberForwardInput } from "../conv-grad-pairing.ts";
import { EPILOGUE_ACTS, convForward, oursForwardFaster, stockComputes } from "./Conv2D.ts";

const NAME = "FusedConv2D";
const ACTS: Record<string, number> = EPILOGUE_ACTS;

type Args = {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: WasmBackendLike;
  attrs: FusedConv2DAttrs;
};

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Whether odecomp's kernel computes this call (else it is the stock kernel's). */
export function oursCovers(args: Args): boolean {
  const { inputs: { filter, bias, preluActivationWeights }, attrs } = args;
  if (preluActivationWeights || !((attrs.activation ?? "linear") in ACTS)) return false;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") return false;
  return !bias || size(bias.shape) === 1 || (bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
}

/** odecomp's kernel alone; fails with a clear error on the cases it does not cover. */
export function fusedConv2D(args: Args): TensorInfo {
  const { inputs: { x, filter, bias }, backend, attrs } = args;
  if (bias) checkFloat32(NAME, "bias", bias);
  if (!oursCovers(args)) {
    fail(NAME, `activation '${attrs.activation}'${args.inputs.preluActivationWeights ? " with PReLU weights" : ""}${bias ? `, bias [${bias.shape}]` : ""} is not covered by odecomp's kernel; expected linear or relu and a bias of shape [${filter.shape[3]}] or [1]`);
  }
  return convForward(NAME, x, filter, backend, attrs, { ...(bias ? { bias } : {}), act: ACTS[attrs.activation ?? "linear"] });
}

/** The registered kernel: stock where it computes the call correctly, else ours where it covers it, else stock. */
export function fusedConv2DRouted(args: Args): TensorInfo {
  const { bias, filter } = args.inputs;
  rememberForwardInput(filter, args.inputs.x);
  const stockCovers = (!bias || size(bias.shape) === filter.shape[3]) && stockComputes(filter.shape, args.attrs.strides);
  const ours = oursCovers(args) && (!stockCovers || oursForwardFaster(args.inputs.x.shape, filter.shape, args.attrs.strides));
  return (!ours && runStock(NAME, args)) || fusedConv2D(args);
}

/** odecomp's kernel alone (not registered; the tests call it directly). */
export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: "wasm",
  kernelFunc: fusedConv2D as unknown as KernelFunc,
};

/** What register.ts installs. */
export const fusedConv2DRoutedConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: "wasm",
  kernelFunc: fusedConv2DRouted as unknown as KernelFunc,
};
