// One Adam step of one variable in one kernel: the ~14 tfjs kernels tf.train.adam runs per variable
// (mul, add, square, div, sqrt…; 914 of a ResNet-20 step's 1,413 kernels once BatchNorm is fused,
// bench/engine.bench.ts) become one, taken by src/train/fused-adam.ts. Not a stock tfjs kernel.
// It computes tfjs's exact sequence of float32 operations — m' = m·β1 + g·(1−β1), v' = v·β2 + g²·(1−β2),
// x' = (m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε) · (−lr) + x — each rounded to f32 as tfjs's kernels round it
// (Math.fround of the double result: for +, −, ×, ÷ and √ of f32 operands that is the correctly rounded
// f32 result), so the step is bitwise the stock one. It reads and writes tfjs's heap in place of
// copying into odecomp's (the work is a few flops per value: a copy would cost as much as the step).
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { fail } from "../../core/errors.ts";
import { checkFloat32, type WasmBackendLike } from "../bridge.ts";

export const AdamUpdate = "OdecompAdamUpdate";

/** accBeta1, accBeta2: the optimizer's β1ᵗ and β2ᵗ scalars. */
export interface AdamUpdateInputs { x: TensorInfo; g: TensorInfo; m: TensorInfo; v: TensorInfo; accBeta1: TensorInfo; accBeta2: TensorInfo }
export interface AdamUpdateAttrs { beta1: number; beta2: number; epsilon: number; learningRate: number }

const f = Math.fround;

function adamUpdate(args: { inputs: AdamUpdateInputs; backend: WasmBackendLike; attrs: AdamUpdateAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const n = util.sizeFromShape(inputs.x.shape);
  for (const [name, t] of Object.entries(inputs)) {
    checkFloat32(AdamUpdate, name, t);
    const want = name.startsWith("accBeta") ? 1 : n;
    if (util.sizeFromShape(t.shape) !== want) fail(AdamUpdate, `input '${name}' has shape [${t.shape}]; expected ${want === 1 ? "a scalar" : `x's shape [${inputs.x.shape}]`}`);
  }
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const outs = [backend.makeOutput(inputs.x.shape.slice(), "float32"), backend.makeOutput(inputs.x.shape.slice(), "float32"), backend.makeOutput(inputs.x.shape.slice(), "float32")];
  // views after every allocation (makeOutput may grow tfjs's memory and detach earlier views)
  const x = heap(inputs.x), g = heap(inputs.g), m = heap(inputs.m), v = heap(inputs.v);
  const [xo, mo, vo] = outs.map(heap);
  const b1 = f(attrs.beta1), b2 = f(attrs.beta2), ob1 = f(1 - attrs.beta1), ob2 = f(1 - attrs.beta2);
  const eps = f(attrs.epsilon), nlr = f(-attrs.learningRate);
  const c1 = f(1 - heap(inputs.accBeta1)[0]), c2 = f(1 - heap(inputs.accBeta2)[0]);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const m1 = f(f(m[i] * b1) + f(gi * ob1));
    const v1 = f(f(v[i] * b2) + f(f(gi * gi) * ob2));
    mo[i] = m1;
    vo[i] = v1;
    xo[i] = f(f(f(f(m1 / c1) / f(f(Math.sqrt(f(v1 / c2))) + eps)) * nlr) + x[i]);
  }
  return outs; // [x', m', v']
}

export const adamUpdateConfig: KernelConfig = {
  kernelName: AdamUpdate,
  backendName: "wasm",
  kernelFunc: adamUpdate as unknown as KernelFunc,
};
