// Keras 3 → tfjs 4.22: the tensorflowjs converter writes Keras 3 configs as
// Keras 3 saves them, and tfjs-layers 4.22 rejects them. normalizeModelJSON
// rewrites a model.json object into the Keras 2 form tfjs reads:
//  - InputLayer `batch_shape` → `batch_input_shape`;
//  - dtype policy objects ({ class_name: "DTypePolicy", config: { name } }) → the dtype string;
//  - `module` / `registered_name` / `build_config` / `compile_config` keys dropped everywhere;
//  - Keras 3 inbound nodes ({ args: [keras tensors], kwargs }) → Keras 2 node lists;
//  - a single `input_layers` / `output_layers` triple → a list of triples;
//  - weight names prefixed with the model name ("sequential/dense/kernel") → "dense/kernel".
// Keras 2 / tfjs model.json goes through unchanged. tfjs-free, pure data.

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const DROP = new Set(["module", "registered_name", "build_config", "compile_config"]);
/** Layer config keys Keras 3 adds that tfjs-layers 4.22 does not know (it rejects some of them). */
const KERAS3_ONLY = new Set(["lora_rank", "lora_alpha", "quantization_config", "synchronized", "optional"]);

export interface NormalizeResult {
  /** The model.json object in the form tfjs 4.22 reads (a new object; the input is not modified). */
  modelJSON: Json;
  /** What was changed, one line per kind of change (empty for Keras 2 / tfjs input). */
  changes: string[];
}

function dtypeOf(v: unknown): unknown {
  if (isObj(v) && (v.class_name === "DTypePolicy" || v.class_name === "FloatDTypePolicy" || v.class_name === "Policy") && isObj(v.config)) {
    const name = v.config.name;
    return name === "mixed_float16" || name === "mixed_bfloat16" ? "float32" : name;
  }
  return v;
}

/** Keras 3 node: { args: [tensor | [tensors]], kwargs } with tensors { class_name: "__keras_tensor__", config: { keras_history: [layer, node, index] } }. */
function convertNode(node: unknown): unknown {
  if (!isObj(node) || !("args" in node)) return node;
  const out: unknown[] = [];
  const visit = (t: unknown) => {
    if (Array.isArray(t)) { t.forEach(visit); return; }
    if (isObj(t) && t.class_name === "__keras_tensor__" && isObj(t.config) && Array.isArray(t.config.keras_history)) {
      const [layer, n, i] = t.config.keras_history as [string, number, number];
      out.push([layer, n, i, {}]);
    }
  };
  visit(node.args);
  return out;
}

function walk(v: unknown, changes: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(x, changes));
  if (!isObj(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (DROP.has(k)) { changes.add(`dropped '${k}' keys`); continue; }
    if (k === "dtype" && isObj(x)) { out.dtype = dtypeOf(x); changes.add("dtype policy objects → dtype strings"); continue; }
    if (k === "batch_shape" && !("batch_input_shape" in v)) { out.batch_input_shape = x; changes.add("batch_shape → batch_input_shape"); continue; }
    if (k === "inbound_nodes" && Array.isArray(x) && x.some((n) => isObj(n) && "args" in n)) {
      out.inbound_nodes = x.map(convertNode);
      changes.add("Keras 3 inbound nodes → Keras 2 node lists");
      continue;
    }
    if ((k === "input_layers" || k === "output_layers") && Array.isArray(x) && x.length === 3 && typeof x[0] === "string") {
      out[k] = [x];
      changes.add(`single ${k} triple → list`);
      continue;
    }
    out[k] = walk(x, changes);
  }
  // Keras-3-only keys inside a layer's config.
  if (typeof out.class_name === "string" && isObj(out.config)) {
    for (const key of Object.keys(out.config)) if (KERAS3_ONLY.has(key)) { delete out.config[key]; changes.add(`dropped Keras 3 layer option '${key}'`); }
  }
  return out;
}

/** Names of every layer in a topology (nested models included) and the top model's name. */
function layerNames(topology: unknown): { model: string | null; names: Set<string> } {
  const names = new Set<string>();
  const visit = (v: unknown) => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!isObj(v)) return;
    if (typeof v.class_name === "string" && isObj(v.config) && typeof v.config.name === "string") names.add(v.config.name);
    for (const x of Object.values(v)) visit(x);
  };
  const root = isObj(topology) && isObj(topology.model_config) ? topology.model_config : topology;
  visit(root);
  const model = isObj(root) && isObj(root.config) && typeof root.config.name === "string" ? root.config.name : null;
  return { model, names };
}

/** Rewrite a Keras 3 model.json (as written by the tensorflowjs converter) into the form tfjs 4.22 loads. */
export function normalizeModelJSON(modelJSON: unknown): NormalizeResult {
  if (!isObj(modelJSON)) return { modelJSON: modelJSON as Json, changes: [] };
  const changes = new Set<string>();
  const out = walk(modelJSON, changes) as Json;
  // Keras 3 writes keras_version 3.x; tfjs only reads it as metadata.
  const { model, names } = layerNames(out.modelTopology);
  if (model && Array.isArray(out.weightsManifest)) {
    for (const g of out.weightsManifest as ({ weights?: unknown } | null)[]) {
      // Malformed groups and specs are left for the reader to reject with a message naming them.
      if (!isObj(g) || !Array.isArray(g.weights)) continue;
      for (const w of g.weights as { name: unknown }[]) {
        const prefix = `${model}/`;
        if (isObj(w) && typeof w.name === "string" && w.name.startsWith(prefix)) {
          const rest = (w.name as string).slice(prefix.length);
          const first = rest.split("/")[0];
          if (names.has(first) && rest.includes("/")) {
            w.name = rest;
            changes.add(`weight names: model-name prefix '${prefix}' stripped`);
          }
        }
      }
    }
  }
  return { modelJSON: out, changes: [...changes] };
}
