// tfjs area: odecomp's kernels registered into tfjs's wasm backend, side by side
// with the stock wasm kernels (where they exist) and the cpu backend, one thread.
// Order matters (the kernel registry is global): every "stock wasm" figure is
// measured before registerWasmKernels(), then ours, then cpu.
// `--quick` shrinks the iteration counts (for development on a noisy machine).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { registerWasmKernels } from "../src/tfjs/index.ts";
import { conv2DConfig } from "../src/tfjs/kernels/Conv2D.ts";
import { copyIn, copyOut, type WasmBackendLike } from "../src/tfjs/bridge.ts";
import { withScratch } from "../src/core/heap.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

type Inputs = Record<string, { shape: number[]; data: Float32Array }>;
type Attrs = Record<string, unknown>;

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
function rand(shape: number[]): { shape: number[]; data: Float32Array } {
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = Math.random() - 0.5;
  return { shape, data: d };
}

let QUICK = false;
const opts = () => (QUICK ? { time: 50, iterations: 2, warmupIterations: 1 } : { time: 300, iterations: 4, warmupIterations: 1 });

/** Median ms of one kernel call on the current backend (tensors made once). */
async function timeKernel(kernel: string, inputs: Inputs, attrs: Attrs, direct?: tf.KernelConfig, once = false): Promise<number> {
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
  const call = () => {
    if (direct) {
      const info = direct.kernelFunc({ inputs: ts as unknown as tf.NamedTensorInfoMap, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
      tf.engine().makeTensorFromTensorInfo(info).dispose();
    } else {
      const out = tf.engine().runKernel(kernel, ts as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }
  };
  let ms: number;
  if (once) {
    const t0 = performance.now();
    call();
    ms = performance.now() - t0;
  } else {
    ms = (await medians({ k: call }, opts())).k;
  }
  Object.values(ts).forEach((x) => x.dispose());
  return ms;
}

// ---------- shapes ----------
interface ConvShape { x: number[]; f: number[]; y: number[]; flop: number }
function convShape(b: number, h: number, ci: number, co: number, k: number, depthwise = false): ConvShape {
  const y = [b, h, h, depthwise ? ci : co];
  const flop = depthwise ? 2 * b * h * h * ci * k * k : 2 * b * h * h * co * k * k * ci;
  return { x: [b, h, h, ci], f: depthwise ? [k, k, ci, 1] : [k, k, ci, co], y, flop };
}

/** Exact multiply-adds of a 'same' k×k stride-1 conv (taps over the padding skipped), per in·out channel pair. */
function validTaps(b: number, h: number, k: number): number {
  const p = (k - 1) >> 1;
  let t = 0;
  for (let o = 0; o < h; o++) for (let kk = 0; kk < k; kk++) if (o + kk - p >= 0 && o + kk - p < h) t++;
  return b * t * t;
}

// ---------- models ----------
function cnn(): tfl.LayersModel {
  return tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: "same", activation: "relu" }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 10, activation: "softmax" }),
  ] });
}
// fwd + dW + dX (dX skipped for the first layer), multiply-adds counted as 2.
const CNN_STEP_FLOP = 64 * (2 * 28 * 28 * 32 * 9 * 1 * 2 + 2 * 14 * 14 * 64 * 9 * 32 * 3 + 2 * 7 * 7 * 64 * 10 * 3);

function resnet(): tfl.LayersModel {
  const input = tfl.input({ shape: [28, 28, 1] });
  const convBn = (x: tfl.SymbolicTensor, filters: number, stride: number, relu: boolean) => {
    let y = tfl.layers.conv2d({ filters, kernelSize: 3, strides: stride, padding: "same", useBias: false }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
    return relu ? tfl.layers.activation({ activation: "relu" }).apply(y) as tfl.SymbolicTensor : y;
  };
  const block = (x: tfl.SymbolicTensor, filters: number, stride: number) => {
    const y = convBn(convBn(x, filters, stride, true), filters, 1, false);
    const skip = stride === 1 ? x : tfl.layers.conv2d({ filters, kernelSize: 1, strides: stride, useBias: false }).apply(x) as tfl.SymbolicTensor;
    return tfl.layers.activation({ activation: "relu" }).apply(tfl.layers.add().apply([y, skip])) as tfl.SymbolicTensor;
  };
  let x = convBn(input, 16, 1, true);
  x = block(x, 16, 1);
  x = block(x, 32, 2);
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, activation: "softmax" }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}
const RESNET_STEP_FLOP = 64 * (
  2 * 28 * 28 * 16 * 9 * 1 * 2 + // stem (fwd + dW)
  2 * 2 * 28 * 28 * 16 * 9 * 16 * 3 + // block 1: two 3×3 16→16
  2 * 14 * 14 * 32 * 9 * 16 * 3 + 2 * 14 * 14 * 32 * 9 * 32 * 3 + 2 * 14 * 14 * 32 * 16 * 3 + // block 2 + projection
  2 * 14 * 14 * 32 * 9 * 3 + 2 * 32 * 10 * 3);

function mlp(): tfl.LayersModel {
  return tfl.sequential({ layers: [
    tfl.layers.dense({ inputShape: [784], units: 1024, activation: "relu" }),
    tfl.layers.dense({ units: 1024, activation: "relu" }),
    tfl.layers.dense({ units: 10, activation: "softmax" }),
  ] });
}
const MLP_SAMPLE_FLOP = 2 * (784 * 1024 * 2 + 1024 * 1024 * 3 + 1024 * 10 * 3); // fwd + dW (+ dX for layers 2, 3)
const MLP_BATCH = 64;

/** Median ms of one trainOnBatch (forward + backward + SGD update) on the current backend. */
async function timeStep(make: () => tfl.LayersModel, inShape: number[], iterations: number, warmUp = true): Promise<number> {
  const model = make();
  model.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy" });
  const x = tf.randomNormal(inShape), y = tf.oneHot(tf.randomUniform([inShape[0]], 0, 10, "int32") as tf.Tensor1D, 10);
  if (warmUp) await model.trainOnBatch(x, y); // creates optimizer state
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  model.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** ms of one model.fit epoch over `samples` random samples (batch MLP_BATCH), after a warm-up batch. */
async function timeMlpEpoch(samples: number): Promise<number> {
  const model = mlp();
  model.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy" });
  const x = tf.randomUniform([samples, 784]), y = tf.oneHot(tf.randomUniform([samples], 0, 10, "int32") as tf.Tensor1D, 10);
  const wx = tf.slice(x, 0, MLP_BATCH), wy = tf.slice(y, 0, MLP_BATCH);
  await model.trainOnBatch(wx, wy);
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: MLP_BATCH, shuffle: false, verbose: 0 });
  const ms = performance.now() - t0;
  tf.dispose([x, y, wx, wy]);
  model.dispose();
  return ms;
}

const T0 = performance.now();
const log = (what: string) => console.error(`tfjs bench [${((performance.now() - T0) / 1000).toFixed(0)} s] ${what}`);

const gflops = (flop: number, ms: number | null) => (ms && flop ? flop / 1e6 / ms : NaN); // NaN (printed —) for data-movement kernels

export async function run(args: string[] = []): Promise<void> {
  QUICK = args.includes("--quick");
  await tf.setBackend("wasm");
  const backend = tf.backend() as unknown as WasmBackendLike;

  // Kernel cases. tfjs-cpu's conv gradient kernels are per-element loops (Conv2DBackpropFilter runs at
  // ≈ 0.002 GFLOP/s), so cpu conv rows run once on x[1,8,8,64] and are scaled by the exact ratio of
  // multiply-adds (taps over the padding excluded) to the 32×32×32 case.
  const big = convShape(32, 32, 64, 64, 3);
  const small = convShape(1, 8, 64, 64, 3);
  const dw = convShape(32, 32, 64, 64, 3, true);
  const dwSmall = convShape(1, 8, 64, 64, 3, true);
  const convScale = validTaps(32, 32, 3) / validTaps(1, 8, 3);
  const convAttrs = { strides: 1, pad: "same", dataFormat: "NHWC", dilations: 1 };
  const dwAttrs = { strides: 1, pad: "same", dilations: 1 };
  interface KCase { name: string; kernel: string; flop: number; inputs: (cpu: boolean) => Inputs; attrs: (cpu: boolean) => Attrs; stock: boolean; direct?: tf.KernelConfig; cpuScale: number }
  const kcases: KCase[] = [
    { name: "Conv2DBackpropFilter x[32,32,32,64] f 3×3×64×64", kernel: "Conv2DBackpropFilter", flop: big.flop, stock: false, cpuScale: convScale,
      inputs: (c) => ({ x: rand((c ? small : big).x), dy: rand((c ? small : big).y) }), attrs: () => ({ ...convAttrs, filterShape: big.f }) },
    { name: "Conv2DBackpropInput, same shape", kernel: "Conv2DBackpropInput", flop: big.flop, stock: true, cpuScale: convScale,
      inputs: (c) => ({ dy: rand((c ? small : big).y), filter: rand(big.f) }), attrs: (c) => ({ ...convAttrs, inputShape: (c ? small : big).x }) },
    { name: "Conv2D forward, same shape (ours unregistered)", kernel: "Conv2D", flop: big.flop, stock: true, direct: conv2DConfig, cpuScale: convScale,
      inputs: (c) => ({ x: rand((c ? small : big).x), filter: rand(big.f) }), attrs: () => convAttrs },
    { name: "DepthwiseBackpropFilter x[32,32,32,64] 3×3", kernel: "DepthwiseConv2dNativeBackpropFilter", flop: dw.flop, stock: false, cpuScale: convScale,
      inputs: (c) => ({ x: rand((c ? dwSmall : dw).x), dy: rand((c ? dwSmall : dw).y) }), attrs: () => ({ ...dwAttrs, filterShape: dw.f }) },
    { name: "DepthwiseBackpropInput x[32,32,32,64] 3×3", kernel: "DepthwiseConv2dNativeBackpropInput", flop: dw.flop, stock: false, cpuScale: convScale,
      inputs: (c) => ({ dy: rand((c ? dwSmall : dw).y), filter: rand(dw.f) }), attrs: (c) => ({ ...dwAttrs, inputShape: (c ? dwSmall : dw).x }) },
  ];
  kcases.push({ name: "MaxPoolGrad x[64,28,28,32] pool 2×2 stride 2", kernel: "MaxPoolGrad", flop: 0, stock: true, cpuScale: 1,
    inputs: () => ({ dy: rand([64, 14, 14, 32]), input: rand([64, 28, 28, 32]), output: rand([64, 14, 14, 32]) }), attrs: () => ({ filterSize: 2, strides: 2, pad: "valid" }) });
  kcases.push({ name: "Tile [1,1,1,32] → [64,28,28,32] (BN gradient)", kernel: "Tile", flop: 0, stock: true, cpuScale: 1,
    inputs: () => ({ x: rand([1, 1, 1, 32]) }), attrs: () => ({ reps: [64, 28, 28, 1] }) });
  for (const [ta, tb, m, n, k] of [[false, false, 512, 512, 512], [true, false, 512, 512, 512], [false, true, 512, 512, 512],
    [true, false, 784, 1024, 64], [false, true, 64, 784, 1024], [false, false, 64, 1024, 784]] as [boolean, boolean, number, number, number][]) {
    const label = `${ta ? "T" : "N"}${tb ? "T" : "N"}`;
    kcases.push({ name: `BatchMatMul ${label} ${m}×${n}×${k}${label === "NN" ? " (ours hands it to stock)" : ""}`, kernel: "BatchMatMul", flop: 2 * m * n * k, stock: true, cpuScale: 1,
      inputs: () => ({ a: rand(ta ? [k, m] : [m, k]), b: rand(tb ? [n, k] : [k, n]) }), attrs: () => ({ transposeA: ta, transposeB: tb }) });
  }
  kcases.push({ name: "BatchMatMul NN batch 16 × 128×128×128", kernel: "BatchMatMul", flop: 16 * 2 * 128 ** 3, stock: true, cpuScale: 1,
    inputs: () => ({ a: rand([16, 128, 128]), b: rand([16, 128, 128]) }), attrs: () => ({ transposeA: false, transposeB: false }) });

  // 1. stock wasm (before registration)
  const stock = new Map<string, number>();
  for (const c of kcases) if (c.stock) stock.set(c.name, await timeKernel(c.kernel, c.inputs(false), c.attrs(false)));
  const fused = await timeKernel("_FusedMatMul", { a: rand([1, 64, 784]), b: rand([1, 784, 1024]), bias: rand([1024]) }, { transposeA: false, transposeB: false, activation: "relu" });
  log("stock kernels");
  // Stock wasm trains the MLP at ≈ 0.5 GFLOP/s: measured on fewer samples and scaled to 10k.
  const MLP_STOCK_SAMPLES = QUICK ? 128 : 640;
  const mlpStock = (await timeMlpEpoch(MLP_STOCK_SAMPLES)) * (10000 / MLP_STOCK_SAMPLES);
  log("stock MLP epoch");

  // 2. wasm + odecomp
  await registerWasmKernels();
  const ours = new Map<string, number>();
  for (const c of kcases) ours.set(c.name, await timeKernel(c.kernel, c.inputs(false), c.attrs(false), c.direct));
  // Data movement alone (copy in x and dy, copy out dW) for the Conv2DBackpropFilter case.
  const xs = tf.tensor(rand(big.x).data, big.x), dys = tf.tensor(rand(big.y).data, big.y);
  const copyMs = (await medians({ c: () => withScratch((s) => {
    copyIn(s, backend, xs); copyIn(s, backend, dys);
    const o = copyOut(s, backend, s.f32(sizeOf(big.f)), big.f);
    tf.engine().makeTensorFromTensorInfo(o).dispose();
  }) }, opts())).c;
  tf.dispose([xs, dys]);
  log("ours kernels");
  const stepIters = QUICK ? 2 : 5;
  const cnnOurs = await timeStep(cnn, [64, 28, 28, 1], stepIters);
  const resOurs = await timeStep(resnet, [64, 28, 28, 1], stepIters);
  const MLP_OURS_SAMPLES = QUICK ? 2048 : 10000;
  const mlpOurs = (await timeMlpEpoch(MLP_OURS_SAMPLES)) * (10000 / MLP_OURS_SAMPLES);
  log("ours CNN, ResNet, MLP");

  // 3. cpu backend (slow: single runs, small batches, scaled)
  await tf.setBackend("cpu");
  const cpu = new Map<string, number>();
  for (const c of kcases) cpu.set(c.name, (await timeKernel(c.kernel, c.inputs(true), c.attrs(true), undefined, c.cpuScale > 1)) * c.cpuScale);
  log("cpu kernels");
  // cpu train steps on batch CPU_STEP_BATCH, scaled to 64 (conv work is linear in the batch).
  const CPU_STEP_BATCH = 2;
  const cnnCpu = (await timeStep(cnn, [CPU_STEP_BATCH, 28, 28, 1], 1, false)) * (64 / CPU_STEP_BATCH);
  const resCpu = (await timeStep(resnet, [CPU_STEP_BATCH, 28, 28, 1], 1, false)) * (64 / CPU_STEP_BATCH);
  log("cpu CNN, ResNet");
  const MLP_CPU_SAMPLES = QUICK ? 128 : 512;
  const mlpCpu = (await timeMlpEpoch(MLP_CPU_SAMPLES)) * (10000 / MLP_CPU_SAMPLES);
  log("cpu MLP");
  await tf.setBackend("wasm");

  const rows: Row[] = [];
  for (const c of kcases) {
    const o = ours.get(c.name)!, s = stock.get(c.name) ?? null, p = cpu.get(c.name)!;
    rows.push({ case: c.name, ours: c.direct ? "odecomp (unregistered)" : "wasm+odecomp", peer: s === null ? "cpu" : "stock wasm",
      oursMs: o, peerMs: s ?? p, speedup: (s ?? p) / o,
      extra: { "ours GFLOP/s": gflops(c.flop, o), "stock GFLOP/s": gflops(c.flop, s), "cpu ms": p, "cpu GFLOP/s": gflops(c.flop, p), "× cpu": p / o } });
  }
  rows.push({ case: "_FusedMatMul relu 64×1024×784 (Dense forward; stock kept)", ours: "—", peer: "stock wasm", oursMs: NaN, peerMs: fused, speedup: null,
    extra: { "stock GFLOP/s": gflops(2 * 64 * 1024 * 784, fused) } });
  const cbf = ours.get(kcases[0].name)!;
  rows.push({ case: `copies in Conv2DBackpropFilter (${((sizeOf(big.x) + sizeOf(big.y) + sizeOf(big.f)) * 4 / 2 ** 20).toFixed(1)} MiB/call)`, ours: "copy only", peer: "whole kernel",
    oursMs: copyMs, peerMs: cbf, speedup: null, extra: { "share %": (100 * copyMs) / cbf } });
  rows.push({ case: "CNN 28×28×1 (32/64 conv + Dense) train step, batch 64", ours: "wasm+odecomp", peer: "cpu", oursMs: cnnOurs, peerMs: cnnCpu, speedup: cnnCpu / cnnOurs,
    extra: { "ours GFLOP/s": gflops(CNN_STEP_FLOP, cnnOurs), "cpu GFLOP/s": gflops(CNN_STEP_FLOP, cnnCpu) } });
  rows.push({ case: "ResNet-style (16/32 ch, BN, 1×1 proj, depthwise) train step, batch 64", ours: "wasm+odecomp", peer: "cpu", oursMs: resOurs, peerMs: resCpu, speedup: resCpu / resOurs,
    extra: { "ours GFLOP/s": gflops(RESNET_STEP_FLOP, resOurs), "cpu GFLOP/s": gflops(RESNET_STEP_FLOP, resCpu) } });
  rows.push({ case: `MLP 784-1024-1024-10 epoch, 10k samples, batch ${MLP_BATCH}`, ours: "wasm+odecomp", peer: "stock wasm", oursMs: mlpOurs, peerMs: mlpStock, speedup: mlpStock / mlpOurs,
    extra: { "ours GFLOP/s": gflops(MLP_SAMPLE_FLOP * 10000, mlpOurs), "stock GFLOP/s": gflops(MLP_SAMPLE_FLOP * 10000, mlpStock),
      "cpu ms": mlpCpu, "cpu GFLOP/s": gflops(MLP_SAMPLE_FLOP * 10000, mlpCpu), "× cpu": mlpCpu / mlpOurs } });
  const note = `single thread; cpu conv kernel rows: one run on x[1,8,8,64] scaled ×${convScale.toFixed(0)}; cpu train steps: batch ${CPU_STEP_BATCH} scaled ×${64 / CPU_STEP_BATCH}; `
    + `MLP epoch: stock wasm on ${MLP_STOCK_SAMPLES}, ours on ${MLP_OURS_SAMPLES}, cpu on ${MLP_CPU_SAMPLES} samples, scaled to 10k`;
  printTable(`tfjs kernels and training (${note})`, rows);
  await saveResults("tfjs", rows, { quick: QUICK, note });
}
