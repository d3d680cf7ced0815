// Model artifacts (model.json topology + weight bytes) as plain data, and the
// topology rewrite that swaps layers for chains. tfjs-free: the same code
// serves compress() on a live model and the file-system-free artifacts path.
import type { Tensor } from "../core/tensor.ts";
import { sizeOf } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import type { LayerConfig, LayerSpec } from "../layers/types.ts";

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

/** Weights by name (float32 only; quantized or other dtypes are rejected with their name). */
export function decodeWeights(a: Artifacts): Map<string, Tensor> {
  const specs = a.weightSpecs ?? fail(WHERE, "weightSpecs is missing; expected the weights manifest of a layers model");
  const buf = joinBuffers(a.weightData ?? fail(WHERE, "weightData is missing; expected the weight bytes"));
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const s of specs) {
    if (s.dtype !== "float32" || s.quantization) fail(WHERE, `weight '${s.name}' is ${s.quantization ? "quantized " : ""}${s.dtype}; only plain float32 weights are supported`);
    const n = sizeOf(s.shape);
    if (offset + 4 * n > buf.byteLength) fail(WHERE, `weight '${s.name}' [${s.shape}] runs past the end of weightData (${buf.byteLength} bytes)`);
    out.set(s.name, { data: new Float32Array(buf.slice(offset, offset + 4 * n)), shape: [...s.shape] });
    offset += 4 * n;
  }
  return out;
}

/** weightSpecs + one weightData buffer, in the given order. */
export function encodeWeights(weights: { name: string; value: Tensor }[]): { weightSpecs: WeightSpec[]; weightData: ArrayBuffer } {
  const total = weights.reduce((a, w) => a + w.value.data.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  const weightSpecs: WeightSpec[] = [];
  for (const w of weights) {
    data.set(w.value.data, o);
    o += w.value.data.length;
    weightSpecs.push({ name: w.name, shape: [...w.value.shape], dtype: "float32" });
  }
  return { weightSpecs, weightData: data.buffer };
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
