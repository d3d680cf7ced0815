// registerWasmKernels called BEFORE the wasm backend is initialised; idempotent; unregister restores stock.
import { describe, it, expect, vi } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels, unregisterWasmKernels, wasmKernelNames } from "../../src/tfjs/index.ts";
import { WASM_KERNELS } from "../../src/tfjs/register.ts";

function conv2dFilterGrad(): Float32Array {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const dy = tf.ones([1, 3, 3, 2]) as tf.Tensor4D;
  const dw = tf.conv2d(x, tf.zeros([3, 3, 1, 2]) as tf.Tensor4D, 1, "same"); // warm the op path
  const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, "same"), dy)))(tf.zeros([3, 3, 1, 2]));
  const out = g.dataSync() as Float32Array;
  tf.dispose([x, dy, dw, g]);
  return out;
}

describe("registerWasmKernels before tf.setBackend('wasm')", () => {
  it("registers all kernels, works once the backend starts, and is idempotent", async () => {
    expect(tf.findBackend("wasm")).toBeNull(); // not initialised yet
    const warn = vi.spyOn(console, "warn");
    await registerWasmKernels();
    await registerWasmKernels();
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    for (const c of WASM_KERNELS) expect(tf.getKernel(c.kernelName, "wasm")?.kernelFunc).toBe(c.kernelFunc);
    expect(wasmKernelNames()).toContain("Conv2DBackpropFilter");
    await tf.setBackend("wasm");
    // x = 1..9 in a 3×3 'same' conv with all-ones dy: dW[kh, kw] = sum of x under the shifted window.
    const dw = conv2dFilterGrad();
    expect(Array.from(dw.filter((_, i) => i % 2 === 0))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it("matMul with transposes agrees before and after a second registration", async () => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), b = tf.tensor2d([1, 0, 2, 1, 3, 1], [3, 2]);
    const c = tf.matMul(a, b, true, false);
    expect(Array.from(c.dataSync())).toEqual([1 + 6 + 15, 0 + 3 + 5, 2 + 8 + 18, 0 + 4 + 6]);
    await registerWasmKernels();
    const c2 = tf.matMul(a, b, true, false);
    expect(Array.from(c2.dataSync())).toEqual(Array.from(c.dataSync()));
    tf.dispose([a, b, c, c2]);
  });

  it("unregisterWasmKernels restores the stock BatchMatMul (set up for the running backend) and removes the rest", async () => {
    unregisterWasmKernels();
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeUndefined();
    const stock = tf.getKernel("BatchMatMul", "wasm");
    expect(stock).toBeDefined();
    expect(stock?.kernelFunc).not.toBe(WASM_KERNELS.find((c) => c.kernelName === "BatchMatMul")?.kernelFunc);
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]), b = tf.tensor2d([1, 1, 0, 1], [2, 2]);
    const c = tf.matMul(a, b);
    expect(Array.from(c.dataSync())).toEqual([1, 3, 3, 7]);
    tf.dispose([a, b, c]);
    await registerWasmKernels();
    expect(Array.from(conv2dFilterGrad().filter((_, i) => i % 2 === 0))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });
});
