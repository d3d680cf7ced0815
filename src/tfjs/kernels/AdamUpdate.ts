// One Adam step of one variable in one kernel: the ~14 tfjs kernels tf.train.adam runs per variable
// (mul, add, square, div, sqrt…; 914 of a ResNet-20 step's 1,413 kernels once BatchNorm is fused,
// bench/engine.bench.ts) become one, taken by src/train/fused-adam.ts. Not a stock tfjs kernel.
// It computes tfjs's exact sequence of float32 operations (assembly/optim/adam.ts, SIMD, no fused
// multiply-add), so the step is bitwise the stock one. A first version computed in JS on tfjs's heap
// (Math.fround per operation, no copies): exact too, but 16 ns per value once optimised (7 ms for the
// main job's 450k-weight Dense layer, level with the stock kernels there); the SIMD kernel with its
// copies in and out is several times faster.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { fail } from "../../core/errors.ts";
import { withScratch } from "../../core/heap.ts";
import { checkFloat32, copyIn, copyOut, type WasmBackendLike } from "../bridge.ts";

export const AdamUpdate = "OdecompAdamUpdate";

/** accBeta1, accBeta2: the optimizer's β1ᵗ and β2ᵗ scalars. */
export interface AdamUpdateInputs { x: TensorInfo; g: TensorInfo; m: TensorInfo; v: TensorInfo; accBeta1: TensorInfo; accBeta2: TensorInfo }
export interface AdamUpdateAttrs { beta1: number; beta2: number; epsilon: number; learningRate: number }

function adamUpdate(args: { inputs: AdamUpdateInputs; backend: WasmBackendLike; attrs: AdamUpdateAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const n = util.sizeFromShape(inputs.x.shape);
  for (const [name, t] of Object.entries(inputs)) {
    checkFloat32(AdamUpdate, name, t);
    const want = name.startsWith("accBeta") ? 1 : n;
    if (util.sizeFromShape(t.shape) !== want) fail(AdamUpdate, `input '${name}' has shape [${t.shape}]; expected ${want === 1 ? "a scalar" : `x's shape [${inputs.x.shape}]`}`);
  }
  const scalar = (t: TensorInfo) => (backend.typedArrayFromHeap(t) as Float32Array)[0];
  const f = Math.fround;
  // tfjs rounds each scalar to f32 as it makes it a tensor: β's, 1 − β (computed in double), ε, −lr, and 1 − β^t in f32
  const params = [attrs.beta1, attrs.beta2, 1 - attrs.beta1, 1 - attrs.beta2, attrs.epsilon, -attrs.learningRate,
    f(1 - scalar(inputs.accBeta1)), f(1 - scalar(inputs.accBeta2))];
  return withScratch((s) => {
    const px = copyIn(s, backend, inputs.x), pg = copyIn(s, backend, inputs.g), pm = copyIn(s, backend, inputs.m), pv = copyIn(s, backend, inputs.v);
    const pp = s.f32(8);
    s.view(pp, 8).set(params);
    s.k.adam_update_f32(px, pg, pm, pv, n, pp);
    const shape = inputs.x.shape.slice();
    return [copyOut(s, backend, px, shape), copyOut(s, backend, pm, shape), copyOut(s, backend, pv, shape)]; // [x', m', v']
  });
}
export const adamUpdateConfig: KernelConfig = {
  kernelName: AdamUpdate,
  backendName: "wasm",
  kernelFunc: adamUpdate as unknown as KernelFunc,
};
