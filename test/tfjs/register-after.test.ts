// registerWasmKernels called AFTER tf.setBackend('wasm'); the cpu backend is untouched.
import { describe, it, expect } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { randn } from "../helpers/random.ts";

/** Gradients of a conv + depthwise + dense chain w.r.t. all its weights, on the current backend. */
function chainGrads(): Float32Array[] {
  const x = tf.tensor4d(randn(2 * 6 * 6 * 3, 1), [2, 6, 6, 3]);
  const w1 = tf.tensor4d(randn(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
  const w2 = tf.tensor4d(randn(3 * 3 * 4 * 1, 3), [3, 3, 4, 1]);
  const w3 = tf.tensor2d(randn(3 * 3 * 4 * 5, 4), [36, 5]);
  const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.square(tf.matMul(tf.reshape(tf.depthwiseConv2d(tf.conv2d(x, a as tf.Tensor4D, 1, "same"), b as tf.Tensor4D, 2, "same"), [2, 36]), c as tf.Tensor2D)));
  const gs = tf.grads(f)([w1, w2, w3]);
  const out = gs.map((g) => g.dataSync() as Float32Array);
  tf.dispose([x, w1, w2, w3, ...gs]);
  return out;
}

describe("registerWasmKernels after tf.setBackend('wasm')", () => {
  it("conv gradients fail on stock wasm, then work after registration", async () => {
    await tf.setBackend("wasm");
    expect(() => chainGrads()).toThrow(/Conv2DBackpropFilter' not registered for backend 'wasm'|DepthwiseConv2dNative.*not registered/);
    await registerWasmKernels();
    const g = chainGrads();
    await tf.setBackend("cpu");
    const ref = chainGrads();
    for (let i = 0; i < 3; i++) {
      let num = 0, den = 0;
      for (let j = 0; j < ref[i].length; j++) { num = Math.max(num, Math.abs(g[i][j] - ref[i][j])); den = Math.max(den, Math.abs(ref[i][j])); }
      expect(num / den).toBeLessThan(1e-4);
    }
  });

  it("cpu backend results and kernels are bit-identical before and after registration", async () => {
    await tf.setBackend("cpu");
    const cpuKernels = tf.getKernelsForBackend("cpu").map((k) => k.kernelFunc);
    const before = chainGrads();
    await registerWasmKernels();
    await tf.setBackend("cpu");
    const after = chainGrads();
    for (let i = 0; i < 3; i++) expect(Array.from(after[i])).toEqual(Array.from(before[i]));
    expect(tf.getKernelsForBackend("cpu").map((k) => k.kernelFunc)).toEqual(cpuKernels);
  });
});
