// The training-engine kernels (issue 16) on 'wasm' + odecomp equal the tfjs cpu backend:
// FusedConv2D (ours, called directly, and routed through the registry with two odecomp threads),
// Sum over leading axes, zero-copy Identity; a decomposed-style chain's gradients and a short
// training run (numTensors stable, saved topology unchanged, reloads and predicts the same on cpu).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { setThreads, getThreads } from "../../src/index.ts";
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { fusedConv2DConfig } from "../../src/tfjs/kernels/FusedConv2D.ts";
import { forwardRouting, oursForwardFaster } from "../../src/tfjs/kernels/Conv2D.ts";
import { residentOptions } from "../../src/tfjs/resident.ts";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { rng } from "../helpers/random.ts";
import { relErr } from "../helpers/conv-reference.ts";

const CASES = 200;
const TOL = 1e-4;
const CHANNELS = [1, 3, 5, 17, 33, 2, 4, 8];

type Inputs = Record<string, { data: Float32Array; shape: number[] }>;
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function uniform(n: number, r: () => number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 2 * r() - 1;
  return d;
}

/** Run a kernel (by name through the registry, or a config's kernelFunc directly) on a backend. */
async function runOn(backend: string, kernel: string | tf.KernelConfig, inputs: Inputs, attrs: Record<string, unknown>): Promise<{ data: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
  let out: tf.Tensor;
  if (typeof kernel === "string") {
    out = tf.engine().runKernel(kernel, ts as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  } else {
    const info = kernel.kernelFunc({ inputs: ts as unknown as tf.NamedTensorInfoMap, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
    out = tf.engine().makeTensorFromTensorInfo(info);
  }
  const res = { data: out.dataSync() as Float32Array, shape: out.shape };
  out.dispose();
  Object.values(ts).forEach((t) => t.dispose());
  return res;
}

/** A random FusedConv2D call in the shapes the decomposed chains use (1×1 and k×k, odd channel counts). */
function fusedCase(r: () => number): { inputs: Inputs; attrs: Record<string, unknown> } {
  for (;;) {
    const b = 1 + Math.floor(r() * 3), h = 1 + Math.floor(r() * 9), w = 1 + Math.floor(r() * 9);
    const ci = pick(r, CHANNELS), co = pick(r, CHANNELS);
    const k = pick(r, [1, 1, 3, 3, 5]), kw = r() < 0.8 ? k : pick(r, [1, 3]);
    const s = pick(r, [1, 1, 2]);
    const pr = r();
    const pad = pr < 0.45 ? "same" : pr < 0.85 ? "valid" : [[0, 0], [Math.floor(r() * 2), Math.floor(r() * 2)], [Math.floor(r() * 2), Math.floor(r() * 2)], [0, 0]];
    const x = [b, h, w, ci], filter = [k, kw, ci, co];
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], [s, s], [1, 1], pad as "same");
    } catch { continue; }
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    const inputs: Inputs = { x: { data: uniform(sizeOf(x), r), shape: x }, filter: { data: uniform(sizeOf(filter), r), shape: filter } };
    const br = r();
    if (br < 0.6) inputs.bias = { data: uniform(co, r), shape: [co] };
    else if (br < 0.75) inputs.bias = { data: uniform(1, r), shape: [1] };
    const attrs = { strides: [s, s], pad, dataFormat: "NHWC", dilations: [1, 1], activation: r() < 0.5 ? "relu" : "linear" };
    return { inputs, attrs };
  }
}

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

afterAll(async () => {
  await setThreads(1);
});

describe("engine kernels equal the cpu backend (seeded fuzz)", () => {
  it(`FusedConv2D (ours, bias + linear/relu epilogue): ${CASES} cases`, async () => {
    const r = rng(1601);
    let relus = 0, biases = 0;
    for (let t = 0; t < CASES; t++) {
      const { inputs, attrs } = fusedCase(r);
      if (attrs.activation === "relu") relus++;
      if (inputs.bias) biases++;
      const ours = await runOn("wasm", fusedConv2DConfig, inputs, attrs);
      const ref = await runOn("cpu", "FusedConv2D", inputs, attrs);
      expect(ours.shape).toEqual(ref.shape);
      const e = relErr(ours.data, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: x [${inputs.x.shape}] filter [${inputs.filter.shape}] ${JSON.stringify(attrs)} bias ${inputs.bias?.shape ?? "none"}: error ${e}`);
    }
    expect(relus).toBeGreaterThan(50);
    expect(biases).toBeGreaterThan(100);
  });

  it("FusedConv2D (ours) rejects a PReLU activation with a message naming it; routed, it goes to stock", async () => {
    const inputs: Inputs = { x: { data: uniform(2 * 4 * 4 * 3, rng(5)), shape: [2, 4, 4, 3] }, filter: { data: uniform(27 * 2, rng(6)), shape: [3, 3, 3, 2] },
      bias: { data: new Float32Array([0.5, -0.5]), shape: [2] }, preluActivationWeights: { data: new Float32Array([0.1, 0.2]), shape: [2] } };
    const attrs = { strides: [1, 1], pad: "same", dataFormat: "NHWC", dilations: [1, 1], activation: "prelu" };
    await expect(runOn("wasm", fusedConv2DConfig, inputs, attrs)).rejects.toThrow(/FusedConv2D.*'prelu'.*PReLU/);
    await setThreads(2);
    const routed = await runOn("wasm", "FusedConv2D", inputs, attrs);
    const ref = await runOn("cpu", "FusedConv2D", inputs, attrs);
    expect(relErr(routed.data, ref.data)).toBeLessThan(TOL);
    await setThreads(1);
  });

  it("the forward conv goes to ours exactly when odecomp has more threads than tfjs-wasm, except large 1×1 convs without resident outputs (unless told stock, or session 7's rule)", async () => {
    expect(getThreadsCount()).toBe(1); // Node: tfjs-wasm's single-threaded binary (tfjs#3830)
    await setThreads(1);
    expect(oursForwardFaster()).toBe(false);
    await setThreads(2);
    expect(getThreads()).toBe(2);
    expect(oursForwardFaster()).toBe(true);
    // with resident outputs (the default), every shape
    expect(oursForwardFaster([64, 28, 28, 32], [1, 1, 32, 16], 1)).toBe(true);
    // without them, not a 1×1 stride-1 conv over ≥ POINTWISE_STOCK_POSITIONS positions (stock measured faster)
    residentOptions.enabled = false;
    try {
    expect(oursForwardFaster([64, 28, 28, 32], [1, 1, 32, 16], 1)).toBe(false);
    expect(oursForwardFaster([42, 28, 28, 32], [1, 1, 32, 16], [1, 1])).toBe(false); // 32928 positions
    expect(oursForwardFaster([41, 28, 28, 32], [1, 1, 32, 16], 1)).toBe(true); // 32144
    expect(oursForwardFaster([64, 14, 14, 32], [1, 1, 32, 64], 1)).toBe(true);
    expect(oursForwardFaster([64, 28, 28, 16], [3, 3, 16, 16], 1)).toBe(true);
    expect(oursForwardFaster([64, 28, 28, 32], [1, 1, 32, 16], 2)).toBe(true);
    forwardRouting.prefer = "threads";
    try { expect(oursForwardFaster([64, 28, 28, 32], [1, 1, 32, 16], 1)).toBe(true); } finally { forwardRouting.prefer = "auto"; }
    } finally { residentOptions.enabled = true; }
    forwardRouting.prefer = "stock";
    try { expect(oursForwardFaster()).toBe(false); } finally { forwardRouting.prefer = "auto"; }
    await setThreads(1);
    expect(oursForwardFaster([41, 28, 28, 32], [1, 1, 32, 16], 1)).toBe(false);
  });

  it("Conv2D and FusedConv2D routed through the registry equal cpu with 1 and 2 odecomp threads", async () => {
    const r = rng(1602);
    for (const threads of [1, 2]) {
      await setThreads(threads);
      for (let t = 0; t < 30; t++) {
        const { inputs, attrs } = fusedCase(r);
        const what = `${threads} thread(s), case ${t}: x [${inputs.x.shape}] filter [${inputs.filter.shape}] ${JSON.stringify(attrs)} bias ${inputs.bias?.shape ?? "none"}`;
        const ref = await runOn("cpu", "FusedConv2D", inputs, attrs);
        expect(relErr((await runOn("wasm", "FusedConv2D", inputs, attrs)).data, ref.data), `FusedConv2D ${what}`).toBeLessThan(TOL);
        const plain = { x: inputs.x, filter: inputs.filter }, pattrs = { ...attrs, activation: undefined };
        const pref = await runOn("cpu", "Conv2D", plain, pattrs);
        expect(relErr((await runOn("wasm", "Conv2D", plain, pattrs)).data, pref.data), `Conv2D ${what}`).toBeLessThan(TOL);
      }
    }
    await setThreads(1);
  });

  it(`Conv2DBackpropFilter / Conv2DBackpropInput at the chains' channel counts (1, 3, 5, 17, 33…): ${CASES} cases equal cpu, bitwise the same on 1 and 2 threads`, async () => {
    const r = rng(1631);
    let split = 0;
    for (let t = 0; t < CASES; t++) {
      const { inputs, attrs } = fusedCase(r);
      // every 10th case large enough (at stride 1) that dW is summed in chunks of positions and split over two threads
      if (t % 10 === 0) {
        const [, , ci] = inputs.filter.shape;
        const x = [4, 24, 24, ci];
        inputs.x = { data: uniform(sizeOf(x), r), shape: x };
        split++;
      }
      const x = inputs.x.shape, f = inputs.filter.shape;
      const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], f as [number, number, number, number],
        attrs.strides as [number, number], [1, 1], attrs.pad as "same");
      const dy = { data: uniform(sizeOf(info.outShape), r), shape: info.outShape };
      const what = `case ${t}: x [${x}] filter [${f}] ${JSON.stringify(attrs)}`;
      const fAttrs = { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", filterShape: f };
      const iAttrs = { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", inputShape: x };
      const refW = await runOn("cpu", "Conv2DBackpropFilter", { x: inputs.x, dy }, fAttrs);
      const refX = await runOn("cpu", "Conv2DBackpropInput", { dy, filter: inputs.filter }, iAttrs);
      const got: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        await setThreads(threads);
        const w = await runOn("wasm", "Conv2DBackpropFilter", { x: inputs.x, dy }, fAttrs);
        const xx = await runOn("wasm", "Conv2DBackpropInput", { dy, filter: inputs.filter }, iAttrs);
        expect(relErr(w.data, refW.data), `dW ${threads} thread(s) ${what}`).toBeLessThan(TOL);
        expect(relErr(xx.data, refX.data), `dX ${threads} thread(s) ${what}`).toBeLessThan(TOL);
        got.push([w.data, xx.data]);
      }
      expect(Buffer.from(got[1][0].buffer).equals(Buffer.from(got[0][0].buffer)), `dW 1 vs 2 threads bitwise, ${what}`).toBe(true);
      expect(Buffer.from(got[1][1].buffer).equals(Buffer.from(got[0][1].buffer)), `dX 1 vs 2 threads bitwise, ${what}`).toBe(true);
    }
    expect(split).toBe(CASES / 10);
    await setThreads(1);
  });

  it("MaxPoolGrad with windows that tile the input (the CNN's 2×2 / stride 2; one write per position) equals cpu, ties and leftovers included", async () => {
    const r = rng(1617);
    let cases = 0;
    for (const [h, w, fh, fw] of [[28, 28, 2, 2], [14, 14, 2, 2], [7, 7, 2, 2], [9, 8, 3, 2], [6, 9, 2, 3], [5, 5, 1, 1], [4, 4, 4, 4]]) {
      for (const c of [1, 3, 4, 5, 17, 32]) {
        for (const pad of ["valid", "same"] as const) {
          const b = 2;
          const info = tf.backend_util.computePool2DInfo([b, h, w, c], [fh, fw], [fh, fw], 1, pad);
          // half the values clipped to 0 (as after relu) so windows have ties
          const x = uniform(b * h * w * c, r).map((v) => (v < 0 ? 0 : v));
          const dy = uniform(sizeOf(info.outShape), r);
          const run = async (backend: string) => {
            await tf.setBackend(backend);
            const xt = tf.tensor4d(x, [b, h, w, c]);
            const yt = tf.maxPool(xt, [fh, fw], [fh, fw], pad);
            const dyt = tf.tensor(dy, yt.shape);
            const dx = tf.engine().runKernel("MaxPoolGrad", { dy: dyt, input: xt, output: yt }, { filterSize: [fh, fw], strides: [fh, fw], pad }) as tf.Tensor;
            const res = dx.dataSync() as Float32Array;
            tf.dispose([xt, yt, dyt, dx]);
            return res;
          };
          const ours = await run("wasm"), ref = await run("cpu");
          expect(relErr(ours, ref), `x [${b},${h},${w},${c}] pool ${fh}×${fw} stride ${fh}×${fw} ${pad}`).toBe(0);
          cases++;
        }
      }
    }
    expect(cases).toBe(7 * 6 * 2);
  });

  it("Conv2D with a non-square filter and stride 2 (wrong in stock tfjs-wasm) equals cpu on one thread too", async () => {
    await setThreads(1);
    const r = rng(1604);
    for (const [fh, fw, s] of [[1, 3, 2], [3, 1, 2], [1, 3, 1], [3, 3, 2]]) {
      const inputs: Inputs = { x: { data: uniform(2 * 6 * 6 * 3, r), shape: [2, 6, 6, 3] }, filter: { data: uniform(fh * fw * 3 * 4, r), shape: [fh, fw, 3, 4] } };
      const attrs = { strides: [s, s], pad: "same", dataFormat: "NHWC", dilations: [1, 1] };
      const ref = await runOn("cpu", "Conv2D", inputs, attrs);
      expect(relErr((await runOn("wasm", "Conv2D", inputs, attrs)).data, ref.data), `${fh}×${fw} stride ${s}`).toBeLessThan(TOL);
    }
  });

  it(`Sum: ${CASES} cases (leading axes — ours — and every other axis set — stock), keepDims`, async () => {
    const r = rng(1603);
    let leading = 0;
    for (let t = 0; t < CASES; t++) {
      const rank = 1 + Math.floor(r() * 4);
      const shape = Array.from({ length: rank }, () => pick(r, [1, 2, 3, 5, 17, 33, 4]));
      const axes = [...Array(rank).keys()].filter(() => r() < 0.5);
      if (r() < 0.4 && rank > 1) { axes.length = 0; for (let i = 0; i < 1 + Math.floor(r() * (rank - 1)); i++) axes.push(i); }
      const axis = r() < 0.2 ? axes.map((a) => a - rank) : axes;
      if (axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i)) leading++;
      const keepDims = r() < 0.3;
      const inputs: Inputs = { x: { data: uniform(sizeOf(shape), r), shape } };
      const attrs = { axis, keepDims };
      const ours = await runOn("wasm", "Sum", inputs, attrs);
      const ref = await runOn("cpu", "Sum", inputs, attrs);
      expect(ours.shape, `case ${t}: [${shape}] axis ${axis}`).toEqual(ref.shape);
      const e = relErr(ours.data, ref.data);
      if (!(e <= TOL)) throw new Error(`case ${t}: Sum [${shape}] axis [${axis}] keepDims ${keepDims}: error ${e}`);
    }
    expect(leading).toBeGreaterThan(60);
  });

  it("Sum over leading axes of a bias-gradient-sized tensor, of huge / tiny / cancelling values, and of int32 (stock), equals cpu", async () => {
    const shape = [8, 14, 14, 33];
    const inputs: Inputs = { x: { data: uniform(sizeOf(shape), rng(7)), shape } };
    const ours = await runOn("wasm", "Sum", inputs, { axis: [0, 1, 2], keepDims: false });
    const ref = await runOn("cpu", "Sum", inputs, { axis: [0, 1, 2], keepDims: false });
    expect(ours.shape).toEqual([33]);
    expect(relErr(ours.data, ref.data)).toBeLessThan(1e-5);
    // huge, tiny (subnormal) and cancelling columns, 5 columns (a SIMD group and a tail)
    const edge = new Float32Array([1e30, 1e-40, 1, 3e38, 0, 1e30, 1e-40, -1, 3e38, 0, -2e30, 1e-40, 1e-7, -3e38, 0]);
    const eo = await runOn("wasm", "Sum", { x: { data: edge, shape: [3, 5] } }, { axis: 0, keepDims: true });
    const er = await runOn("cpu", "Sum", { x: { data: edge, shape: [3, 5] } }, { axis: 0, keepDims: true });
    expect(eo.shape).toEqual([1, 5]);
    expect(Array.from(eo.data)).toEqual(Array.from(er.data));
    await tf.setBackend("wasm");
    const xi = tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], "int32");
    const s = tf.sum(xi, 0);
    expect(s.dtype).toBe("int32");
    expect(Array.from(s.dataSync())).toEqual([9, 12]);
    tf.dispose([xi, s]);
  });

  it("Identity shares the data (no copy), survives the input's disposal, and leaks nothing", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.engine().runKernel("Identity", { x }) as tf.Tensor;
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    const z = tf.clone(y);
    const v = tf.variable(z);
    const zeros = tf.zeros([2, 2]);
    v.assign(zeros);
    zeros.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3, 4]); // the variable's assign does not write into shared data
    tf.dispose([y, z, v]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A Tucker-2-style chain as `compress` writes it: 1×1 (linear, no bias) → k×k (linear, no bias) → 1×1 (relu, bias), then a 1×3 stride-2 conv and Dense. */
function chainModel(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [9, 9, 3], filters: 17, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1), name: "conv1" }),
    tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, kernelInitializer: init(2), name: "conv2__odc_tucker2_0" }),
    tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: "same", useBias: false, kernelInitializer: init(3), name: "conv2__odc_tucker2_1" }),
    tfl.layers.conv2d({ filters: 33, kernelSize: 1, activation: "relu", kernelInitializer: init(4), name: "conv2__odc_tucker2_2" }),
    // linear with bias: FusedConv2D; a non-square filter with stride 2, which stock tfjs-wasm gets wrong, so ours runs
    tfl.layers.conv2d({ filters: 4, kernelSize: [1, 3], strides: 2, padding: "same", kernelInitializer: init(5), name: "conv3" }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 3, activation: "softmax", kernelInitializer: init(6) }),
  ] });
}

describe("training with the engine kernels (two odecomp threads)", () => {
  it("a decomposed chain's gradients equal the cpu backend's", async () => {
    await setThreads(2);
    expect(getThreads()).toBe(2);
    const model = chainModel(40);
    const x = uniform(6 * 9 * 9 * 3, rng(8)), y = new Float32Array(6 * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const xs = tf.tensor4d(x, [6, 9, 9, 3]), ys = tf.tensor2d(y, [6, 3]);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
      const out: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
      const loss = value.dataSync()[0];
      tf.dispose([value, xs, ys, ...Object.values(grads)]);
      return { loss, grads: out };
    };
    const onWasm = await grads("wasm");
    const onCpu = await grads("cpu");
    await tf.setBackend("wasm");
    const names = Object.keys(onCpu.grads);
    expect(names.length).toBe(10);
    expect(Math.abs(onWasm.loss - onCpu.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(onCpu.loss)));
    for (const name of names) {
      expect(relErr(onWasm.grads[name], onCpu.grads[name]), `gradient of ${name}`).toBeLessThan(1e-4);
      expect(onCpu.grads[name].some((v) => v !== 0), `gradient of ${name} is not all zero`).toBe(true);
    }
    model.dispose();
    await setThreads(1);
  });

  it("Adam steps keep numTensors stable; the saved topology is unchanged and reloads on cpu with the same predictions", async () => {
    await setThreads(2);
    await tf.setBackend("wasm");
    const model = chainModel(50);
    const topology = (m: tfl.LayersModel) => JSON.stringify(m.toJSON(null, false));
    const before = topology(model);
    const opt = tf.train.adam(1e-2);
    const xs = tf.tensor4d(uniform(8 * 9 * 9 * 3, rng(9)), [8, 9, 9, 3]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), 3);
    const stepOnce = () => { const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true); l!.dispose(); };
    stepOnce(); // creates the optimizer state
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) stepOnce();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(topology(model)).toBe(before);
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
    const pWasm = (model.predict(xs) as tf.Tensor).dataSync() as Float32Array;
    await tf.setBackend("cpu");
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    expect(JSON.stringify(loaded.toJSON(null, false))).toBe(before);
    const xc = tf.tensor4d(uniform(8 * 9 * 9 * 3, rng(9)), [8, 9, 9, 3]);
    const pCpu = (loaded.predict(xc) as tf.Tensor).dataSync() as Float32Array;
    expect(relErr(pWasm, pCpu)).toBeLessThan(1e-4);
    loaded.dispose(); xc.dispose();
    await tf.setBackend("wasm");
    tf.dispose([xs, ys]);
    model.dispose();
    opt.dispose();
    await setThreads(1);
  });
});
