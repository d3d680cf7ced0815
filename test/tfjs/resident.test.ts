// Resident outputs (src/tfjs/resident.ts): reading an input from the ring instead of copying it in must
// change nothing but where the bytes come from. A small CNN with a decomposed chain and a shortcut (a
// tensor two kernels read) trains 3 Adam steps on two odecomp threads with the ring off, on, and so
// small that slots are overwritten (evictions) or refused (spills): the weights must be bitwise equal.
// Two relu convs take the same gradient tensor (the add's): a kernel that wrote into an input it read
// from the ring would hand the other a wrong one.
import { describe, it, expect, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { setThreads, wasmMemoryBytes } from "../../src/index.ts";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { resetResident, residentOptions, residentStats, RING_BYTES } from "../../src/tfjs/resident.ts";
import { fuseConvActivation } from "../../src/train/fused-conv.ts";
import { fuseBatchNorm } from "../../src/train/fused-bn.ts";
import { rng } from "../helpers/random.ts";

function model(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  const input = tfl.input({ shape: [12, 12, 3] });
  const a = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1), name: "conv1" }).apply(input) as tfl.SymbolicTensor;
  let b = tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, kernelInitializer: init(2), name: "conv2__odc_tucker2_0" }).apply(a) as tfl.SymbolicTensor;
  b = tfl.layers.batchNormalization({ name: "bn" }).apply(b) as tfl.SymbolicTensor;
  b = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", useBias: false, kernelInitializer: init(3), name: "conv2__odc_tucker2_1" }).apply(b) as tfl.SymbolicTensor;
  b = tfl.layers.conv2d({ filters: 8, kernelSize: 1, activation: "relu", kernelInitializer: init(4), name: "conv2__odc_tucker2_2" }).apply(b) as tfl.SymbolicTensor;
  // a second relu conv beside the chain: the add's gradient reaches both as one tensor, which each reads
  const d = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(7), name: "conv4" }).apply(a) as tfl.SymbolicTensor;
  let c = tfl.layers.add().apply([b, d]) as tfl.SymbolicTensor;
  c = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(c) as tfl.SymbolicTensor;
  c = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(5), name: "conv3" }).apply(c) as tfl.SymbolicTensor;
  c = tfl.layers.flatten().apply(c) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: "softmax", kernelInitializer: init(6) }).apply(c) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Weights after 3 Adam steps, with the ring of `bytes` (0: off); and the counters' change. */
async function train(bytes: number, fused: boolean): Promise<{ weights: Float32Array[]; stats: typeof residentStats }> {
  residentOptions.enabled = bytes > 0;
  if (bytes > 0 && bytes !== residentOptions.bytes) { residentOptions.bytes = bytes; resetResident(); }
  const before = { ...residentStats };
  const m = model(70);
  if (fused) { fuseConvActivation(m); fuseBatchNorm(m); }
  const opt = tf.train.adam(1e-2);
  const r = rng(5);
  const xs = tf.tensor4d(Float32Array.from({ length: 4 * 12 * 12 * 3 }, () => 2 * r() - 1), [4, 12, 12, 3]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3));
  const numTensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, m.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dispose();
  const weights = m.getWeights().map((w) => w.dataSync() as Float32Array);
  tf.dispose([xs, ys]); opt.dispose(); m.dispose();
  expect(tf.memory().numTensors).toBeLessThanOrEqual(numTensors);
  const stats = Object.fromEntries(Object.entries(residentStats).map(([k, v]) => [k, v - before[k as keyof typeof before]])) as typeof residentStats;
  return { weights, stats };
}

describe("resident outputs", () => {
  afterAll(async () => {
    residentOptions.enabled = true; residentOptions.lazy = true; residentOptions.bytes = RING_BYTES; resetResident();
    await setThreads(1);
  });

  for (const fused of [true, false]) {
    it(`train the same bits with the ring off, on, evicting and spilling (${fused ? "fused conv and batch-norm ops" : "stock conv and batch-norm layers"}, 2 threads)`, async () => {
      await tf.setBackend("wasm");
      await registerWasmKernels();
      await setThreads(2);
      const off = await train(0, fused);
      expect(off.stats.hits).toBe(0);
      // the first call with a new ring size pins it; a warm-up run pins, the next one uses it
      for (const [bytes, lazy] of [[RING_BYTES, true], [RING_BYTES, false], [64 << 10, true], [24 << 10, true]] as const) {
        residentOptions.lazy = lazy;
        await train(bytes, fused);
        const on = await train(bytes, fused);
        if (lazy) {
          // outputs only our kernels read are never copied out; the add, the pooling and the evicted ones are
          expect(on.stats.deferred, `deferred with a ${bytes}-byte ring`).toBeGreaterThan(0);
          expect(on.stats.materialized).toBeGreaterThan(0);
          expect(on.stats.materialized).toBeLessThan(on.stats.deferred);
        } else expect(on.stats.deferred).toBe(0);
        expect(on.weights.length).toBe(off.weights.length);
        on.weights.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(off.weights[i].buffer)), `weight ${i}, ring ${bytes} B, lazy ${lazy}`).toBe(true));
        expect(on.stats.hits, `hits with a ${bytes}-byte ring`).toBeGreaterThan(0);
        if (bytes === 64 << 10) expect(on.stats.evictions).toBeGreaterThan(0);
        // conv1's output (18 KiB) is over half of a 24 KiB ring: never kept
        if (bytes === 24 << 10) expect(on.stats.spills).toBeGreaterThan(0);
      }
    });
  }
});

describe("resident outputs over many steps", () => {
  it("odecomp's wasm memory stops growing once the ring is pinned, and no tensor leaks (2 threads, 5 trainings of 3 steps)", async () => {
    await tf.setBackend("wasm");
    await registerWasmKernels();
    await setThreads(2);
    residentOptions.enabled = true; residentOptions.lazy = true;
    if (residentOptions.bytes !== RING_BYTES) { residentOptions.bytes = RING_BYTES; resetResident(); }
    await train(RING_BYTES, true); // pins the ring (and warms scratch to its high-water mark)
    await train(RING_BYTES, true);
    const bytes = wasmMemoryBytes(), tensors = tf.memory().numTensors;
    const s0 = { ...residentStats };
    for (let i = 0; i < 5; i++) await train(RING_BYTES, true);
    expect(wasmMemoryBytes()).toBe(bytes);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(residentStats.hits - s0.hits).toBeGreaterThan(0);
    expect(residentStats.deferred - s0.deferred).toBeGreaterThan(0);
  });
});

describe("lazy copy-out", () => {
  it("a kept output reads right through dataSync, a stock kernel and the cpu backend; one disposed unread is never copied; numTensors stable", async () => {
    await tf.setBackend("wasm");
    await registerWasmKernels();
    await setThreads(2);
    residentOptions.enabled = true; residentOptions.lazy = true;
    const r = rng(11);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 6 * 6 * 3 }, () => 2 * r() - 1), [2, 6, 6, 3]);
    const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => 2 * r() - 1), [3, 3, 3, 4]);
    const conv = () => tf.conv2d(x, w, 1, "same");
    conv().dispose(); conv().dispose(); // pins the ring, then runs with it
    const expected = Array.from(await tf.tidy(() => conv()).data()); // read at once: materialized
    const n0 = tf.memory().numTensors;
    const s0 = { ...residentStats };
    // never read by tfjs: disposed without a copy
    for (let i = 0; i < 3; i++) conv().dispose();
    expect(residentStats.deferred - s0.deferred).toBe(3);
    expect(residentStats.materialized - s0.materialized).toBe(0);
    // read by a stock kernel (Relu) and through dataSync
    const y = conv();
    const relu = tf.relu(y);
    expect(Array.from(relu.dataSync())).toEqual(expected.map((v) => Math.max(v, 0)));
    expect(Array.from(y.dataSync())).toEqual(expected);
    expect(residentStats.materialized - s0.materialized).toBe(1);
    // moved to another backend
    const z = conv();
    await tf.setBackend("cpu");
    expect(Array.from(z.dataSync())).toEqual(expected);
    await tf.setBackend("wasm");
    tf.dispose([y, relu, z]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([x, w]);
  });
});
