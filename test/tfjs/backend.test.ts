// useWasmBackend in Node: tfjs-backend-wasm forces threads off (IS_NODE, tfjs#3830), so it loads the
// single-threaded SIMD binary whatever is asked, and says why; odecomp's kernels are registered.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { useWasmBackend, wasmThreadsBlocker, wasmKernelNames } from "../../src/tfjs/index.ts";
import { OdecompError } from "../../src/index.ts";

describe("useWasmBackend (Node)", () => {
  it("rejects bad options with their value", async () => {
    await expect(useWasmBackend({ threads: 0 })).rejects.toThrow(new OdecompError("useWasmBackend: threads is 0; expected an integer ≥ 1"));
    await expect(useWasmBackend({ wasmPaths: "/tfjs" })).rejects.toThrow(/^useWasmBackend: wasmPaths is "\/tfjs"; expected a URL prefix ending in "\/"/);
  });

  it("runs the SIMD binary on one thread in Node, says why, and registers odecomp's kernels", async () => {
    expect(await wasmThreadsBlocker()).toMatch(/forces one thread in Node \(tfjs issue #3830\)/);
    const info = await useWasmBackend({ threads: 4 });
    expect(info).toMatchObject({ backend: "wasm", binary: "simd", threads: 1 });
    expect(info.note).toMatch(/#3830/);
    expect(tf.getBackend()).toBe("wasm");
    for (const name of wasmKernelNames()) expect(tf.getKernel(name, "wasm")).toBeDefined();
    const y = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 2])));
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4, 4, 4]);
    tf.dispose(y);
  });
});
