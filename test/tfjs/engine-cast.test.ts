// Cast on 'wasm' + odecomp (src/tfjs/kernels/Cast.ts): to the same dtype it shares the input's data
// (no copy, no leak, survives the input's disposal); every dtype change equals cpu (to bool: ours,
// x ≠ 0, where stock copies the values; the others stock); ReLU's gradient (which casts its step mask)
// equals cpu, NaN and ±0 included.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-layers"; // registers the gradients
import { registerWasmKernels } from "../../src/tfjs/index.ts";

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

describe("Cast", () => {
  it("to the same dtype shares the data (float32, int32, bool), survives the input's disposal and leaks nothing", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    for (const [values, dtype] of [[[1.5, -2, 0, 3e38], "float32"], [[1, -2, 0, 7], "int32"], [[1, 0, 1, 1], "bool"]] as const) {
      const x = tf.tensor([...values], [2, 2], dtype);
      const y = tf.cast(x, dtype);
      expect(y.dataId).toBe(x.dataId);
      expect(y.dtype).toBe(dtype);
      const expected = Array.from(x.dataSync());
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual(expected);
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("every dtype change equals cpu (and gets its own data)", async () => {
    const values = [1.7, -2.2, 0, -0.5, 3, 255.9, -1e9];
    for (const from of ["float32", "int32", "bool"] as const) {
      for (const to of ["float32", "int32", "bool"] as const) {
        if (from === to) continue;
        const run = async (backend: string) => {
          await tf.setBackend(backend);
          const x = tf.tensor(values, [values.length], from);
          const y = tf.cast(x, to);
          const shared = y.dataId === x.dataId;
          const out = { data: Array.from(y.dataSync()), dtype: y.dtype, shared };
          tf.dispose([x, y]);
          return out;
        };
        const ours = await run("wasm"), ref = await run("cpu");
        expect(ours.dtype, `${from} → ${to}`).toBe(to);
        expect(ours.shared, `${from} → ${to} copies`).toBe(false);
        expect(ours.data, `${from} → ${to}`).toEqual(ref.data);
      }
    }
    await tf.setBackend("wasm");
  });

  it("ReLU's gradient equals cpu bitwise, with NaN, ±0, ±Infinity in x and dy", async () => {
    const x = new Float32Array([1, -1, 0, -0, NaN, Infinity, -Infinity, 2.5, -3, 1e-40, -1e-40, 7]);
    const dy = new Float32Array([2, -2, 3, -3, 1, NaN, 5, Infinity, -Infinity, -4, 4, -0]);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const xt = tf.tensor(x), dyt = tf.tensor(dy);
      const g = tf.grad((a: tf.Tensor) => tf.relu(a))(xt, dyt);
      const out = new Float32Array(g.dataSync());
      tf.dispose([xt, dyt, g]);
      return out;
    };
    const ours = await run("wasm"), ref = await run("cpu");
    expect(Buffer.from(ours.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
    await tf.setBackend("wasm");
  });
});
