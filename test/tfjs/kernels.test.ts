// Seeded fuzz: each kernel we register (and the ones kept stock for speed) on
// 'wasm' + odecomp equals the tfjs cpu backend to 1e-4 relative.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { WASM_KERNELS } from "../../src/tfjs/register.ts";
import { conv2DConfig } from "../../src/tfjs/kernels/Conv2D.ts";
import { fusedMatMul, ROUTE_MIN_MACS } from "../../src/tfjs/kernels/FusedMatMul.ts";
import { maxPool, maxPoolRouted, oursPools } from "../../src/tfjs/kernels/MaxPool.ts";
import { setThreads } from "../../src/index.ts";
import { rng } from "../helpers/random.ts";
import { depthwiseBackpropFilterRef, depthwiseBackpropInputRef, relErr, type Geometry } from "../helpers/conv-reference.ts";

const CASES = 200;
const TOL = 1e-4;

type Attrs = Record<string, unknown>;

/** Run one kernel on a backend with fresh tensors; returns its values. */
async function runOn(backend: string, kernel: string, inputs: Record<string, { data: Float32Array; shape: number[] }>, attrs: Attrs): Promise<{ data: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
  const out = tf.engine().runKernel(kernel, ts as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  const res = { data: out.dataSync() as Float32Array, shape: out.shape };
  out.dispose();
  Object.values(ts).forEach((t) => t.dispose());
  return res;
}

function uniform(n: number, r: () => number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 2 * r() - 1;
  return d;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

interface ConvCase {
  x: number[]; filter: number[]; strides: [number, number]; dilations: [number, number];
  pad: "same" | "valid" | number[][]; info: tf.backend_util.Conv2DInfo;
}

/** A random valid conv geometry (output at least 1×1). */
function convCase(r: () => number, depthwise: boolean, allowDilation: boolean): ConvCase {
  for (;;) {
    const b = 1 + Math.floor(r() * 3);
    const h = 1 + Math.floor(r() * 9), w = 1 + Math.floor(r() * 9);
    const ci = pick(r, [1, 2, 3, 4, 5, 7, 8]);
    const co = depthwise ? pick(r, [1, 1, 1, 2, 3, 4, 5]) : pick(r, [1, 2, 3, 4, 5, 7, 8, 9]);
    const kh = pick(r, [1, 3, 5]), kw = r() < 0.7 ? kh : pick(r, [1, 3, 5]);
    const s = pick(r, [1, 2]);
    const strides: [number, number] = [s, r() < 0.8 ? s : 3 - s];
    const dil = allowDilation && r() < 0.3 ? 2 : 1;
    const dilations: [number, number] = dil > 1 ? [1, 1] : [1, 1];
    if (dil > 1) { dilations[0] = dil; dilations[1] = r() < 0.5 ? dil : 1; strides[0] = 1; strides[1] = 1; }
    const pr = r();
    const pad = pr < 0.35 ? "same" : pr < 0.7 ? "valid"
      : [[0, 0], [Math.floor(r() * 3), Math.floor(r() * 3)], [Math.floor(r() * 3), Math.floor(r() * 3)], [0, 0]];
    const x = [b, h, w, ci], filter = [kh, kw, ci, co];
    try {
      const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], strides, dilations, pad as "same", undefined, depthwise);
      if (info.outHeight < 1 || info.outWidth < 1) continue;
      return { x, filter, strides, dilations, pad: pad as ConvCase["pad"], info };
    } catch { continue; }
  }
}

function geometry(c: ConvCase): Geometry {
  const i = c.info;
  return { batch: i.batchSize, inH: i.inHeight, inW: i.inWidth, inC: i.inChannels, outH: i.outHeight, outW: i.outWidth,
    chMul: i.outChannels / i.inChannels, kH: i.filterHeight, kW: i.filterWidth, sH: i.strideHeight, sW: i.strideWidth,
    dH: i.dilationHeight, dW: i.dilationWidth, padTop: i.padInfo.top, padLeft: i.padInfo.left };
}

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

beforeAll(async () => {
  await tf.ready();
  await import("@tensorflow/tfjs-backend-wasm");
  await registerWasmKernels();
  await tf.setBackend("wasm");
  // The fuzz below must exercise our kernels, not stock ones.
  expect(WASM_KERNELS.map((c) => c.kernelName).sort()).toEqual(["BatchMatMul", "Cast", "Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput", "FusedConv2D", "Identity", "MaxPool", "MaxPoolGrad", "OdecompAdamUpdate", "OdecompBatchNormTrain", "OdecompBatchNormTrainGrad", "OdecompConv2DBiasAct", "OdecompConv2DBiasActGrad", "Sum", "Tile", "_FusedMatMul"]);
  for (const c of WASM_KERNELS) expect(tf.getKernel(c.kernelName, "wasm")?.kernelFunc).toBe(c.kernelFunc);
});

describe("tfjs kernels on wasm + odecomp equal the cpu backend (seeded fuzz)", () => {
  it(`Conv2DBackpropFilter: ${CASES} cases`, async () => {
    const r = rng(101);
    let worst = 0;
    for (let t = 0; t < CASES; t++) {
      const c = convCase(r, false, false);
      const inputs = { x: { data: uniform(sizeOf(c.x), r), shape: c.x }, dy: { data: uniform(sizeOf(c.info.outShape), r), shape: c.info.outShape } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter };
      const ours = await runOn("wasm", "Conv2DBackpropFilter", inputs, attrs);
      const ref = await runOn("cpu", "Conv2DBackpropFilter", inputs, attrs);
      expect(ours.shape).toEqual(ref.shape);
      const e = relErr(ours.data, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: ${JSON.stringify({ ...c, info: undefined })} error ${e}`);
      worst = Math.max(worst, e);
    }
    expect(worst).toBeLessThan(TOL);
  });

  it(`Conv2DBackpropInput: ${CASES} cases`, async () => {
    const r = rng(151);
    for (let t = 0; t < CASES; t++) {
      const c = convCase(r, false, false);
      const inputs = { dy: { data: uniform(sizeOf(c.info.outShape), r), shape: c.info.outShape }, filter: { data: uniform(sizeOf(c.filter), r), shape: c.filter } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", inputShape: c.x };
      const ours = await runOn("wasm", "Conv2DBackpropInput", inputs, attrs);
      const ref = await runOn("cpu", "Conv2DBackpropInput", inputs, attrs);
      expect(ours.shape).toEqual(c.x);
      const e = relErr(ours.data, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: ${JSON.stringify({ ...c, info: undefined })} error ${e}`);
    }
  });

  it(`DepthwiseConv2dNativeBackpropFilter: ${CASES} cases (dilation vs a scalar reference)`, async () => {
    const r = rng(202);
    let dilatedCases = 0;
    for (let t = 0; t < CASES; t++) {
      const c = convCase(r, true, true);
      const inputs = { x: { data: uniform(sizeOf(c.x), r), shape: c.x }, dy: { data: uniform(sizeOf(c.info.outShape), r), shape: c.info.outShape } };
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, filterShape: c.filter };
      const ours = await runOn("wasm", "DepthwiseConv2dNativeBackpropFilter", inputs, attrs);
      const dilated = c.dilations[0] > 1 || c.dilations[1] > 1;
      if (dilated) dilatedCases++;
      const ref = dilated ? depthwiseBackpropFilterRef(geometry(c), inputs.x.data, inputs.dy.data)
        : (await runOn("cpu", "DepthwiseConv2dNativeBackpropFilter", inputs, attrs)).data;
      expect(ours.shape).toEqual(c.filter);
      const e = relErr(ours.data, ref);
      if (!(e <= TOL)) throw new Error(`case ${t}: ${JSON.stringify({ ...c, info: undefined })} error ${e}`);
    }
    expect(dilatedCases).toBeGreaterThan(20);
  });

  it(`DepthwiseConv2dNativeBackpropInput: ${CASES} cases (dilation vs a scalar reference)`, async () => {
    const r = rng(303);
    for (let t = 0; t < CASES; t++) {
      const c = convCase(r, true, true);
      const inputs = { dy: { data: uniform(sizeOf(c.info.outShape), r), shape: c.info.outShape }, filter: { data: uniform(sizeOf(c.filter), r), shape: c.filter } };
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, inputShape: c.x };
      const ours = await runOn("wasm", "DepthwiseConv2dNativeBackpropInput", inputs, attrs);
      const dilated = c.dilations[0] > 1 || c.dilations[1] > 1;
      const ref = dilated ? depthwiseBackpropInputRef(geometry(c), inputs.dy.data, inputs.filter.data)
        : (await runOn("cpu", "DepthwiseConv2dNativeBackpropInput", inputs, attrs)).data;
      expect(ours.shape).toEqual(c.x);
      const e = relErr(ours.data, ref);
      if (!(e <= TOL)) throw new Error(`case ${t}: ${JSON.stringify({ ...c, info: undefined })} error ${e}`);
    }
  });

  it(`BatchMatMul: ${CASES} cases (transposes, batch, broadcast batch)`, async () => {
    const r = rng(404);
    for (let t = 0; t < CASES; t++) {
      const m = pick(r, [1, 2, 3, 4, 5, 7, 8, 17, 33]), n = pick(r, [1, 2, 3, 4, 5, 7, 8, 17, 33]), k = pick(r, [1, 2, 3, 5, 8, 17, 33]);
      const ta = r() < 0.5, tb = r() < 0.5;
      // Batch layouts the cpu reference handles: none, equal, one side 1 / missing.
      const layout = pick(r, ["none", "equal", "aOne", "bOne", "bMissing", "rank4"]);
      const bsz = 1 + Math.floor(r() * 4);
      let outerA: number[] = [], outerB: number[] = [];
      if (layout === "equal") { outerA = [bsz]; outerB = [bsz]; }
      else if (layout === "aOne") { outerA = [1]; outerB = [bsz]; }
      else if (layout === "bOne") { outerA = [bsz]; outerB = [1]; }
      else if (layout === "bMissing") { outerA = [bsz]; outerB = []; }
      else if (layout === "rank4") { outerA = [2, bsz]; outerB = [2, bsz]; }
      const aShape = [...outerA, ...(ta ? [k, m] : [m, k])], bShape = [...outerB, ...(tb ? [n, k] : [k, n])];
      const inputs = { a: { data: uniform(sizeOf(aShape), r), shape: aShape }, b: { data: uniform(sizeOf(bShape), r), shape: bShape } };
      const attrs = { transposeA: ta, transposeB: tb };
      const ours = await runOn("wasm", "BatchMatMul", inputs, attrs);
      const ref = await runOn("cpu", "BatchMatMul", inputs, attrs);
      expect(ours.shape).toEqual(ref.shape);
      const e = relErr(ours.data, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: a [${aShape}] b [${bShape}] ta=${ta} tb=${tb} error ${e}`);
    }
  });

  it("BatchMatMul broadcasts batch dims both ways ([2,1] × [1,3] batches) like a per-batch loop", async () => {
    const r = rng(505);
    const a = { data: uniform(2 * 1 * 3 * 4, r), shape: [2, 1, 3, 4] }, b = { data: uniform(1 * 3 * 4 * 5, r), shape: [1, 3, 4, 5] };
    const ours = await runOn("wasm", "BatchMatMul", { a, b }, { transposeA: false, transposeB: false });
    expect(ours.shape).toEqual([2, 3, 3, 5]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      const ai = { data: a.data.subarray(i * 12, i * 12 + 12), shape: [3, 4] }, bj = { data: b.data.subarray(j * 20, j * 20 + 20), shape: [4, 5] };
      const ref = await runOn("cpu", "BatchMatMul", { a: ai, b: bj }, { transposeA: false, transposeB: false });
      expect(relErr(ours.data.subarray((i * 3 + j) * 15, (i * 3 + j + 1) * 15), ref.data)).toBeLessThan(TOL);
    }
  });

  it(`MaxPoolGrad: ${CASES} cases (pool 1–3, stride 1–3, same/valid, ties from relu)`, async () => {
    const r = rng(808);
    for (let t = 0; t < CASES; t++) {
      const b = 1 + Math.floor(r() * 3), h = 1 + Math.floor(r() * 8), w = 1 + Math.floor(r() * 8), c = pick(r, [1, 2, 3, 4, 5, 7, 8, 9]);
      const fh = 1 + Math.floor(r() * 3), fw = r() < 0.7 ? fh : 1 + Math.floor(r() * 3);
      const s = 1 + Math.floor(r() * 3);
      const pad = r() < 0.5 ? "same" : "valid";
      if (pad === "valid" && (fh > h || fw > w)) { t--; continue; }
      const info = tf.backend_util.computePool2DInfo([b, h, w, c], [fh, fw], [s, s], 1, pad);
      // Half the values clipped to 0 (as after relu) so windows have ties.
      const x = uniform(b * h * w * c, r).map((v) => (v < 0 ? 0 : v));
      const dy = uniform(sizeOf(info.outShape), r);
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const xt = tf.tensor4d(x, [b, h, w, c]);
        const yt = tf.maxPool(xt, [fh, fw], [s, s], pad);
        const dyt = tf.tensor(dy, yt.shape);
        const dx = tf.engine().runKernel("MaxPoolGrad", { dy: dyt, input: xt, output: yt }, { filterSize: [fh, fw], strides: [s, s], pad }) as tf.Tensor;
        const res = Array.from(dx.dataSync());
        tf.dispose([xt, yt, dyt, dx]);
        return res;
      };
      const ours = await run("wasm"), ref = await run("cpu");
      const e = relErr(ours, ref);
      if (!(e <= TOL)) throw new Error(`case ${t}: x [${b},${h},${w},${c}] pool ${fh}×${fw} stride ${s} ${pad}: error ${e}`);
    }
  });

  it(`MaxPool (ours, on 1 and 2 threads): ${CASES} cases equal cpu exactly (pool 1–3, stride 1–3, same/valid, ties, NaN, ±∞, SIMD tails)`, async () => {
    const r = rng(818);
    try {
      for (let t = 0; t < CASES; t++) {
        const b = 1 + Math.floor(r() * 3), h = 1 + Math.floor(r() * 9), w = 1 + Math.floor(r() * 9), c = pick(r, [1, 2, 3, 4, 5, 7, 8, 9, 17]);
        const fh = 1 + Math.floor(r() * 3), fw = r() < 0.7 ? fh : 1 + Math.floor(r() * 3);
        const s = 1 + Math.floor(r() * 3);
        const pad = r() < 0.5 ? "same" : "valid";
        if (pad === "valid" && (fh > h || fw > w)) { t--; continue; }
        // relu-like zeros (ties), and a few NaN / ±∞ taps: a NaN never wins on cpu, a window of NaNs gives −∞
        const x = uniform(b * h * w * c, r).map((v) => { const u = r(); return u < 0.03 ? NaN : u < 0.05 ? -Infinity : u < 0.06 ? Infinity : v < 0 ? 0 : v; });
        if (t % 20 === 0) x.fill(NaN, 0, Math.min(x.length, 2 * w * c));
        const attrs = { filterSize: [fh, fw], strides: [s, s], pad };
        const ref = await runOn("cpu", "MaxPool", { x: { data: x, shape: [b, h, w, c] } }, attrs);
        await setThreads(t % 2 === 0 ? 1 : 2);
        await tf.setBackend("wasm");
        const xt = tf.tensor4d(x, [b, h, w, c]);
        const y = tf.engine().makeTensorFromTensorInfo(maxPool({ inputs: { x: xt }, backend: tf.backend() as never, attrs: attrs as never }));
        const ours = y.dataSync() as Float32Array, shape = y.shape;
        tf.dispose([xt, y]);
        expect(shape).toEqual(ref.shape);
        for (let i = 0; i < ours.length; i++) {
          if (!Object.is(ours[i], ref.data[i])) throw new Error(`case ${t}: x [${b},${h},${w},${c}] pool ${fh}×${fw} stride ${s} ${pad}: y[${i}] = ${ours[i]}, cpu ${ref.data[i]}`);
        }
      }
    } finally {
      await setThreads(1);
    }
  });

  it("MaxPool routes to ours with two odecomp threads (tfjs-wasm has one in Node) and to stock with one; both equal cpu on the CNN's 2×2 pools", async () => {
    const r = rng(828);
    try {
      for (const threads of [1, 2]) {
        await setThreads(threads);
        for (const shape of [[64, 28, 28, 32], [3, 14, 14, 17]]) {
          const x = uniform(sizeOf(shape), r);
          const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" };
          await tf.setBackend("wasm");
          const xt = tf.tensor(x, shape);
          expect(oursPools(xt)).toBe(threads === 2);
          const viaRegistry = tf.engine().runKernel("MaxPool", { x: xt }, attrs as never) as tf.Tensor;
          const y = viaRegistry.dataSync() as Float32Array;
          tf.dispose([xt, viaRegistry]);
          const ref = await runOn("cpu", "MaxPool", { x: { data: x, shape } }, attrs);
          expect(Array.from(y)).toEqual(Array.from(ref.data));
        }
        expect(tf.getKernel("MaxPool", "wasm")?.kernelFunc).toBe(maxPoolRouted);
      }
    } finally {
      await setThreads(1);
    }
  });

  it(`Tile: ${CASES} cases (rank 0–5, float32 and int32, reps incl. 1)`, async () => {
    const r = rng(707);
    for (let t = 0; t < CASES; t++) {
      const rank = Math.floor(r() * 6);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(r() * 4));
      const reps = Array.from({ length: rank }, () => pick(r, [1, 1, 2, 3, 5]));
      const data = uniform(sizeOf(shape), r);
      const dtype = r() < 0.25 ? "int32" : "float32";
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const x = tf.tensor(dtype === "int32" ? Int32Array.from(data, (v) => Math.round(v * 100)) : data, shape, dtype);
        const y = tf.engine().runKernel("Tile", { x }, { reps }) as tf.Tensor;
        const res = { data: Array.from(y.dataSync()), shape: y.shape, dtype: y.dtype };
        tf.dispose([x, y]);
        return res;
      };
      const ours = await run("wasm"), ref = await run("cpu");
      expect(ours).toEqual(ref);
    }
  });

  it("BatchMatMul rejects mismatched inner sizes with both shapes in the message", async () => {
    await tf.setBackend("wasm");
    const a = tf.zeros([2, 3]), b = tf.zeros([4, 5]);
    expect(() => tf.engine().runKernel("BatchMatMul", { a, b }, { transposeA: false, transposeB: false })).toThrow(/inner shapes \(3\) and \(4\)/);
    a.dispose(); b.dispose();
  });

  // Pointwise convs (1×1, stride 1, unpadded) take a direct-GEMM path in all three conv kernels;
  // padded or strided 1×1 convs must still take the patch path. Channel counts as in Tucker-2 chains.
  it("pointwise 1×1 convs (direct GEMM path) and 1×1 padded/strided ones equal cpu", async () => {
    const r = rng(707);
    const cases: { x: number[]; co: number; strides: [number, number]; pad: ConvCase["pad"] }[] = [
      { x: [2, 5, 7, 17], co: 33, strides: [1, 1], pad: "same" },
      { x: [3, 4, 4, 30], co: 64, strides: [1, 1], pad: "valid" },
      { x: [1, 1, 1, 1], co: 1, strides: [1, 1], pad: "valid" },
      { x: [2, 3, 5, 9], co: 5, strides: [1, 1], pad: [[0, 0], [1, 0], [0, 1], [0, 0]] },
      { x: [2, 6, 6, 8], co: 3, strides: [2, 2], pad: "same" },
    ];
    for (const c of cases) {
      const filter = [1, 1, c.x[3], c.co];
      const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], filter as [number, number, number, number], c.strides, 1, c.pad as "same");
      const xin = { data: uniform(sizeOf(c.x), r), shape: c.x }, f = { data: uniform(sizeOf(filter), r), shape: filter };
      const dy = { data: uniform(sizeOf(info.outShape), r), shape: info.outShape };
      const bf = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: filter };
      const bi = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", inputShape: c.x };
      expect(relErr((await runOn("wasm", "Conv2DBackpropFilter", { x: xin, dy }, bf)).data, (await runOn("cpu", "Conv2DBackpropFilter", { x: xin, dy }, bf)).data)).toBeLessThan(TOL);
      expect(relErr((await runOn("wasm", "Conv2DBackpropInput", { dy, filter: f }, bi)).data, (await runOn("cpu", "Conv2DBackpropInput", { dy, filter: f }, bi)).data)).toBeLessThan(TOL);
      const fw = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dilations: [1, 1] };
      await tf.setBackend("wasm");
      const x = tf.tensor(xin.data, xin.shape), w = tf.tensor(f.data, f.shape);
      const yT = tf.engine().makeTensorFromTensorInfo(conv2DConfig.kernelFunc({ inputs: { x, filter: w }, backend: tf.backend(), attrs: fw as unknown as tf.NamedAttrMap }) as tf.TensorInfo);
      const yOurs = yT.dataSync() as Float32Array;
      tf.dispose([x, w, yT]);
      expect(relErr(yOurs, (await runOn("cpu", "Conv2D", { x: xin, filter: f }, fw)).data)).toBeLessThan(TOL);
    }
  });

  // Kept stock on wasm (no clear win over XNNPACK), but must still be right if a user registers it.
  it(`_FusedMatMul (ours, unregistered) equals cpu on ${CASES} cases (transposes, bias per column / scalar / none, relu / linear, tile edges)`, async () => {
    const r = rng(707);
    for (let t = 0; t < CASES; t++) {
      const m = pick(r, [1, 2, 3, 4, 5, 7, 8, 17, 33, 64]), n = pick(r, [1, 2, 3, 4, 5, 7, 8, 10, 17, 33, 129]), k = pick(r, [1, 2, 3, 5, 8, 17, 33, 80]);
      const ta = r() < 0.3, tb = r() < 0.3;
      const biasKind = pick(r, ["column", "scalar", "none"] as const), activation = r() < 0.6 ? "relu" : "linear";
      // tfjs-core's fused.matMul hands the kernel batches of one; a bare matrix is covered too
      const lead = r() < 0.7 ? [1] : [];
      const aShape = [...lead, ...(ta ? [k, m] : [m, k])], bShape = [...lead, ...(tb ? [n, k] : [k, n])];
      const inputs: Record<string, { data: Float32Array; shape: number[] }> = { a: { data: uniform(m * k, r), shape: aShape }, b: { data: uniform(k * n, r), shape: bShape } };
      if (biasKind !== "none") inputs.bias = { data: uniform(biasKind === "column" ? n : 1, r), shape: [biasKind === "column" ? n : 1] };
      const attrs = { transposeA: ta, transposeB: tb, activation };
      await tf.setBackend("wasm");
      const ts = Object.fromEntries(Object.entries(inputs).map(([key, v]) => [key, tf.tensor(v.data, v.shape)]));
      const y = tf.engine().makeTensorFromTensorInfo(fusedMatMul({ inputs: ts as never, backend: tf.backend() as never, attrs: attrs as never }));
      const ours = y.dataSync() as Float32Array, shape = y.shape;
      tf.dispose([y, ...Object.values(ts)]);
      const ref = await runOn("cpu", "_FusedMatMul", inputs, attrs);
      expect(shape).toEqual(ref.shape);
      const e = relErr(ours, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: a [${aShape}] b [${bShape}] ta=${ta} tb=${tb} ${biasKind} ${activation} error ${e}`);
    }
  });

  it("_FusedMatMul and untransposed BatchMatMul route Dense-sized products to ours on two threads, and they equal cpu (fc1 of the main CNN, and its SVD factor)", async () => {
    const r = rng(808);
    await setThreads(2);
    try {
      for (const [m, k, n] of [[64, 3136, 128], [64, 3136, 80], [64, 80, 128]]) {
        const a = uniform(m * k, r), b = uniform(k * n, r), bias = uniform(n, r);
        const out: Float32Array[] = [];
        for (const backend of ["wasm", "cpu"]) {
          await tf.setBackend(backend);
          // as tfjs-layers' Dense runs it: fused.matMul, which reshapes to batches of one
          const y = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a, [m, k]), b: tf.tensor2d(b, [k, n]), bias: tf.tensor1d(bias), activation: "relu" }));
          // and unfused, as a relu Dense layer runs while gradients are recorded (BatchMatMul NN)
          const z = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
          expect(y.shape).toEqual([m, n]);
          out.push(y.dataSync() as Float32Array, z.dataSync() as Float32Array);
          tf.dispose([y, z]);
        }
        const where = `[${m}, ${k}] · [${k}, ${n}] (${m * k * n >= ROUTE_MIN_MACS ? "ours" : "stock"})`;
        expect(relErr(out[0], out[2]), where).toBeLessThan(TOL);
        expect(relErr(out[1], out[3]), `${where}, BatchMatMul`).toBeLessThan(TOL);
      }
    } finally {
      await setThreads(1);
    }
  });

  it("Conv2D (ours, unregistered) equals cpu on 100 cases incl. dilation", async () => {
    const r = rng(606);
    for (let t = 0; t < 100; t++) {
      const c = convCase(r, false, true);
      const xin = { data: uniform(sizeOf(c.x), r), shape: c.x }, f = { data: uniform(sizeOf(c.filter), r), shape: c.filter };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dilations: c.dilations };
      await tf.setBackend("wasm");
      const x = tf.tensor(xin.data, xin.shape), w = tf.tensor(f.data, f.shape);
      const y = conv2DConfig.kernelFunc({ inputs: { x, filter: w }, backend: tf.backend(), attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
      const yT = tf.engine().makeTensorFromTensorInfo(y);
      const yOurs = yT.dataSync() as Float32Array;
      tf.dispose([x, w, yT]);
      const ref = await runOn("cpu", "Conv2D", { x: xin, filter: f }, attrs);
      expect(yT.shape).toEqual(ref.shape);
      expect(relErr(yOurs, ref.data)).toBeLessThan(TOL);
    }
  });
});
