// Model artifacts (model.json topology + weight bytes) as plain data, and the
// topology rewrite that swaps layers for chains. tfjs-free: the same code
// serves compress() on a live model and the file-system-free artifacts path.
import type { Tensor } from "../core/tensor.ts";
import { sizeOf } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import type { LayerConfig, LayerSpec } from "../layers/types.ts";
import { type QuantizeDtype, QUANTIZE_DTYPES, dequantize, quantizationOf, quantize, storedBytes } from "./quantize.ts";

/** The subset of tfjs io.WeightsManifestEntry this module reads and writes. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
  group?: unknown;
}

/** The subset of tfjs io.ModelArtifacts used here (a tfjs ModelArtifacts object is accepted as is). */
export interface Artifacts {
  modelTopology?: unknown;
  weightSpecs?: WeightSpec[];
  weightData?: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  [key: string]: unknown;
}

/** One layer entry of a model.json layer list. */
export interface LayerEntry {
  class_name: string;
  config: LayerConfig;
  name?: string;
  inbound_nodes?: unknown[];
}

const WHERE = "artifacts";

function joinBuffers(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  if (!Array.isArray(data)) return data;
  const total = data.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of data) { out.set(new Uint8Array(b), o); o += b.byteLength; }
  return out.buffer;
}

/** Name the first non-finite value of a weight the tool reads or writes (a NaN bias would otherwise pass silently). */
export function checkFinite(name: string, data: Float32Array, where = WHERE): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) fail(where, `weight '${name}' has a non-finite value (${v}) at flat index ${i}; expected finite numbers`);
  }
}

/** Checks the artifacts value itself (API callers pass anything): an object with a topology, specs and bytes. */
export function checkArtifacts(a: unknown, where: string): asserts a is Artifacts {
  const type = a === null ? "null" : Array.isArray(a) ? "an array" : typeof a;
  if (typeof a !== "object" || a === null || Array.isArray(a)) fail(where, `artifacts is ${type}${typeof a === "string" ? ` '${String(a).slice(0, 40)}'` : ""}; expected model artifacts { modelTopology, weightSpecs, weightData } (tf.io ModelArtifacts or artifactsFromJSON)`);
  const o = a as Record<string, unknown>;
  if (typeof o.modelTopology !== "object" || o.modelTopology === null) fail(where, `artifacts.modelTopology is ${o.modelTopology === null ? "null" : typeof o.modelTopology}; expected a layers-model topology object`);
  if (!Array.isArray(o.weightSpecs)) fail(where, `artifacts.weightSpecs is ${o.weightSpecs === null ? "null" : typeof o.weightSpecs}; expected an array of weight specs`);
  const d = o.weightData;
  const isBuf = (b: unknown) => Object.prototype.toString.call(b) === "[object ArrayBuffer]";
  const ok = isBuf(d) || (Array.isArray(d) && d.every(isBuf));
  if (!ok) fail(where, `artifacts.weightData is ${d === null ? "null" : ArrayBuffer.isView(d) ? (d as object).constructor.name : typeof d}; expected an ArrayBuffer (or an array of them)`);
}

/** Check one spec's fields; returns its value count. */
export function specSize(s: WeightSpec, where = WHERE): number {
  if (!s || typeof s !== "object") fail(where, `a weight spec is ${s === null ? "null" : typeof s}; expected { name, shape, dtype }`);
  if (typeof s.name !== "string") fail(where, `a weight spec has name ${JSON.stringify(s.name)}; expected a string`);
  if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(where, `weight '${s.name}' has shape ${JSON.stringify(s.shape)}; expected an array of non-negative integers`);
  if (typeof s.dtype !== "string") fail(where, `weight '${s.name}' has dtype ${JSON.stringify(s.dtype)}; expected a string such as 'float32'`);
  return sizeOf(s.shape);
}

/**
 * Weights by name as float32. Quantized (uint8 / uint16 / float16, the converter's format) and raw float16
 * weights are dequantized; other dtypes are rejected with their name; every value must be finite.
 */
export function decodeWeights(a: Artifacts): Map<string, Tensor> {
  const specs = a.weightSpecs ?? fail(WHERE, "weightSpecs is missing; expected the weights manifest of a layers model");
  const buf = new Uint8Array(joinBuffers(a.weightData ?? fail(WHERE, "weightData is missing; expected the weight bytes")));
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const s of specs) {
    const n = specSize(s);
    const q = quantizationOf(s, WHERE);
    if (!q && s.dtype !== "float32" && s.dtype !== "float16") fail(WHERE, `weight '${s.name}' is ${s.dtype}; only float32 weights (plain, float16 or quantized uint8/uint16/float16) are supported`);
    const bytes = (storedBytes(s) ?? 4) * n;
    if (offset + bytes > buf.byteLength) fail(WHERE, `weight '${s.name}' [${s.shape}] runs past the end of weightData (${buf.byteLength} bytes; it needs bytes ${offset}..${offset + bytes})`);
    const view = buf.subarray(offset, offset + bytes);
    const data = q ? dequantize(view, n, q) : s.dtype === "float16" ? dequantize(view, n, "float16") : new Float32Array(view.slice().buffer);
    checkFinite(s.name, data);
    out.set(s.name, { data, shape: [...s.shape] });
    offset += bytes;
  }
  if (offset !== buf.byteLength) fail(WHERE, `weightData has ${buf.byteLength} bytes but the weight specs need ${offset}; expected them to match`);
  return out;
}

/** weightSpecs + one weightData buffer, in the given order (every value must be finite). */
export function encodeWeights(weights: { name: string; value: Tensor }[]): { weightSpecs: WeightSpec[]; weightData: ArrayBuffer } {
  const total = weights.reduce((a, w) => a + w.value.data.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  const weightSpecs: WeightSpec[] = [];
  for (const w of weights) {
    checkFinite(w.name, w.value.data);
    data.set(w.value.data, o);
    o += w.value.data.length;
    weightSpecs.push({ name: w.name, shape: [...w.value.shape], dtype: "float32" });
  }
  return { weightSpecs, weightData: data.buffer };
}

/**
 * Raw `float16` specs (tfjs 4.22 cannot load that dtype) relabelled as float32 weights stored in float16 —
 * the converter's `quantization: { dtype: "float16" }` form, same bytes — so stock tfjs loads them.
 */
export function relabelFloat16(specs: WeightSpec[]): WeightSpec[] {
  return specs.map((s) => (s?.dtype === "float16" && !s.quantization ? { ...s, dtype: "float32", quantization: { dtype: "float16", original_dtype: "float32" } } : s));
}

/** The quantization the artifacts' float weights are stored in (the most common one), or null for plain float32. */
export function artifactsQuantization(a: Artifacts): QuantizeDtype | null {
  const count = new Map<QuantizeDtype, number>();
  for (const s of a.weightSpecs ?? []) {
    const d = s.dtype === "float16" ? "float16" : (s.quantization as { dtype?: QuantizeDtype } | undefined)?.dtype;
    if (d && QUANTIZE_DTYPES.includes(d)) count.set(d, (count.get(d) ?? 0) + 1);
  }
  let best: QuantizeDtype | null = null;
  for (const [d, c] of count) if (best === null || c > count.get(best)!) best = d;
  return best;
}

export interface QuantizeReport {
  dtype: QuantizeDtype;
  /** Relative Frobenius error ‖w − q(w)‖/‖w‖ of the worst weight, and which. */
  maxRelError: number;
  worst: string;
  /** Over all weights together. */
  relError: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Float artifacts → the same weights stored in `dtype` as the converter would write them, and the error that adds. */
export function quantizeArtifacts(a: Artifacts, dtype: QuantizeDtype): { artifacts: Artifacts; report: QuantizeReport } {
  const weights = decodeWeights(a);
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let maxRel = 0, worst = "", num = 0, den = 0, before = 0;
  for (const s of a.weightSpecs!) {
    const w = weights.get(s.name)!;
    const { bytes, quantization } = quantize(w.data, dtype, s.name);
    const back = dequantize(bytes, w.data.length, quantization);
    let e = 0, d = 0;
    for (let i = 0; i < back.length; i++) { const x = w.data[i]; e += (x - back[i]) ** 2; d += x * x; }
    const rel = d > 0 ? Math.sqrt(e / d) : Math.sqrt(e);
    if (rel >= maxRel) { maxRel = rel; worst = s.name; }
    num += e; den += d; before += 4 * w.data.length;
    specs.push({ name: s.name, shape: [...s.shape], dtype: "float32", quantization });
    parts.push(bytes);
  }
  const total = parts.reduce((x, p) => x + p.byteLength, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { data.set(p, o); o += p.byteLength; }
  return {
    artifacts: { ...a, weightSpecs: specs, weightData: data.buffer },
    report: { dtype, maxRelError: maxRel, worst, relError: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), bytesBefore: before, bytesAfter: total },
  };
}

// ---- topology ----------------------------------------------------------------

const NESTED = new Set(["Model", "Functional", "Sequential"]);

/** The top-level {class_name, config} of a model.json topology (unwraps Keras' model_config). */
export function rootOf(topology: unknown): LayerEntry {
  const t = topology as Record<string, unknown> | null;
  if (!t || typeof t !== "object") fail(WHERE, `modelTopology is ${t === null ? "null" : typeof t}; expected a layers-model topology object`);
  const root = (t.model_config ?? t) as LayerEntry;
  if (typeof root.class_name !== "string" || !root.config || !Array.isArray((root.config as LayerConfig).layers)) {
    fail(WHERE, "modelTopology is not a layers model (no class_name/config.layers); graph models are not supported");
  }
  return root;
}

export interface LayerVisit {
  entry: LayerEntry;
  /** Names of the nested models enclosing this layer, outermost first. */
  scope: string[];
}

/** Every layer entry, depth-first, nested models' layers included (the nested model entry itself too). */
export function listLayers(topology: unknown): LayerVisit[] {
  const out: LayerVisit[] = [];
  const walk = (model: LayerEntry, scope: string[]) => {
    for (const e of (model.config.layers as LayerEntry[])) {
      out.push({ entry: e, scope });
      if (NESTED.has(e.class_name)) walk(e, [...scope, String(e.config.name)]);
    }
  };
  walk(rootOf(topology), []);
  return out;
}

export const layerName = (e: LayerEntry): string => String(e.config.name ?? e.name);

/** tfjs weight names of a layer entry's spec. */
export const weightNames = (spec: LayerSpec): string[] => spec.weights.map((w) => `${spec.name}/${w.name}`);

function renameRefs(nodes: unknown, from: string, to: string): unknown {
  if (!Array.isArray(nodes)) return nodes;
  if (nodes.length >= 3 && nodes[0] === from && typeof nodes[1] === "number" && typeof nodes[2] === "number") return [to, ...nodes.slice(1)];
  return nodes.map((n) => renameRefs(n, from, to));
}

function specEntry(spec: LayerSpec, inbound: unknown[] | undefined): LayerEntry {
  const e: LayerEntry = { class_name: spec.className, config: { ...spec.config, name: spec.name } };
  if (inbound !== undefined) {
    e.name = spec.name;
    e.inbound_nodes = inbound;
  }
  return e;
}

/**
 * A new topology in which each layer named in `replace` is swapped for its chain (in order). In a
 * functional model the first chain layer takes the original's inbound nodes, each next one the previous
 * layer's (node for node, so shared layers stay shared), and every reference to the original — in other
 * layers' inbound nodes and in output_layers — points at the chain's last layer. In a Sequential model
 * the chain is spliced in place; the first chain layer inherits batch_input_shape / dtype.
 * Layers named in `drop` are removed; `aliases` renames further references (from → to).
 */
export function rewriteTopology(topology: unknown, replace: Map<string, LayerSpec[]>, drop: Set<string> = new Set(), aliases: Map<string, string> = new Map()): unknown {
  const copy = structuredClone(topology);
  const rewrite = (model: LayerEntry) => {
    const cfg = model.config;
    const layers = cfg.layers as LayerEntry[];
    const sequential = model.class_name === "Sequential";
    const out: LayerEntry[] = [];
    const renames: [string, string][] = [];
    for (const e of layers) {
      if (drop.has(layerName(e))) continue;
      if (NESTED.has(e.class_name)) rewrite(e);
      const chain = replace.get(layerName(e));
      if (!chain) { out.push(e); continue; }
      if (sequential) {
        chain.forEach((spec, i) => {
          const ne = specEntry(spec, undefined);
          if (i === 0) {
            for (const k of ["batch_input_shape", "input_shape", "batch_size", "dtype"]) if (e.config[k] !== undefined) ne.config[k] = e.config[k];
          }
          out.push(ne);
        });
      } else {
        const nodes = (e.inbound_nodes ?? []) as unknown[];
        chain.forEach((spec, i) => {
          out.push(specEntry(spec, i === 0 ? nodes : nodes.map((_, k) => [[chain[i - 1].name, k, 0, {}]])));
        });
        renames.push([layerName(e), chain[chain.length - 1].name]);
      }
    }
    for (const [from, to] of [...renames, ...aliases]) {
      for (const e of out) if (e.inbound_nodes) e.inbound_nodes = renameRefs(e.inbound_nodes, from, to) as unknown[];
      if (cfg.output_layers !== undefined) cfg.output_layers = renameRefs(cfg.output_layers, from, to);
    }
    cfg.layers = out;
  };
  rewrite(rootOf(copy));
  return copy;
}
