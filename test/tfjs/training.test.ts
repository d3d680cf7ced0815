// Training a small CNN on 'wasm' + odecomp: model.fit runs, its loss falls,
// one step's gradients equal the cpu backend's, and an epoch leaks no tensors.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { rng } from "../helpers/random.ts";
import { relErr } from "../helpers/conv-reference.ts";

const H = 8, W = 8, C = 2, CLASSES = 3, N = 48;

function smallCnn(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [H, W, C], filters: 5, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1) }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", depthMultiplier: 2, useBias: false, depthwiseInitializer: init(2) }), // a bias before BN has zero gradient,
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 4, kernelSize: 1, padding: "valid", activation: "relu", kernelInitializer: init(3) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: init(4) }),
    ],
  });
}

/** Seeded inputs whose class is the quadrant with the largest mean: learnable by the CNN. */
function data(seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const x = new Float32Array(N * H * W * C), y = new Float32Array(N * CLASSES);
  for (let i = 0; i < N; i++) {
    const cls = i % CLASSES;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
      const hot = cls === 0 ? h < H / 2 : cls === 1 ? w < W / 2 : h >= H / 2 && w >= W / 2;
      x[((i * H + h) * W + w) * C + c] = (r() - 0.5) + (hot ? 1 : 0);
    }
    y[i * CLASSES + cls] = 1;
  }
  return { x, y };
}

beforeAll(async () => {
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

describe("training a small CNN on wasm + odecomp", () => {
  it("model.fit runs on wasm and its loss falls", async () => {
    expect(tf.getBackend()).toBe("wasm");
    const { x, y } = data(1);
    const model = smallCnn(10);
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    const xs = tf.tensor4d(x, [N, H, W, C]), ys = tf.tensor2d(y, [N, CLASSES]);
    const hist = await model.fit(xs, ys, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
    const loss = hist.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]).toBeLessThan(0.7 * loss[0]);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it("one step's gradients equal the cpu backend's (1e-4 relative per variable)", async () => {
    const { x, y } = data(2);
    const model = smallCnn(20);
    const lossOf = () => {
      const xs = tf.tensor4d(x, [N, H, W, C]), ys = tf.tensor2d(y, [N, CLASSES]);
      const pred = model.apply(xs, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(ys, pred) as tf.Scalar;
    };
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const { value, grads } = tf.variableGrads(lossOf);
      const out: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
      const v = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return { loss: v, grads: out };
    };
    const onWasm = await grads("wasm");
    const onCpu = await grads("cpu");
    await tf.setBackend("wasm");
    const names = Object.keys(onCpu.grads);
    // conv (kernel, bias), depthwise, bn (gamma, beta), conv 1×1 (kernel, bias), dense (kernel, bias)
    expect(names.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(onWasm.grads).sort()).toEqual(names.sort());
    expect(Math.abs(onWasm.loss - onCpu.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(onCpu.loss)));
    for (const name of names) {
      const e = relErr(onWasm.grads[name], onCpu.grads[name]);
      expect(e, `gradient of ${name}`).toBeLessThan(1e-4);
      expect(onCpu.grads[name].some((v) => v !== 0), `gradient of ${name} is not all zero`).toBe(true);
    }
    model.dispose();
  });

  it("an epoch of model.fit leaves tf.memory().numTensors unchanged", async () => {
    const { x, y } = data(3);
    const model = smallCnn(30);
    model.compile({ optimizer: tf.train.sgd(0.05), loss: "categoricalCrossentropy" });
    const xs = tf.tensor4d(x, [N, H, W, C]), ys = tf.tensor2d(y, [N, CLASSES]);
    await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0 }); // creates optimizer state
    const before = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
