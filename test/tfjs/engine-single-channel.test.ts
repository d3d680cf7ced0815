// The direct gradients of a conv with one input channel (assembly/conv/single_channel.ts), reached
// through the registered Conv2DBackpropInput / Conv2DBackpropFilter kernels: 200 seeded shapes (filters
// 1–5 × 1–5, padding same / valid / explicit, 1–17 output channels across the routing limits) equal the
// cpu backend and are bitwise the same on one and two odecomp threads; the kernels decline (status 2)
// what they do not cover.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { setThreads } from "../../src/index.ts";
import { withScratch } from "../../src/core/heap.ts";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { rng } from "../helpers/random.ts";
import { relErr } from "../helpers/conv-reference.ts";

const CASES = 200;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function uniform(n: number, r: () => number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 2 * r() - 1;
  return d;
}

async function run(backend: string, kernel: string, inputs: Record<string, { data: Float32Array; shape: number[] }>, attrs: object): Promise<Float32Array> {
  await tf.setBackend(backend);
  const ts = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  const out = tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  tf.dispose([out, ...Object.values(ts)]);
  return data;
}

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
});

afterAll(async () => {
  await setThreads(1);
});

describe("gradients of a one-input-channel conv (direct kernels)", () => {
  it(`${CASES} seeded shapes equal cpu, bitwise the same on 1 and 2 threads`, async () => {
    const r = rng(16171);
    type Case = { what: string; xs: { data: Float32Array; shape: number[] }; fs: { data: Float32Array; shape: number[] }; dy: { data: Float32Array; shape: number[] }; fAttrs: object; iAttrs: object };
    const cases: Case[] = [];
    while (cases.length < CASES) {
      const b = 1 + Math.floor(r() * 3), h = 1 + Math.floor(r() * 12), w = 1 + Math.floor(r() * 12);
      const kh = pick(r, [1, 2, 3, 3, 5]), kw = r() < 0.7 ? kh : pick(r, [1, 2, 3, 4]);
      const co = pick(r, [1, 2, 3, 4, 5, 7, 8, 9, 16, 17]);
      const pr = r();
      const pad = pr < 0.45 ? "same" : pr < 0.8 ? "valid" : [[0, 0], [Math.floor(r() * 3), Math.floor(r() * 3)], [Math.floor(r() * 3), Math.floor(r() * 3)], [0, 0]];
      const x = [b, h, w, 1], filter = [kh, kw, 1, co];
      let info: tf.backend_util.Conv2DInfo;
      try {
        info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], 1, 1, pad as "same");
      } catch { continue; }
      if (info.outHeight < 1 || info.outWidth < 1) continue;
      cases.push({
        what: `case ${cases.length}: x [${x}] filter [${filter}] pad ${JSON.stringify(pad)}`,
        xs: { data: uniform(sizeOf(x), r), shape: x }, fs: { data: uniform(sizeOf(filter), r), shape: filter },
        dy: { data: uniform(sizeOf(info.outShape), r), shape: info.outShape },
        fAttrs: { strides: 1, pad, dataFormat: "NHWC", filterShape: filter }, iAttrs: { strides: 1, pad, dataFormat: "NHWC", inputShape: x },
      });
    }
    const ref = [];
    for (const c of cases) ref.push([await run("cpu", "Conv2DBackpropFilter", { x: c.xs, dy: c.dy }, c.fAttrs), await run("cpu", "Conv2DBackpropInput", { dy: c.dy, filter: c.fs }, c.iAttrs)]);
    const got: Float32Array[][][] = [];
    for (const threads of [1, 2]) {
      await setThreads(threads);
      const outs = [];
      for (const [i, c] of cases.entries()) {
        const dw = await run("wasm", "Conv2DBackpropFilter", { x: c.xs, dy: c.dy }, c.fAttrs);
        const dx = await run("wasm", "Conv2DBackpropInput", { dy: c.dy, filter: c.fs }, c.iAttrs);
        expect(relErr(dw, ref[i][0]), `dw ${threads} thread(s), ${c.what}`).toBeLessThan(1e-5);
        expect(relErr(dx, ref[i][1]), `dx ${threads} thread(s), ${c.what}`).toBeLessThan(1e-5);
        outs.push([dw, dx]);
      }
      got.push(outs);
    }
    for (const [i, c] of cases.entries()) {
      expect(Buffer.from(got[0][i][0].buffer).equals(Buffer.from(got[1][i][0].buffer)), `dw 1 vs 2 threads, ${c.what}`).toBe(true);
      expect(Buffer.from(got[0][i][1].buffer).equals(Buffer.from(got[1][i][1].buffer)), `dx 1 vs 2 threads, ${c.what}`).toBe(true);
    }
    await setThreads(1);
  });

  it("the kernels decline two input channels, stride 2 and dilation 2 (status 2), and write nothing", () => {
    withScratch((s) => {
      const g = s.i32(16);
      const out = s.put(new Float32Array(64).fill(7));
      for (const geom of [
        [1, 4, 4, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1], // two input channels
        [1, 4, 4, 1, 2, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1], // stride 2
        [1, 6, 6, 1, 6, 6, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1], // dilation 2
      ]) {
        new Int32Array(s.k.memory.buffer, g, 16).set(geom);
        expect(s.k.conv2d_backprop_input_c1_f32(g, out, out, out)).toBe(2);
        expect(s.k.conv2d_backprop_filter_c1_f32(g, out, out, out)).toBe(2);
      }
      expect(Array.from(s.take(out, 64)).every((v) => v === 7)).toBe(true);
    });
  });
});
