// The fused conv + bias + activation training op (src/tfjs/conv-bias-act.ts, kernels/Conv2DBiasAct.ts,
// assembly/conv/act_grad.ts) on 'wasm' + odecomp against tfjs's unfused computation on the cpu backend
// (conv2d → add → relu, gradients through tfjs's tape) on 216 seeded shapes: channels 1, 3, 5, 17, 33 in
// and out, 1×1 / 3×3 / 2×3 / 5×5 filters, strides 1 and 2 (also (1, 2) and (2, 1)), 'same' and 'valid',
// relu and linear, with and without a bias, dx wanted or not (then a gradient for x asked anyway takes the stock fallback).
//
// Tolerance: both sides sum the K = kh·kw·c_in products in f32 in different orders, so each output
// may differ by a few ulps of Σ|terms|; held to 1e-5 of that bound (Σ|x||w| over the patch, and the
// same bound for the gradients from |dy|). Where the cpu's pre-activation lies within 1e-4 of that
// bound from 0, relu's mask may flip on rounding, so the loss weight of that output is set to 0 (its
// dy is then 0 on both sides and the mask does not matter).
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { conv2dBiasAct, conv2dBiasActAvailable } from "../../src/tfjs/conv-bias-act.ts";
import { Conv2DBiasActGrad } from "../../src/tfjs/kernels/Conv2DBiasAct.ts";
import { rng, gaussian } from "../helpers/random.ts";

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

const CH = [1, 3, 5, 17, 33];
const FILTERS: [number, number][] = [[1, 1], [3, 3], [2, 3], [5, 5]];

interface Case {
  i: number; x: Float32Array; xs: number[]; w: Float32Array; ws: number[]; b: Float32Array | null;
  strides: [number, number]; pad: "same" | "valid"; activation: "relu" | "linear"; needDx: boolean;
}

function makeCase(i: number): Case {
  const r = rng(7000 + i), g = gaussian(r);
  const cin = CH[i % 5], cout = CH[Math.floor(i / 5) % 5];
  const [kh, kw] = FILTERS[Math.floor(i / 25) % 4];
  const stride = i % 3 === 2 ? 2 : 1;
  const strides: [number, number] = i % 9 === 8 ? [1, 2] : i % 9 === 5 ? [2, 1] : [stride, stride];
  const pad = i % 2 ? "valid" : "same";
  const batch = 1 + (i % 3), h = Math.max(kh, [1, 3, 4, 5, 7, 9][i % 6]), wd = Math.max(kw, [1, 3, 4, 5, 7, 9][(i + 2) % 6]);
  const xs = [batch, h, wd, cin], ws = [kh, kw, cin, cout];
  const arr = (n: number) => Float32Array.from({ length: n }, g);
  return {
    i, xs, ws, x: arr(xs.reduce((a, b) => a * b, 1)), w: arr(ws.reduce((a, b) => a * b, 1)),
    b: i % 4 === 3 ? null : arr(cout), strides, pad,
    activation: i % 7 === 6 ? "linear" : "relu", needDx: i % 5 !== 4,
  };
}

interface Out { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array | null; bound: Float32Array }

/** The reference on the cpu: unfused ops, tfjs's gradients; also the loss weights (0 where relu's mask is ambiguous) and Σ|x||w| per output. */
async function reference(k: Case): Promise<Out & { lw: Float32Array; yShape: number[] }> {
  await tf.setBackend("cpu");
  let out!: Out & { lw: Float32Array; yShape: number[] };
  tf.tidy(() => {
    const x = tf.tensor4d(k.x, k.xs as [number, number, number, number]), w = tf.tensor4d(k.w, k.ws as [number, number, number, number]);
    const b = k.b ? tf.tensor1d(k.b) : null;
    const z = tf.conv2d(x, w, k.strides, k.pad);
    const bound = tf.add(tf.conv2d(tf.abs(x), tf.abs(w), k.strides, k.pad), b ? tf.abs(b) : 0).dataSync() as Float32Array;
    const zv = (b ? tf.add(z, b) : z).dataSync();
    const g = gaussian(rng(9000 + k.i));
    const lw = Float32Array.from(zv, (v, j) => (k.activation === "relu" && Math.abs(v) <= 1e-4 * (bound[j] + 1e-30) ? 0 : g()));
    const lwT = tf.tensor(lw, z.shape);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb?: tf.Tensor1D) => {
      let o: tf.Tensor = tf.conv2d(xx, ww, k.strides, k.pad);
      if (bb) o = tf.add(o, bb);
      if (k.activation === "relu") o = tf.relu(o);
      return o;
    };
    const y = f(x, w, b ?? undefined);
    const loss = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D | undefined), lwT));
    const grads = b ? tf.grads((xx, ww, bb) => loss(xx, ww, bb))([x, w, b]) : tf.grads((xx, ww) => loss(xx, ww))([x, w]);
    out = {
      y: y.dataSync() as Float32Array, dx: grads[0].dataSync() as Float32Array, dw: grads[1].dataSync() as Float32Array,
      db: b ? grads[2].dataSync() as Float32Array : null, bound, lw, yShape: z.shape,
    };
  });
  return out;
}

async function ours(k: Case, lw: Float32Array, yShape: number[], withDx: boolean): Promise<Partial<Out>> {
  await tf.setBackend("wasm");
  let out!: Partial<Out>;
  tf.tidy(() => {
    const x = tf.tensor4d(k.x, k.xs as [number, number, number, number]), w = tf.tensor4d(k.w, k.ws as [number, number, number, number]);
    const b = k.b ? tf.tensor1d(k.b) : null;
    const lwT = tf.tensor(lw, yShape);
    const o = { strides: k.strides, pad: k.pad, activation: k.activation, needDx: k.needDx };
    const y = conv2dBiasAct(x, w, b, o);
    const loss = (...v: tf.Tensor[]) => {
      const [xx, ww, bb] = withDx ? v : [x, ...v];
      return tf.sum(tf.mul(conv2dBiasAct(xx as tf.Tensor4D, ww as tf.Tensor4D, (bb ?? null) as tf.Tensor1D | null, o), lwT));
    };
    const vars = [...(withDx ? [x] : []), w, ...(b ? [b] : [])];
    const grads = tf.grads(loss)(vars);
    const [dx, dw, db] = withDx ? grads : [undefined, ...grads];
    out = { y: y.dataSync() as Float32Array, dx: dx?.dataSync() as Float32Array | undefined, dw: dw!.dataSync() as Float32Array, db: b ? db!.dataSync() as Float32Array : null };
  });
  return out;
}

/** max |a − b| / (bound + tiny) over the elements. */
function worst(a: Float32Array, b: Float32Array, bound: (j: number) => number): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let j = 0; j < a.length; j++) {
    const e = Math.abs(a[j] - b[j]) / (bound(j) + 1e-30);
    if (!(e <= m)) m = e; // NaN propagates
  }
  return m;
}

/** Σ|terms| bounds of the gradients: |dy| pushed through the same products as the gradient (on the cpu). */
async function gradBounds(k: Case, lw: Float32Array, yShape: number[]): Promise<{ dx: Float32Array; dw: Float32Array; db: Float32Array }> {
  await tf.setBackend("cpu");
  return tf.tidy(() => {
    const x = tf.abs(tf.tensor4d(k.x, k.xs as [number, number, number, number])), w = tf.abs(tf.tensor4d(k.w, k.ws as [number, number, number, number]));
    const dy = tf.abs(tf.tensor4d(lw, yShape as [number, number, number, number]));
    return {
      dx: tf.conv2dTranspose(dy, w, k.xs as [number, number, number, number], k.strides, k.pad).dataSync() as Float32Array,
      dw: tf.conv2d(x, w, k.strides, k.pad).size > 0 ? (tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, k.strides, k.pad), dy)))(w).dataSync() as Float32Array) : new Float32Array(w.size),
      db: tf.sum(dy, [0, 1, 2]).dataSync() as Float32Array,
    };
  });
}

describe("conv2dBiasAct (fused conv + bias + activation, training)", () => {
  it("is available on wasm with odecomp's kernels", () => {
    expect(conv2dBiasActAvailable()).toBe(true);
  });

  it("matches the cpu backend's unfused ops, forward and gradients, on 216 seeded shapes", async () => {
    const TOL = 1e-5;
    let maxErr = 0, masked = 0, fallbacks = 0;
    for (let i = 0; i < 216; i++) {
      const k = makeCase(i);
      const ref = await reference(k);
      masked += ref.lw.filter((v) => v === 0).length;
      // every case asks for dx too; when needDx is false that takes the stock fallback
      const a = await ours(k, ref.lw, ref.yShape, true);
      if (!k.needDx) fallbacks++;
      const gb = await gradBounds(k, ref.lw, ref.yShape);
      const errs = {
        y: worst(a.y!, ref.y, (j) => ref.bound[j]),
        dx: worst(a.dx!, ref.dx, (j) => gb.dx[j]),
        dw: worst(a.dw!, ref.dw, (j) => gb.dw[j]),
        db: ref.db ? worst(a.db!, ref.db, (j) => gb.db[j]) : 0,
      };
      for (const [name, e] of Object.entries(errs)) {
        if (!(e <= TOL)) throw new Error(`case ${i} (x [${k.xs}], filter [${k.ws}], strides ${k.strides}, ${k.pad}, ${k.activation}, bias ${!!k.b}, needDx ${k.needDx}): ${name} off by ${e} of its bound`);
        maxErr = Math.max(maxErr, e);
      }
      // the parameter gradients alone (x not asked for): the same values
      const p = await ours(k, ref.lw, ref.yShape, false);
      expect(worst(p.dw!, a.dw!, () => 1)).toBe(0);
      if (ref.db) expect(worst(p.db!, a.db!, () => 1)).toBe(0);
    }
    console.log(`conv2dBiasAct: worst error ${maxErr.toExponential(2)} of the Σ|terms| bound; ${masked} outputs masked near relu's kink; ${fallbacks} cases through the dx fallback`);
    expect(fallbacks).toBeGreaterThan(20);
  }, 180_000);

  it("leaves no tensor behind, forward and backward, with and without dx", async () => {
    await tf.setBackend("wasm");
    const x = tf.randomNormal([2, 6, 6, 5]) as tf.Tensor4D, w = tf.randomNormal([3, 3, 5, 4]) as tf.Tensor4D, b = tf.randomNormal([4]) as tf.Tensor1D;
    for (const needDx of [true, false]) {
      const o = { strides: [1, 1] as [number, number], pad: "same" as const, activation: "relu" as const, needDx };
      const run = () => { const g = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(conv2dBiasAct(x, ww as tf.Tensor4D, bb as tf.Tensor1D, o)))([w, b]); tf.dispose(g); };
      run();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) run();
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([x, w, b]);
  });

  it("names the input when a shape does not fit", async () => {
    await tf.setBackend("wasm");
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, w = tf.zeros([3, 3, 2, 4]) as tf.Tensor4D, b = tf.zeros([5]) as tf.Tensor1D;
    const o = { strides: [1, 1] as [number, number], pad: "same" as const, activation: "relu" as const };
    expect(() => conv2dBiasAct(x, w, null, o)).toThrow(/x \[1,4,4,3\] and filter \[3,3,2,4\] do not match/);
    const w2 = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
    expect(() => conv2dBiasAct(x, w2, b, o)).toThrow(/bias has shape \[5\]; expected \[4\]/);
    expect(() => tf.engine().runKernel(Conv2DBiasActGrad, { dy: tf.zeros([1, 3, 3, 4]), y: tf.zeros([1, 4, 4, 4]), x, filter: w2 }, { ...o, needDx: true, hasBias: false }))
      .toThrow(/dy has shape \[1,3,3,4\]; expected the conv's output shape \[1,4,4,4\]/);
    tf.dispose([x, w, b, w2]);
  });
});

// tfl is imported so its gradients (and layers' registrations) are present as in training
void tfl;
