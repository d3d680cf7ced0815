// The real Timer: a request's stock layers (the layer itself, or its chain with
// kernels of the right shapes) built as a small tfjs model and run on the
// active tfjs backend — the wasm backend with odecomp's kernels in the CLI,
// whatever backend a page or worker set — at the layer's input shape and the
// chosen batch. Warm-up runs first (the wasm backend sets up kernels and
// allocates on first use), then the fastest (or median) of repeats, repeated
// until a minimum total time so fast layers are not timed at the clock's resolution.
// Also: timing the whole model (the base of a time budget) and a JSON disk
// cache of measurements (Node and Deno, written atomically).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { fail } from "../core/errors.ts";
import { runtimeInfo } from "../core/loader.ts";
import { predict } from "./predict.ts";
import type { LayerSpec } from "../layers/types.ts";
import { type Timer, type TimingMode, type TimingRequest, requestLayers } from "../compress/timecost.ts";

export interface TfjsTimerOptions {
  /** Untimed runs first (default 2). */
  warmup?: number;
  /** Timed runs at least (default 5; with "min", as few as 3 once the two fastest agree within 2 %). */
  repeats?: number;
  /** Keep timing until the runs add up to this many seconds (default 0.05), up to 50 runs. */
  minSeconds?: number;
  /**
   * Which run to report (default "min"). On a machine shared with other work a run is only ever slowed
   * down, never sped up, so the fastest run estimates the layer's own cost best: on the 2-core CI machine
   * at load ≈ 16, medians of the same 1×1 chain varied 1.1–22 ms between calls, minima far less.
   * "median" suits a quiet machine and whole-model figures people compare with their own runs.
   */
  statistic?: "min" | "median";
  /**
   * Time as odecomp did before session 18 (default false): training from a scalar sum loss, and every
   * output read back with dataSync. Kept for bench/timer.bench.ts, which compares the two.
   */
  readBack?: boolean;
}

const WHERE = "timing";
const now = () => performance.now() / 1e3;

/** A tfjs layer from a chain spec (snake_case config → the layer factory's options). */
function toLayer(spec: LayerSpec, inShape?: readonly number[]): tfl.layers.Layer {
  const c = spec.config;
  const common = { name: spec.name, useBias: c.use_bias !== false, activation: (c.activation ?? "linear") as "linear", ...(inShape ? { inputShape: [...inShape] } : {}) };
  switch (spec.className) {
    case "Dense": return tfl.layers.dense({ ...common, units: spec.weights[0].value.shape[1] });
    case "Conv2D":
      return tfl.layers.conv2d({
        ...common, filters: spec.weights[0].value.shape[3], kernelSize: c.kernel_size as [number, number], strides: (c.strides ?? 1) as [number, number],
        padding: (c.padding ?? "valid") as "same", dilationRate: (c.dilation_rate ?? 1) as [number, number],
      });
    case "DepthwiseConv2D":
      return tfl.layers.depthwiseConv2d({
        ...common, kernelSize: c.kernel_size as [number, number], strides: (c.strides ?? 1) as [number, number], padding: (c.padding ?? "valid") as "same",
        depthMultiplier: (c.depth_multiplier ?? 1) as number,
      });
    case "SeparableConv2D":
      return tfl.layers.separableConv2d({
        ...common, filters: spec.weights[1].value.shape[3], kernelSize: c.kernel_size as [number, number], strides: (c.strides ?? 1) as [number, number],
        padding: (c.padding ?? "valid") as "same", depthMultiplier: (c.depth_multiplier ?? 1) as number,
      });
    case "Conv2DTranspose":
      return tfl.layers.conv2dTranspose({
        ...common, filters: spec.weights[0].value.shape[2], kernelSize: c.kernel_size as [number, number], strides: (c.strides ?? 1) as [number, number],
        padding: (c.padding ?? "valid") as "same",
      });
  }
}

/**
 * Deterministic values in scale·[−1, 1) (xorshift32) for the inputs, output gradients and weights being
 * timed. Timing needs no distribution, only values that are neither zero nor denormal, and tf.randomNormal
 * is slow JS: one 64-image 28×28×32 batch (1.6 M values) took 70–110 ms. With this fill the auto schedule's
 * switch plan on the main job's CNN took 2.5–3.0 s instead of 3.1–3.4 s (single runs, 15 timings each).
 */
export function noise(shape: readonly number[], seed: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = (Math.imul(seed, 0x9e3779b1) >>> 0) || 1;
  const k = scale / 2 ** 23;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    v[i] = ((s >>> 8) - 2 ** 23) * k;
  }
  return tf.tensor(v, [...shape], "float32");
}

/** The request's layers as a Sequential model with deterministic non-zero weights. */
function buildModel(req: TimingRequest): tfl.Sequential {
  const specs = requestLayers(req);
  const m = tfl.sequential({ layers: specs.map((s, i) => toLayer(s, i === 0 ? req.inShape : undefined)) });
  for (const layer of m.layers) {
    const ws = layer.getWeights().map((w) => noise(w.shape, 1, 0.05));
    layer.setWeights(ws); // copies into the layer's variables
    tf.dispose(ws);
  }
  return m;
}

/** Seconds of `run` (which must finish its work, e.g. by reading a result back): min or median of repeats. */
export function runSeconds(run: () => void, o: TfjsTimerOptions = {}): number {
  const warmup = o.warmup ?? 2, repeats = o.repeats ?? 5, minSeconds = o.minSeconds ?? 0.05;
  for (let i = 0; i < warmup; i++) run();
  const ts: number[] = [];
  let total = 0;
  // For the "min" statistic, runs stop (after at least three) once the two fastest agree within 2 %:
  // more runs would not move the minimum (planning overhead, issue 15). "median" runs them all.
  const settled = () => {
    if ((o.statistic ?? "min") !== "min" || ts.length < 3) return false;
    let a = Infinity, b = Infinity;
    for (const t of ts) { if (t < a) { b = a; a = t; } else if (t < b) b = t; }
    return b <= a * 1.02;
  };
  while ((ts.length < repeats && !settled()) || (total < minSeconds && ts.length < 50 && !settled())) {
    const t0 = now();
    run();
    const t = now() - t0;
    ts.push(t);
    total += t;
  }
  ts.sort((a, b) => a - b);
  return (o.statistic ?? "min") === "min" ? ts[0] : ts[ts.length >> 1];
}

/**
 * Backends whose kernels have run when the op returns. Reading their outputs back would time a copy
 * out of the backend's heap into a fresh JS array that a training step never makes (the optimizer reads
 * the gradients where they are), and its allocation makes the readings erratic: on wasm, dataSync of one
 * 64 × 3136 gradient took 0.05–2 ms between calls (V8 collecting garbage), and the main CNN's fc1 timed
 * at 0.18, 3.0 and 6.0 ms forward + backward in three fresh timers on one idle machine.
 */
const SYNC_BACKENDS = new Set(["wasm", "cpu", "tensorflow"]);

/** Wait until `ts` are computed: nothing on a synchronous backend; elsewhere one scalar that needs them all is read. */
function finish(ts: tf.Tensor[]): void {
  if (SYNC_BACKENDS.has(tf.getBackend()) || ts.length === 0) return;
  const s = tf.tidy(() => tf.addN(ts.map((t) => tf.sum(t))));
  s.dataSync();
  s.dispose();
}

/** One step of `model` on `x`: forward, or forward + backward (gradients of every weight and of the input). */
function timeStep(model: tfl.LayersModel, x: tf.Tensor, mode: TimingMode, o: TfjsTimerOptions): number {
  if (o.readBack) return timeStepReadBack(model, x, mode, o);
  if (mode === "inference") {
    return runSeconds(() => {
      const y = predict(model, x);
      finish([y]);
      y.dispose();
    }, o);
  }
  // The output's gradient is given (dy), not derived from a scalar loss: the gradient of a sum is a ones
  // tensor the size of the output, filled in JS and copied in on every run — allocation whose garbage
  // collection made runs of the same layer vary several-fold, and a size that differed between a layer
  // and the overhead model below (its output is the layer's input).
  const xv = tf.variable(x, true);
  const outShape = (model.outputs[0].shape as (number | null)[]).slice(1).map((d) => d ?? 1);
  const dy = noise([x.shape[0], ...outShape], 4);
  const wrt: tf.Tensor[] = [xv, ...model.trainableWeights.map((w) => w.read())];
  try {
    return runSeconds(() => {
      const { value, grads } = tf.engine().gradients(() => model.apply(xv, { training: true }) as tf.Tensor, wrt, dy);
      finish(grads);
      tf.dispose(grads);
      value.dispose();
    }, o);
  } finally {
    xv.dispose();
    dy.dispose();
  }
}

/** timeStep as it was before session 18 (TfjsTimerOptions.readBack). */
function timeStepReadBack(model: tfl.LayersModel, x: tf.Tensor, mode: TimingMode, o: TfjsTimerOptions): number {
  if (mode === "inference") return runSeconds(() => { const y = predict(model, x); y.dataSync(); y.dispose(); }, o);
  const xv = tf.variable(x, true);
  try {
    return runSeconds(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(model.apply(xv, { training: true }) as tf.Tensor) as tf.Scalar);
      for (const g of Object.values(grads)) { g.dataSync(); g.dispose(); }
      value.dispose();
    }, o);
  } finally {
    xv.dispose();
  }
}

/**
 * A Timer on the active tfjs backend. Each measurement has the fixed cost of running a model on its own
 * subtracted — predict()'s bookkeeping and reading the output back, measured once per input shape, batch
 * and mode on a model of one linear Activation — since inside the real model a layer does not pay it: at
 * batch 1 it was 0.3–1 ms a call here, as much as a small 1×1 conv, and summed over a model's layers it
 * made the layers' times add up to more than the model's.
 */
export function tfjsTimer(o: TfjsTimerOptions = {}): Timer {
  // "/noread": times since outputs stopped being read back (finish) are not comparable with older caches;
  // "/onecall": inference no longer in tfjs's 32-sample slices (src/models/predict.ts)
  const id = `tfjs-${tf.getBackend()}@${tf.version_core}/odecomp-${runtimeInfo().build}${o.readBack ? "" : "/noread"}/onecall`;
  const overheads = new Map<string, number>();
  const overhead = (req: TimingRequest) => {
    const k = JSON.stringify([req.inShape, req.batch, req.mode]);
    let t = overheads.get(k);
    if (t === undefined) {
      const m = tfl.sequential({ layers: [tfl.layers.activation({ activation: "linear", inputShape: [...req.inShape] })] });
      const x = noise([req.batch, ...req.inShape], 2);
      // More runs than a layer gets: an overestimate here would be taken off every later measurement.
      const more = { ...o, repeats: Math.max(o.repeats ?? 5, 15), minSeconds: Math.max(o.minSeconds ?? 0.05, 0.05) };
      try { t = timeStep(m, x, req.mode, more); } finally { x.dispose(); m.dispose(); }
      overheads.set(k, t);
    }
    return t;
  };
  return {
    id,
    time(req: TimingRequest): number {
      if (!(Number.isInteger(req.batch) && req.batch >= 1)) fail(WHERE, `batch is ${req.batch}; expected an integer ≥ 1`);
      const model = buildModel(req);
      const x = noise([req.batch, ...req.inShape], 2);
      let t: number;
      try {
        t = timeStep(model, x, req.mode, o);
      } finally {
        x.dispose();
        model.dispose();
      }
      // never below a small fraction of the raw time: noise must not make a layer free
      return Math.max(t - overhead(req), 0.05 * t);
    },
  };
}

/** Seconds (options.statistic) of the whole model on one batch (forward, or forward + backward), on the active backend. */
export function timeModel(model: tfl.LayersModel, batch: number, mode: TimingMode = "inference", given: TfjsTimerOptions = {}): number {
  // The budget's base: worth more runs than one layer's measurement.
  const o = { ...given, repeats: given.repeats ?? 9, minSeconds: given.minSeconds ?? 0.1 };
  const inputs = model.inputs.map((t, i) => noise([batch, ...t.shape.slice(1).map((d) => d ?? 1)], 3 + i));
  try {
    if (inputs.length !== 1) fail(WHERE, `timeModel supports one-input models; '${model.name}' has ${inputs.length}`);
    return timeStep(model, inputs[0], mode, o);
  } finally {
    for (const x of inputs) x.dispose();
  }
}

/** Measurements saved by saveTimingCache (an empty cache when the file does not exist). */
export async function loadTimingCache(path: string): Promise<Map<string, number>> {
  const fs = await import("node:fs/promises");
  const text = await fs.readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : fail(WHERE, `cannot read timing cache ${path} (${e.code ?? e.message})`)));
  if (text === null) return new Map();
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { return fail(WHERE, `timing cache ${path} is not JSON (${(e as Error).message}); delete it or point elsewhere`); }
  const entries = (raw as { entries?: unknown }).entries;
  if (!entries || typeof entries !== "object") fail(WHERE, `timing cache ${path} has no 'entries' object; expected a file written by odecomp`);
  return new Map(Object.entries(entries as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0));
}

/** Write the cache as JSON: to a temporary sibling first, then renamed over `path`. */
export async function saveTimingCache(path: string, entries: Map<string, number>): Promise<void> {
  const fs = await import("node:fs/promises");
  const tmp = `${path}.tmp-${typeof process !== "undefined" ? process.pid : 0}-${Date.now().toString(36)}`;
  await fs.writeFile(tmp, JSON.stringify({ format: "odecomp-timing-1", entries: Object.fromEntries(entries) }));
  await fs.rename(tmp, path);
}
