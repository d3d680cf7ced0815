// Dense's forward pass, act(a·b + bias), on odecomp's threaded GEMM where that pays: tfjs-layers runs a
// Dense layer as _FusedMatMul (bias and relu fused; while training too, as the gradient goes through
// BatchMatMul), and in Node the stock kernel (XNNPACK) has one thread (tfjs#3830). With two odecomp
// threads, on the main CNN's Dense shapes (batch 64, alternated, load 0.0–1.3): 64×3136 · 3136×128
// ran 1.95 ms in our GEMM against 2.78 ms stock with bias + relu, 3136×80 0.74 against 1.69 ms (copies
// in and out of our heap add about 0.1–0.2 ms); products under ROUTE_MIN_MACS multiply-adds stay stock
// (the copies would cost more than the threads save: 64×80 · 80×128 ran 0.05 ms ours, 0.17 stock,
// before copies). Ours covers linear and relu with a bias of n floats or one, or none, and matrix
// operands (or batches of one, as tfjs-core passes them); everything else — other activations, PReLU
// weights, batched products — goes to stock.
import { type KernelConfig, type KernelFunc, type TensorInfo, type _FusedMatMulAttrs } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { sizeOf } from "../../core/tensor.ts";
import { fail } from "../../core/errors.ts";
import { checkFloat32, copyIn, copyOut, enginePasses, oursHasMoreThreads, type WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { EPILOGUE_ACTS } from "./Conv2D.ts";

const NAME = "_FusedMatMul";
const ACTS: Record<string, number> = EPILOGUE_ACTS;
/** Products below this many multiply-adds stay on the stock kernel (see above). */
export const ROUTE_MIN_MACS = 1 << 22;

/** Whether an m×k · k×n product goes to our threaded GEMM rather than stock (see above; BatchMatMul's untransposed calls follow it too). */
export function denseOnOurThreads(m: number, n: number, k: number): boolean {
  return enginePasses.threaded && oursHasMoreThreads() && m * n * k >= ROUTE_MIN_MACS;
}

type Args = {
  inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: WasmBackendLike;
  attrs: _FusedMatMulAttrs;
};

/** A matrix, or a batch of one ([1, rows, cols]: tfjs-core's fused.matMul hands the kernel rank-3 operands). */
const isMatrix = (t: TensorInfo) => t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
const rows = (t: TensorInfo) => t.shape[t.shape.length - 2], cols = (t: TensorInfo) => t.shape[t.shape.length - 1];

function dims(args: Args): { m: number; n: number; k: number; ta: boolean; tb: boolean } {
  const { inputs: { a, b }, attrs } = args;
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  return { m: ta ? cols(a) : rows(a), k: ta ? rows(a) : cols(a), n: tb ? rows(b) : cols(b), ta, tb };
}

/** Whether odecomp's kernel computes this call (else it is the stock kernel's). */
export function oursCovers(args: Args): boolean {
  const { inputs: { a, b, bias, preluActivationWeights }, attrs } = args;
  if (preluActivationWeights || !((attrs.activation ?? "linear") in ACTS)) return false;
  if (!isMatrix(a) || !isMatrix(b) || a.dtype !== "float32" || b.dtype !== "float32") return false;
  const { n } = dims(args);
  return !bias || sizeOf(bias.shape) === 1 || (bias.shape.length === 1 && bias.shape[0] === n);
}

/** odecomp's kernel alone (not registered; the tests call it directly). */
export function fusedMatMul(args: Args): TensorInfo {
  const { inputs: { a, b, bias }, backend, attrs } = args;
  checkFloat32(NAME, "a", a);
  checkFloat32(NAME, "b", b);
  if (bias) checkFloat32(NAME, "bias", bias);
  if (!oursCovers(args)) {
    fail(NAME, `a [${a.shape}], b [${b.shape}], activation '${attrs.activation}'${bias ? `, bias [${bias.shape}]` : ""}${args.inputs.preluActivationWeights ? " with PReLU weights" : ""} is not covered by odecomp's kernel; expected matrices (or batches of one), linear or relu, and a bias of one float or one per column`);
  }
  const { m, n, k, ta, tb } = dims(args);
  const kb = tb ? cols(b) : rows(b);
  if (k !== kb) fail(NAME, `inner sizes (${k}) and (${kb}) of a [${a.shape}] and b [${b.shape}] with transposeA=${ta}, transposeB=${tb} must match`);
  return withScratch((s) => {
    const pa = copyIn(s, backend, a), pb = copyIn(s, backend, b), pc = s.f32(m * n);
    s.k.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, pa, cols(a), pb, cols(b), 0, pc, n);
    const act = ACTS[attrs.activation ?? "linear"];
    if (bias || act !== 0) s.k.bias_act_f32(pc, m, n, bias ? copyIn(s, backend, bias) : 0, bias ? sizeOf(bias.shape) : 0, act);
    return copyOut(s, backend, pc, a.shape.length === 3 ? [1, m, n] : [m, n]);
  });
}

/** The registered kernel: ours when it covers the call, has more threads than tfjs-wasm and the product is big enough (and the bench's enginePasses switch is on); else stock. */
export function fusedMatMulRouted(args: Args): TensorInfo {
  const ours = oursCovers(args) && (() => { const { m, n, k } = dims(args); return denseOnOurThreads(m, n, k); })();
  return (!ours && runStock(NAME, args)) || fusedMatMul(args);
}

/** What register.ts installs. */
export const fusedMatMulRoutedConfig: KernelConfig = {
  kernelName: NAME,
  backendName: "wasm",
  kernelFunc: fusedMatMulRouted as unknown as KernelFunc,
};
