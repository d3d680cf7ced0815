// A relu (or linear) conv with its bias as one training op: the forward pass is FusedConv2D's (routed
// as kernels/FusedConv2D.ts: ours on odecomp's threads or XNNPACK, with bias and activation inside),
// and the backward pass one kernel that takes dy, the op's output, x and the filter and returns dx,
// dW and db: the epilogue's gradient (assembly/conv/act_grad.ts, in place on dy in our heap), then the
// conv's gradients on that dz without copying it out and back in.
// Why: tfjs-core fuses bias and activation only outside gradient recording (shouldFuse), so
// tfjs-layers trains a relu conv as Conv2D → Add → Relu forward and Step → Multiply → Sum plus two
// conv gradient kernels (each copying dz into our heap) backward. In the main job's CNN these
// element-wise passes cost about 4 ms per step for each 28×28×32 output (bench/engine.bench.ts).
// Not stock tfjs kernels: the names, inputs and attributes of both are declared here.
import { backend_util, type Conv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { fail } from "../../core/errors.ts";
import { checkFloat32, checkStatus, copyIn, copyOut, putGeometry, readIn, serialUnlessThreaded, type WasmBackendLike } from "../bridge.ts";
import { outBuf, residentPtr } from "../resident.ts";
import { fusedConv2DRouted } from "./FusedConv2D.ts";
import { EPILOGUE_ACTS } from "./Conv2D.ts";
import { backpropInputInHeap, isPointwise } from "./Conv2DBackpropInput.ts";
import { backpropFilterInHeap } from "./Conv2DBackpropFilter.ts";

export const Conv2DBiasAct = "OdecompConv2DBiasAct";
export const Conv2DBiasActGrad = "OdecompConv2DBiasActGrad";

/** The activations the op covers, as assembly/conv/epilogue.ts numbers them. */
export const BIAS_ACTS = EPILOGUE_ACTS;
export type BiasAct = keyof typeof BIAS_ACTS;

export interface Conv2DBiasActInputs { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo }
export interface Conv2DBiasActAttrs {
  strides: [number, number];
  pad: "same" | "valid";
  activation: BiasAct;
  /** false when nobody needs dx (the model's input): the gradient kernel then returns [dW, db] only. */
  needDx: boolean;
  /** Whether the forward had a bias (the gradient kernel then returns db, else a [0] tensor). */
  hasBias: boolean;
}
/** y: the op's output (relu's mask). */
export interface Conv2DBiasActGradInputs { dy: TensorInfo; y: TensorInfo; x: TensorInfo; filter: TensorInfo }

type Args<I> = { inputs: I; backend: WasmBackendLike; attrs: Conv2DBiasActAttrs };

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function checkInputs(kernel: string, x: TensorInfo, filter: TensorInfo, attrs: Conv2DBiasActAttrs): void {
  checkFloat32(kernel, "x", x);
  checkFloat32(kernel, "filter", filter);
  if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
    fail(kernel, `x [${x.shape}] and filter [${filter.shape}] do not match; expected x [batch, h, w, c] and filter [kh, kw, c, out]`);
  }
  if (!(attrs.activation in BIAS_ACTS)) fail(kernel, `activation '${attrs.activation}'; expected ${Object.keys(BIAS_ACTS).join(" or ")}`);
}

function geometry(kernel: string, x: TensorInfo, filter: TensorInfo, attrs: Conv2DBiasActAttrs): backend_util.Conv2DInfo {
  checkInputs(kernel, x, filter, attrs);
  return backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, 1, attrs.pad, undefined, false, "channelsLast");
}

function checkBias(kernel: string, bias: TensorInfo | undefined, out: number): void {
  if (!bias) return;
  checkFloat32(kernel, "bias", bias);
  if (bias.shape.length !== 1 || bias.shape[0] !== out) fail(kernel, `bias has shape [${bias.shape}]; expected [${out}] (the filter's output channels)`);
}

function conv2DBiasAct(args: Args<Conv2DBiasActInputs>): TensorInfo {
  const { inputs: { x, filter, bias }, backend, attrs } = args;
  checkInputs(Conv2DBiasAct, x, filter, attrs);
  if (attrs.hasBias !== (bias !== undefined)) fail(Conv2DBiasAct, `hasBias is ${attrs.hasBias} but a bias was${bias ? "" : " not"} given`);
  checkBias(Conv2DBiasAct, bias, filter.shape[3]);
  return fusedConv2DRouted({
    inputs: { x, filter, ...(bias ? { bias } : {}) }, backend,
    attrs: { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", dilations: [1, 1], dimRoundingMode: undefined, activation: attrs.activation } as unknown as Conv2DAttrs & { activation: BiasAct },
  } as Parameters<typeof fusedConv2DRouted>[0]);
}

/** [dx, dW, db] (needDx), else [dW, db]; db is a zero-length [0] tensor when the forward had no bias. */
function conv2DBiasActGrad(args: Args<Conv2DBiasActGradInputs>): TensorInfo[] {
  const { inputs: { dy, y, x, filter }, backend, attrs } = args;
  const K = Conv2DBiasActGrad;
  const info = geometry(K, x, filter, attrs);
  const bias = attrs.hasBias;
  checkFloat32(K, "dy", dy);
  checkFloat32(K, "y", y);
  for (const [name, t] of [["dy", dy], ["y", y]] as const) {
    if (t.shape.join() !== info.outShape.join()) fail(K, `${name} has shape [${t.shape}]; expected the conv's output shape [${info.outShape}]`);
  }
  return withScratch((s) => {
    const g = putGeometry(s, info, false);
    const n = size(info.outShape), rows = n / info.outChannels;
    const act = BIAS_ACTS[attrs.activation];
    // relu's dz is written in place over a fresh copy of dy, or beside a resident dy (which later kernels may read)
    const resDy = residentPtr(s, dy);
    const pdy = resDy || copyIn(s, backend, dy);
    const pdz = resDy && act === BIAS_ACTS.relu ? s.f32(n) : pdy;
    const py = act === BIAS_ACTS.relu ? readIn(s, backend, y) : 0;
    const pdb = bias ? s.f32(info.outChannels) : 0;
    if (act !== BIAS_ACTS.linear || bias) checkStatus(K, serialUnlessThreaded(s, () => s.k.act_bias_grad_f32(pdy, py, rows, info.outChannels, act, pdb, pdz === pdy ? 0 : pdz)));
    const px = readIn(s, backend, x);
    const pw = copyIn(s, backend, filter);
    const nw = size(info.filterShape);
    const pdw = s.f32(nw);
    const pdx = attrs.needDx ? outBuf(s, size(info.inShape)) : 0;
    if (attrs.needDx && isPointwise(info)) {
      checkStatus(K, s.k.conv2d_backprop_pointwise_f32(g, px, pdz, pw, pdx, pdw));
    } else {
      if (attrs.needDx) checkStatus(K, backpropInputInHeap(s, info, g, pdz, pw, pdx));
      checkStatus(K, backpropFilterInHeap(s, info, g, px, pdz, pdw));
    }
    const dW = copyOut(s, backend, pdw, info.filterShape);
    const db = bias ? copyOut(s, backend, pdb, [info.outChannels]) : backend.makeOutput([0], "float32");
    return attrs.needDx ? [copyOut(s, backend, pdx, info.inShape), dW, db] : [dW, db];
  });
}

export const conv2DBiasActConfig: KernelConfig = {
  kernelName: Conv2DBiasAct,
  backendName: "wasm",
  kernelFunc: conv2DBiasAct as unknown as KernelFunc,
};

export const conv2DBiasActGradConfig: KernelConfig = {
  kernelName: Conv2DBiasActGrad,
  backendName: "wasm",
  kernelFunc: conv2DBiasActGrad as unknown as KernelFunc,
};
