// A pointwise conv's two gradients in one pass (assembly/conv/pointwise_grad.ts) and their pairing
// through tfjs (src/tfjs/conv-grad-pairing.ts): the kernel equals a float64 reference and, bitwise,
// the two kernels run apart, on one and two threads; through tf.grads the paired gradients equal the
// cpu backend's, the pairing happens where it should and computes nothing wrong where it should not
// (a filter shared by two convs, an input gradient alone, a stale input), and leaks no tensor.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
// registers the gradients of the ops used below (as every model of this project does)
import "@tensorflow/tfjs-layers";
import { setThreads } from "../../src/index.ts";
import { withScratch } from "../../src/core/heap.ts";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { pairingCounts } from "../../src/tfjs/conv-grad-pairing.ts";
import { rng } from "../helpers/random.ts";
import { relErr } from "../helpers/conv-reference.ts";

const CASES = 200;
const CHANNELS = [1, 3, 5, 17, 33, 2, 4, 8, 64];
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function uniform(n: number, r: () => number, scale = 1): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (2 * r() - 1) * scale;
  return d;
}

const bitwise = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

afterAll(async () => {
  await setThreads(1);
});

/** dx, dw of a pointwise conv: fused (one call) and apart (the two kernels of grad.ts). */
function runKernels(b: number, h: number, w: number, K: number, N: number, x: Float32Array, dy: Float32Array, wt: Float32Array) {
  return withScratch((s) => {
    const g = s.i32(16);
    new Int32Array(s.k.memory.buffer, g, 16).set([b, h, w, K, h, w, N, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
    const P = b * h * w;
    const px = s.put(x), pdy = s.put(dy), pw = s.put(wt);
    const dx = s.f32(P * K), dw = s.f32(K * N), dxA = s.f32(P * K), dwA = s.f32(K * N);
    expect(s.k.conv2d_backprop_pointwise_f32(g, px, pdy, pw, dx, dw)).toBe(0);
    expect(s.k.conv2d_backprop_input_f32(g, pdy, pw, dxA)).toBe(0);
    expect(s.k.conv2d_backprop_filter_f32(g, px, pdy, dwA)).toBe(0);
    return { dx: s.take(dx, P * K), dw: s.take(dw, K * N), dxA: s.take(dxA, P * K), dwA: s.take(dwA, K * N) };
  });
}

describe("conv2d_backprop_pointwise_f32: dx and dw of a 1×1 conv in one pass", () => {
  it(`${CASES} seeded shapes (channels 1–64, positions across the dW chunks): equals float64, bitwise the two kernels apart, bitwise on 1 and 2 threads`, async () => {
    const r = rng(16161);
    let chunked = 0;
    const cases = [];
    for (let t = 0; t < CASES; t++) {
      const K = pick(r, CHANNELS), N = pick(r, CHANNELS);
      // every 8th case has ≥ 2 chunks of 2048 positions (and splits over two threads)
      const [b, h, w] = t % 8 === 0 ? [3 + Math.floor(r() * 8), 28, 28] : [1 + Math.floor(r() * 3), 1 + Math.floor(r() * 12), 1 + Math.floor(r() * 12)];
      if (b * h * w > 2048) chunked++;
      const P = b * h * w;
      cases.push({ b, h, w, K, N, x: uniform(P * K, r), dy: uniform(P * N, r), wt: uniform(K * N, r) });
    }
    const runs = [];
    for (const threads of [1, 2]) {
      await setThreads(threads);
      runs.push(cases.map((c) => runKernels(c.b, c.h, c.w, c.K, c.N, c.x, c.dy, c.wt)));
    }
    for (const [t, { b, h, w, K, N, x, dy, wt }] of cases.entries()) {
      const P = b * h * w;
      const dxRef = new Float64Array(P * K), dwRef = new Float64Array(K * N);
      for (let p = 0; p < P; p++) for (let k = 0; k < K; k++) {
        let s = 0;
        for (let n = 0; n < N; n++) { s += dy[p * N + n] * wt[k * N + n]; dwRef[k * N + n] += x[p * K + k] * dy[p * N + n]; }
        dxRef[p * K + k] = s;
      }
      const what = `case ${t}: [${b},${h},${w}] K ${K} N ${N}`;
      const one = runs[0][t], two = runs[1][t];
      expect(relErr(one.dx, dxRef), `dx ${what}`).toBeLessThan(1e-5);
      expect(relErr(one.dw, dwRef), `dw ${what}`).toBeLessThan(1e-5);
      expect(bitwise(one.dx, one.dxA) && bitwise(one.dw, one.dwA), `fused = apart, ${what}`).toBe(true);
      expect(bitwise(two.dx, one.dx) && bitwise(two.dw, one.dw), `2 threads = 1 thread, ${what}`).toBe(true);
      expect(bitwise(two.dx, two.dxA) && bitwise(two.dw, two.dwA), `fused = apart on 2 threads, ${what}`).toBe(true);
    }
    expect(chunked).toBeGreaterThanOrEqual(CASES / 8 - 1);
    await setThreads(1);
  });

  it("zero, tiny (1e-20) and huge (1e18) values; no positions; not pointwise → status 2", () => {
    for (const [sx, sdy, zero] of [[0, 1, true], [1e-20, 1e-20, false], [1e18, 1e18, false]] as const) {
      const r = rng(3);
      const K = 5, N = 17, b = 2, h = 9, w = 7, P = b * h * w;
      const x = uniform(P * K, r, sx), dy = uniform(P * N, r, sdy), wt = uniform(K * N, r);
      const { dx, dw, dxA, dwA } = runKernels(b, h, w, K, N, x, dy, wt);
      expect(bitwise(dx, dxA) && bitwise(dw, dwA)).toBe(true);
      expect(dw.every(Number.isFinite) && dx.every(Number.isFinite)).toBe(true);
      if (zero) expect(dw.every((v) => v === 0)).toBe(true);
      else expect(dw.some((v) => v !== 0)).toBe(true);
    }
    withScratch((s) => {
      const g = s.i32(16);
      const dw = s.put(new Float32Array(6).fill(7));
      new Int32Array(s.k.memory.buffer, g, 16).set([0, 4, 4, 2, 4, 4, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
      expect(s.k.conv2d_backprop_pointwise_f32(g, 0, 0, 0, 0, dw)).toBe(0);
      expect(Array.from(s.take(dw, 6))).toEqual([0, 0, 0, 0, 0, 0]);
      new Int32Array(s.k.memory.buffer, g, 16).set([1, 4, 4, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
      expect(s.k.conv2d_backprop_pointwise_f32(g, 0, 0, 0, 0, dw)).toBe(2);
    });
  });
});

/** Gradients of Σ(conv(x, w) · probe) w.r.t. `wrt` on a backend (tf.conv2d, or fused.conv2d: linear, no bias). */
async function gradsOn(backend: string, fused: boolean, x: Float32Array, xs: number[], w: Float32Array, ws: number[], probe: Float32Array, wrt: "both" | "x" | "w") {
  await tf.setBackend(backend);
  const xt = tf.tensor4d(x, xs as [number, number, number, number]), wt = tf.tensor4d(w, ws as [number, number, number, number]);
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const a4 = a as tf.Tensor4D, b4 = b as tf.Tensor4D;
    const y = fused ? tf.fused.conv2d({ x: a4, filter: b4, strides: 1, pad: "valid" }) : tf.conv2d(a4, b4, 1, "valid");
    return tf.sum(tf.mul(y, tf.tensor(probe, y.shape)));
  };
  let out: Float32Array[];
  if (wrt === "both") {
    const g = tf.grads(f)([xt, wt]);
    out = g.map((t) => t.dataSync() as Float32Array);
    tf.dispose(g);
  } else {
    const g = wrt === "x" ? tf.grad((a: tf.Tensor) => f(a, wt))(xt) : tf.grad((b: tf.Tensor) => f(xt, b))(wt);
    out = [g.dataSync() as Float32Array];
    g.dispose();
  }
  tf.dispose([xt, wt]);
  return out;
}

describe("pairing through tfjs: Conv2D's and fused.conv2d's gradients of a 1×1 conv", () => {
  it(`${CASES} seeded cases equal cpu, and every one pairs`, async () => {
    const r = rng(16162);
    const before = pairingCounts();
    await tf.setBackend("wasm");
    const tensors = tf.memory().numTensors;
    for (let t = 0; t < CASES; t++) {
      const K = pick(r, CHANNELS), N = pick(r, CHANNELS);
      const xs = [1 + Math.floor(r() * 3), 1 + Math.floor(r() * 9), 1 + Math.floor(r() * 9), K], ws = [1, 1, K, N];
      const x = uniform(sizeOf(xs), r), w = uniform(K * N, r), probe = uniform(xs[0] * xs[1] * xs[2] * N, r);
      const fused = t % 2 === 1;
      const ours = await gradsOn("wasm", fused, x, xs, w, ws, probe, "both");
      const ref = await gradsOn("cpu", fused, x, xs, w, ws, probe, "both");
      const what = `case ${t} (${fused ? "fused.conv2d" : "conv2d"}): x [${xs}] w [${ws}]`;
      expect(relErr(ours[0], ref[0]), `dx ${what}`).toBeLessThan(1e-5);
      expect(relErr(ours[1], ref[1]), `dw ${what}`).toBeLessThan(1e-5);
    }
    await tf.setBackend("wasm");
    expect(tf.memory().numTensors).toBe(tensors);
    const after = pairingCounts();
    expect(after.parked - before.parked).toBe(CASES);
    expect(after.taken - before.taken).toBe(CASES);
  });

  it("an input gradient alone, a filter gradient alone, and a filter shared by two convs: right values, nothing taken wrongly", async () => {
    const r = rng(16163);
    const xs = [2, 5, 6, 3], ws = [1, 1, 3, 4];
    const x = uniform(sizeOf(xs), r), w = uniform(12, r), probe = uniform(2 * 5 * 6 * 4, r);
    for (const wrt of ["x", "w"] as const) {
      const c0 = pairingCounts();
      const ours = await gradsOn("wasm", false, x, xs, w, ws, probe, wrt);
      const ref = await gradsOn("cpu", false, x, xs, w, ws, probe, wrt);
      expect(relErr(ours[0], ref[0]), `gradient w.r.t. ${wrt} alone`).toBeLessThan(1e-5);
      const c1 = pairingCounts();
      // dx alone computes dw for nothing (parked, never taken); dw alone is computed by its own kernel
      expect(c1.taken - c0.taken).toBe(0);
      expect(c1.parked - c0.parked).toBe(wrt === "x" ? 1 : 0);
    }
    // one filter, two inputs: the forward remembers the second input, so the first conv's dw must not be taken from it
    const x2 = uniform(sizeOf(xs), r);
    const shared = async (backend: string) => {
      await tf.setBackend(backend);
      const a = tf.tensor4d(x, xs as [number, number, number, number]), b = tf.tensor4d(x2, xs as [number, number, number, number]);
      const wt = tf.tensor4d(w, ws as [number, number, number, number]), p = tf.tensor4d(probe, [2, 5, 6, 4]);
      const g = tf.grads((u: tf.Tensor, v: tf.Tensor, f: tf.Tensor) => {
        const f4 = f as tf.Tensor4D;
        return tf.sum(tf.mul(tf.add(tf.conv2d(u as tf.Tensor4D, f4, 1, "valid"), tf.mul(tf.conv2d(v as tf.Tensor4D, f4, 1, "valid"), 2)), p));
      })([a, b, wt]);
      const out = g.map((t) => t.dataSync() as Float32Array);
      tf.dispose([a, b, wt, p, ...g]);
      return out;
    };
    const ours = await shared("wasm"), ref = await shared("cpu");
    for (let i = 0; i < 3; i++) expect(relErr(ours[i], ref[i]), `shared filter, gradient ${i}`).toBeLessThan(1e-5);
    await tf.setBackend("wasm");
  });
});
