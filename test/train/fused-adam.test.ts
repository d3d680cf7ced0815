// tf.train.adam's update on one kernel per variable (src/train/fused-adam.ts, kernels/AdamUpdate.ts):
// bitwise the stock update on 'wasm' and on the cpu backend over many steps (shapes with SIMD tails,
// a learning rate changed between steps, tiny / huge / zero gradients, a variable without a gradient),
// the optimizer's saved state identical, no leak, and the stock update where it does not apply.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels, unregisterWasmKernels } from "../../src/tfjs/index.ts";
import { fuseAdam, fusedAdamCounts } from "../../src/train/fused-adam.ts";
import { randn } from "../helpers/random.ts";

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

const SHAPES = [[1], [3], [4], [5], [17], [64], [129], [3, 3, 5, 17], [33, 10], [1, 1, 16, 64]];

/** Run `steps` Adam steps on fresh variables (seeded), fused or not, on `backend`; returns every variable and the optimizer's weights. */
async function train(backend: string, fused: boolean, steps: number, opts: { beta1?: number; beta2?: number; epsilon?: number } = {}) {
  await tf.setBackend(backend);
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(randn(s.reduce((a, b) => a * b, 1), 10 + i), s), true, `fa_${backend}_${fused}_${i}_${Math.random()}`));
  const opt = tf.train.adam(0.01, opts.beta1, opts.beta2, opts.epsilon);
  const restore = fused ? fuseAdam(opt) : () => {};
  for (let t = 0; t < steps; t++) {
    if (t === 3) (opt as unknown as { learningRate: number }).learningRate = 0.0037; // a schedule changes the rate between steps
    const grads: Record<string, tf.Tensor | null> = {};
    vars.forEach((v, i) => {
      // a variable without a gradient on some steps (listed with null: AdamOptimizer keeps its moments by position)
      if (i === 2 && t % 2 === 1) { grads[v.name] = null; return; }
      const scale = i === 4 ? 1e-30 : i === 5 ? 1e20 : i === 6 && t === 0 ? 0 : 1;
      grads[v.name] = tf.tidy(() => tf.mul(tf.tensor(randn(v.size, 100 * t + i), v.shape), scale));
    });
    opt.applyGradients(grads as unknown as tf.NamedTensorMap as never);
    tf.dispose(Object.values(grads).filter((g): g is tf.Tensor => g !== null));
  }
  restore();
  const values = vars.map((v) => Array.from(v.dataSync()));
  const state = (await opt.getWeights()).map((w) => ({ name: w.name, data: Array.from(w.tensor.dataSync()) }));
  const iterations = opt.iterations;
  opt.dispose();
  vars.forEach((v) => v.dispose());
  return { values, state: state.map((s) => s.data), stateNames: state.map((s) => s.name.replace(/fa_\w+?_(true|false)_/, "")), iterations };
}

describe("fused Adam", () => {
  it("is bitwise the stock update on wasm and equal to the cpu's over 8 steps (rate change, zero / tiny / huge gradients, a missing gradient)", async () => {
    const c0 = { ...fusedAdamCounts };
    const ours = await train("wasm", true, 8), stockWasm = await train("wasm", false, 8), cpu = await train("cpu", false, 8);
    expect(fusedAdamCounts.fused - c0.fused).toBe(8);
    expect(fusedAdamCounts.stock - c0.stock).toBe(0);
    expect(ours.values).toEqual(stockWasm.values);
    expect(ours.state).toEqual(stockWasm.state);
    expect(ours.iterations).toBe(8);
    expect(ours.stateNames.length).toBe(stockWasm.stateNames.length);
    expect(ours.values).toEqual(cpu.values);
    expect(ours.state).toEqual(cpu.state);
    await tf.setBackend("wasm");
  });

  it("is bitwise the stock update with other β1, β2, ε", async () => {
    const o = { beta1: 0.8, beta2: 0.95, epsilon: 1e-4 };
    const ours = await train("wasm", true, 4, o), stock = await train("wasm", false, 4, o);
    expect(ours.values).toEqual(stock.values);
    expect(ours.state).toEqual(stock.state);
  });

  it("a fused run continued unfused (and the reverse) is the stock run: the state is the stock one", async () => {
    await tf.setBackend("wasm");
    const run = (fuseFirst: boolean | null) => {
      const v = tf.variable(tf.tensor(randn(37, 3)), true, `fa_cont_${fuseFirst}_${Math.random()}`);
      const opt = tf.train.adam(0.02);
      for (let t = 0; t < 6; t++) {
        const restore = fuseFirst === null ? () => {} : (t < 3) === fuseFirst ? fuseAdam(opt) : () => {};
        const g = tf.tensor(randn(37, 50 + t));
        opt.applyGradients({ [v.name]: g } as never);
        restore();
        g.dispose();
      }
      const out = Array.from(v.dataSync());
      opt.dispose(); v.dispose();
      return out;
    };
    const stock = run(null);
    expect(run(true)).toEqual(stock);
    expect(run(false)).toEqual(stock);
  });

  it("leaks no tensor per step", async () => {
    await tf.setBackend("wasm");
    const v = tf.variable(tf.tensor(randn(50, 1)));
    const opt = tf.train.adam(0.01);
    const restore = fuseAdam(opt);
    const step = () => { const g = tf.tensor(randn(50, 2)); opt.applyGradients({ [v.name]: g } as never); g.dispose(); };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    restore(); opt.dispose(); v.dispose();
  });

  it("runs the stock update where it does not apply: the cpu backend, no odecomp kernels; other optimizers are left alone", async () => {
    const c0 = { ...fusedAdamCounts };
    await train("cpu", true, 2);
    expect(fusedAdamCounts.stock - c0.stock).toBe(2);
    await tf.setBackend("wasm");
    unregisterWasmKernels();
    try {
      const ours = await train("wasm", true, 2), stock = await train("wasm", false, 2);
      expect(ours.values).toEqual(stock.values);
      expect(fusedAdamCounts.stock - c0.stock).toBe(4);
    } finally {
      await registerWasmKernels();
    }
    expect(fusedAdamCounts.fused - c0.fused).toBe(0);
    const sgd = tf.train.sgd(0.1);
    fuseAdam(sgd)();
    expect(Object.prototype.hasOwnProperty.call(sgd, "applyGradients")).toBe(false);
    sgd.dispose();
  });
});
