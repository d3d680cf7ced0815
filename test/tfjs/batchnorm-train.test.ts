// The fused BatchNorm training op (src/tfjs/batchnorm-train.ts, kernels/BatchNormTrain*.ts,
// assembly/norm/batchnorm.ts) on 'wasm' + odecomp against tfjs-layers' stock computation on the cpu
// backend (moments + batchNorm, its gradient through tfjs's tape, the moving averages) and a float64
// scalar reference, on 240 seeded shapes: channels 1, 3, 5, 17, 33, 64; N·H·W from 1 through SIMD
// tails to 2,000+; constant channels (variance 0), tiny (1e-40, subnormal) and huge (1e10, 1e16) values.
//
// Tolerances. Ours accumulates every per-channel sum in f64 and rounds once, so against the f64
// reference its error is a few f32 roundings of the element-wise formula: ≤ 1e-6 (≈ 8 ε) of the output's
// scale (max |ref| of that output, or the size of the terms it is computed from where they cancel:
// Σ|terms| for sums, ε·|x|·γ·invstd for what x − mean feeds). The cpu backend sums in f32 (an error up
// to M·ε ≈ 1e-4 relative at M = 2,048 in the worst case, ≈ √M·ε ≈ 3e-6 typically), so ours against it is
// held to 2e-5 of the same scale, and the cpu's own distance to the f64 reference must not be smaller
// than ours by more than rounding (ours is the more accurate of the two). Measured worst: 2.7e-7 against
// f64, 3.9e-7 against the cpu (printed by the first test).
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-layers"; // registers the gradients
import { registerWasmKernels } from "../../src/tfjs/index.ts";
import { setThreads } from "../../src/index.ts";
import { batchNormTrain } from "../../src/tfjs/batchnorm-train.ts";
import { rng, gaussian } from "../helpers/random.ts";

const EPS = 1e-3, MOMENTUM = 0.99;
const CHANNELS = [1, 3, 5, 17, 33, 64];
const ROWS = [1, 2, 3, 4, 5, 7, 8, 16, 17, 64, 129, 300, 2048, 6145]; // 6145: four chunks of the kernel's reductions
// huge: 1e10, where every stock f32 intermediate stays normal; huge16: 1e16, where the cpu's gradient through
// moments underflows ((var + ε)^-1.5 ≈ 1e-48 < f32's least subnormal) and its dx is wrong, so there dx is
// held to the f64 reference only
type Kind = "normal" | "offset" | "constant" | "tiny" | "huge" | "huge16";
const KINDS: Kind[] = ["normal", "offset", "constant", "tiny", "huge", "huge16"];

interface Case { shape: number[]; x: Float32Array; gamma: Float32Array; beta: Float32Array; mm: Float32Array; mv: Float32Array; w: Float32Array; kind: Kind }
interface Out { y: Float32Array; mean: Float32Array; variance: Float32Array; mm: Float32Array; mv: Float32Array; dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array }

/** A shape of `rows` positions (rank 2, 3 or 4) with `c` channels last. */
function shapeOf(rows: number, c: number, r: () => number): number[] {
  const rank = 2 + Math.floor(r() * 3);
  if (rank === 2 || rows < 4) return [rows, c];
  const divs = [...Array(rows).keys()].map((i) => i + 1).filter((d) => rows % d === 0);
  const a = divs[Math.floor(r() * divs.length)];
  if (rank === 3) return [a, rows / a, c];
  const rest = rows / a, d2 = [...Array(rest).keys()].map((i) => i + 1).filter((d) => rest % d === 0);
  const b = d2[Math.floor(r() * d2.length)];
  return [a, b, rest / b, c];
}

function makeCase(i: number): Case {
  const r = rng(1000 + i), g = gaussian(r);
  const c = CHANNELS[i % CHANNELS.length], rows = ROWS[Math.floor(i / CHANNELS.length) % ROWS.length];
  const kind = KINDS[(i + Math.floor(i / 6)) % KINDS.length]; // shifted by one every 6 cases: every (channels, kind) pair in 36
  const shape = shapeOf(rows, c, r), n = rows * c;
  const scale = kind === "tiny" ? 1e-40 : kind === "huge" ? 1e10 : kind === "huge16" ? 1e16 : 1 + 3 * r();
  const offset = kind === "offset" ? 50 * g() : kind === "huge" ? 1e10 * g() : kind === "huge16" ? 1e16 * g() : 0;
  const x = new Float32Array(n);
  for (let k = 0; k < n; k++) x[k] = offset + scale * g();
  if (kind === "constant" || (c > 2 && !kind.startsWith("huge"))) {
    // channel 0 constant (always in "constant" cases; and one constant channel in every wide case but the huge
    // ones, where the cpu's f32 mean of a constant 1e10 is off by an ulp (≈ 1e3) and its x̂ there is noise)
    const v = kind === "constant" ? 0.1 + g() : x[0];
    for (let k = 0; k < rows; k++) x[k * c] = v;
  }
  const per = (f: () => number) => Float32Array.from({ length: c }, f);
  return {
    shape, x, kind,
    gamma: per(() => 1 + 0.5 * g()), beta: per(() => g()),
    mm: per(() => 0.1 * g()), mv: per(() => 1 + 0.2 * r()),
    w: Float32Array.from({ length: n }, () => g()),
  };
}

/** tfjs-layers' computation (normalizeBatchInTraining + the moving averages) and its gradient, on `backend`'s stock ops. */
async function stock(backend: string, k: Case): Promise<Out> {
  await tf.setBackend(backend);
  const c = k.shape[k.shape.length - 1], axes = k.shape.slice(0, -1).map((_, i) => i);
  return tf.tidy(() => {
    const x = tf.tensor(k.x, k.shape), gamma = tf.tensor1d(k.gamma), beta = tf.tensor1d(k.beta), w = tf.tensor(k.w, k.shape);
    const fwd = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      const m = tf.moments(xx, axes);
      return { y: tf.batchNorm(xx, m.mean, m.variance, bb, gg, EPS), m };
    };
    const { y, m } = fwd(x, gamma, beta);
    const decay = 1 - MOMENTUM;
    const mm = tf.sub(tf.tensor1d(k.mm), tf.mul(tf.sub(tf.tensor1d(k.mm), m.mean), decay));
    const mv = tf.sub(tf.tensor1d(k.mv), tf.mul(tf.sub(tf.tensor1d(k.mv), m.variance), decay));
    const [dx, dgamma, dbeta] = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fwd(xx, gg, bb).y, w)))([x, gamma, beta]);
    expect(mm.shape).toEqual([c]);
    return { y: y.dataSync() as Float32Array, mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array,
      mm: mm.dataSync() as Float32Array, mv: mv.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array, dgamma: dgamma.dataSync() as Float32Array, dbeta: dbeta.dataSync() as Float32Array };
  });
}

/** The fused op on 'wasm', gradients through tfjs's tape (tf.grads), as a training step records it. */
async function fused(k: Case): Promise<Out> {
  await tf.setBackend("wasm");
  return tf.tidy(() => {
    const x = tf.tensor(k.x, k.shape), gamma = tf.tensor1d(k.gamma), beta = tf.tensor1d(k.beta), w = tf.tensor(k.w, k.shape);
    const mm0 = tf.tensor1d(k.mm), mv0 = tf.tensor1d(k.mv);
    const run = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => batchNormTrain(xx, gg, bb, mm0, mv0, { epsilon: EPS, momentum: MOMENTUM });
    const r = run(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(run(xx, gg, bb).y, w)))([x, gamma, beta]);
    return { y: r.y.dataSync() as Float32Array, mean: r.mean.dataSync() as Float32Array, variance: r.variance.dataSync() as Float32Array,
      mm: r.newMovingMean.dataSync() as Float32Array, mv: r.newMovingVariance.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array, dgamma: dgamma.dataSync() as Float32Array, dbeta: dbeta.dataSync() as Float32Array };
  });
}

/** Float64 reference of every output (the moving averages in f32 from the f32-rounded batch statistics, as the op defines them). */
function reference(k: Case): Out & { scales: Record<string, number> } {
  const c = k.shape[k.shape.length - 1], rows = k.x.length / c;
  const mean = new Float64Array(c), vr = new Float64Array(c), sdy = new Float64Array(c), sdyx = new Float64Array(c);
  const sAbsDy = new Float64Array(c), sAbsDyx = new Float64Array(c);
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) mean[j] += k.x[i * c + j];
  for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) vr[j] += (k.x[i * c + j] - mean[j]) ** 2;
  for (let j = 0; j < c; j++) vr[j] /= rows;
  const inv = Array.from(vr, (v) => 1 / Math.sqrt(v + EPS));
  const y = new Float32Array(k.x.length), dx = new Float32Array(k.x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) {
    const xh = (k.x[i * c + j] - mean[j]) * inv[j];
    y[i * c + j] = xh * k.gamma[j] + k.beta[j];
    sdy[j] += k.w[i * c + j]; sdyx[j] += k.w[i * c + j] * xh;
    sAbsDy[j] += Math.abs(k.w[i * c + j]); sAbsDyx[j] += Math.abs(k.w[i * c + j] * xh);
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) {
    const xh = (k.x[i * c + j] - mean[j]) * inv[j];
    dx[i * c + j] = k.gamma[j] * inv[j] * (k.w[i * c + j] - sdy[j] / rows - xh * sdyx[j] / rows);
  }
  const f = Math.fround, decay = f(1 - MOMENTUM);
  const mm = Float32Array.from(k.mm, (m, j) => f(m - f(f(m - f(mean[j])) * decay)));
  const mv = Float32Array.from(k.mv, (m, j) => f(m - f(f(m - f(vr[j])) * decay)));
  // scales: the size of the terms each output is computed from (a sum against Σ|terms|, a cancelling dx against |γ·invstd·dy|)
  const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
  const gi = maxAbs(Array.from(inv, (v, j) => v * Math.abs(k.gamma[j])));
  // x − mean is formed in f32 (as tfjs does): it carries an error of ≈ ε·|x|, scaled by γ·invstd in y and by
  // γ·invstd·(invstd·Σdy·x̂/M) in dx, and the f32 mean's rounding (≈ ε·|x|) by invstd·Σ|dy| in dγ
  const xk = maxAbs(k.x) * gi, kk = maxAbs(Array.from(inv, (v, j) => v * Math.abs(sdyx[j]) / rows));
  const scales = {
    y: Math.max(maxAbs(y), maxAbs(k.beta), xk, 1e-30), mean: Math.max(maxAbs(k.x), 1e-45), variance: Math.max(maxAbs(vr), maxAbs(k.x) ** 2 * 1e-7, 1e-45),
    mm: Math.max(maxAbs(mm), 1e-30), mv: Math.max(maxAbs(mv), 1e-30),
    dx: Math.max(maxAbs(dx), gi * maxAbs(k.w), xk * kk), dgamma: Math.max(maxAbs(sAbsDyx), maxAbs(k.x) * maxAbs(Array.from(inv, (v, j) => v * sAbsDy[j])), 1e-30), dbeta: maxAbs(sAbsDy),
  };
  return { y, mean: Float32Array.from(mean), variance: Float32Array.from(vr), mm, mv, dx, dgamma: Float32Array.from(sdyx), dbeta: Float32Array.from(sdy), scales };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return Infinity;
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

beforeAll(async () => {
  await tf.ready();
  await registerWasmKernels();
  await tf.setBackend("wasm");
});

const NAMES = ["y", "mean", "variance", "mm", "mv", "dx", "dgamma", "dbeta"] as const;

describe("fused BatchNorm training op", () => {
  it("forward, moving statistics and gradients equal tfjs-cpu's stock BatchNorm and a float64 reference on 240 seeded shapes", async () => {
    const worst: Record<string, { ours: number; cpu: number }> = {};
    const kinds = new Set<string>(), channels = new Set<number>(), rowsSeen = new Set<number>();
    for (let i = 0; i < 240; i++) {
      const k = makeCase(i);
      // huge: the cpu sums (x − mean)² in f32, which overflows once M·var passes 3.4e38; 1e16 keeps M·var ≤ 1e37 at M = 2,048
      const ref = reference(k), ours = await fused(k), cpu = await stock("cpu", k);
      kinds.add(k.kind); channels.add(k.shape.at(-1)!); rowsSeen.add(k.x.length / k.shape.at(-1)!);
      for (const name of NAMES) {
        const s = ref.scales[name];
        // slack on the subnormal grid (spacing 1.4e-45; tiny inputs have ≈ 1e-5 relative spacing there): a few
        // ulps for ours; one per row for the cpu, whose Mean divides every element by M before summing
        const slack = 8 * 1.4e-45 / s, rowsN = k.x.length / k.shape.at(-1)!;
        const eo = Math.max(0, maxDiff(ours[name], ref[name]) / s - slack), ec = Math.max(0, maxDiff(ours[name], cpu[name]) / s - slack * (1 + rowsN / 8));
        const cpuRef = maxDiff(cpu[name], ref[name]) / s;
        const label = `case ${i} ${k.kind} shape [${k.shape}] ${name}`;
        expect(eo, `${label}: ours vs f64`).toBeLessThanOrEqual(1e-6);
        if (!(k.kind === "huge16" && name === "dx")) expect(ec, `${label}: ours vs cpu`).toBeLessThanOrEqual(2e-5);
        expect(eo, `${label}: ours no less accurate than cpu`).toBeLessThanOrEqual(cpuRef + 2e-7);
        const wv = worst[name] ?? { ours: 0, cpu: 0 };
        worst[name] = { ours: Math.max(wv.ours, eo), cpu: k.kind === "huge16" && name === "dx" ? wv.cpu : Math.max(wv.cpu, ec) };
      }
      if (k.kind === "constant") {
        expect(ours.variance[0], `case ${i}: a constant channel's variance`).toBe(0);
        for (let r = 0; r < ours.y.length / k.shape.at(-1)!; r++) expect(ours.y[r * k.shape.at(-1)!]).toBe(k.beta[0]);
      }
    }
    expect([...kinds].sort()).toEqual([...KINDS].sort());
    expect([...channels].sort((a, b) => a - b)).toEqual(CHANNELS);
    expect(rowsSeen.size).toBe(ROWS.length);
    console.log("fused BN, worst scaled error (ours vs f64, ours vs cpu):", JSON.stringify(worst));
  });

  it("bitwise the same on 1 and 2 threads where every pass splits into claimed chunks (64×28×28×16: 25 chunks), and within 1e-6 of float64", async () => {
    const r = rng(77), g = gaussian(r), n = 64 * 28 * 28 * 16, c = 16;
    const k: Case = {
      shape: [64, 28, 28, c], kind: "offset",
      x: Float32Array.from({ length: n }, () => 3 + 2 * g()), w: Float32Array.from({ length: n }, () => g()),
      gamma: Float32Array.from({ length: c }, () => 0.5 + r()), beta: Float32Array.from({ length: c }, () => g()),
      mm: Float32Array.from({ length: c }, () => g()), mv: Float32Array.from({ length: c }, () => 1 + r()),
    };
    const outs: Out[] = [];
    for (const threads of [1, 2]) {
      await setThreads(threads);
      outs.push(await fused(k));
    }
    await setThreads(1);
    const ref = reference(k);
    for (const name of NAMES) {
      expect(Buffer.from(outs[1][name].buffer).equals(Buffer.from(outs[0][name].buffer)), `${name}: 1 vs 2 threads`).toBe(true);
      expect(maxDiff(outs[1][name], ref[name]) / ref.scales[name], `${name} vs f64`).toBeLessThanOrEqual(1e-6);
    }
  });

  it("at 1e30 the f32 variance overflows to Infinity as the cpu's does, and y is β there as on the cpu (no NaN)", async () => {
    const k = makeCase(7);
    for (let i = 0; i < k.x.length; i++) k.x[i] = 1e30 * (1 + (i % 5));
    const c = k.shape.at(-1)!;
    const ours = await fused(k), cpu = await stock("cpu", k);
    // a variance near 1e60 does not fit f32: Infinity on both, invstd 0, so the output is β
    for (let j = 0; j < c; j++) expect([ours.variance[j], cpu.variance[j]]).toEqual([Infinity, Infinity]);
    expect(Array.from(ours.y)).toEqual(Array.from(cpu.y));
    for (let i = 0; i < ours.y.length; i++) expect(ours.y[i]).toBe(k.beta[i % c]);
  });

  it("rejects bad inputs with the kernel's name", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([4, 3]), g = tf.ones([2]), b = tf.zeros([3]);
    expect(() => batchNormTrain(x, g, b, b, g, { epsilon: EPS, momentum: MOMENTUM })).toThrow(/OdecompBatchNormTrain.*'gamma' has shape \[2\]; expected \[3\]/);
    const xi = tf.ones([4, 3], "int32");
    expect(() => batchNormTrain(xi, b, b, b, b, { epsilon: EPS, momentum: MOMENTUM })).toThrow(/'x' has dtype 'int32'/);
    tf.dispose([x, g, b, xi]);
  });

  it("leaks no tensor over repeated forward + backward calls", async () => {
    await tf.setBackend("wasm");
    const k = makeCase(40);
    await fused(k);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await fused(k);
    expect(tf.memory().numTensors).toBe(before);
  });
});
