// Keras 3 model.json (as the tensorflowjs converter writes it from Keras 3): the
// test turns tfjs-saved models into Keras 3 form — converter layout
// (model_config), InputLayer with batch_shape, DTypePolicy objects, module /
// registered_name / build_config keys, Keras 3 inbound nodes, single
// input/output triples, weight names prefixed with the model name — and checks
// that tfjs 4.22 rejects it raw while odecomp loads, inspects and compresses it.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { normalizeModelJSON } from "../../src/models/index.ts";
import { loadStock, plantLowRank, predictClose, run, saved, tinyCnn, tinyFunctional } from "./helpers.ts";

const policy = (name = "float32") => ({ module: "keras", class_name: "DTypePolicy", config: { name }, registered_name: null });

function keras3Layer(l: any): any {
  const c = { ...l.config };
  if (c.dtype !== undefined) c.dtype = policy(c.dtype);
  for (const k of Object.keys(c)) {
    const v = c[k];
    if (v && typeof v === "object" && !Array.isArray(v) && "class_name" in v) c[k] = { module: "keras.initializers", ...v, registered_name: null };
  }
  const out: any = { module: "keras.layers", class_name: l.class_name, config: c, registered_name: null, build_config: { input_shape: null } };
  if (l.name !== undefined) out.name = l.name;
  if (l.inbound_nodes !== undefined) {
    out.inbound_nodes = l.inbound_nodes.map((node: any[]) => {
      const ts = node.map(([layer, n, i]: [string, number, number]) => ({ class_name: "__keras_tensor__", config: { shape: [null], dtype: "float32", keras_history: [layer, n, i] } }));
      return { args: ts.length === 1 ? ts : [ts], kwargs: {} };
    });
  }
  if (l.class_name === "Sequential" || l.class_name === "Functional" || l.class_name === "Model") out.config = keras3Model(l).config;
  return out;
}

function keras3Model(m: any): any {
  const cfg = { ...m.config };
  let layers = cfg.layers.map(keras3Layer);
  if (m.class_name === "Sequential") {
    // Keras 3 Sequential: an explicit InputLayer with batch_shape first.
    const first = layers[0];
    const shape = first.config.batch_input_shape;
    delete first.config.batch_input_shape;
    layers = [{ module: "keras.layers", class_name: "InputLayer", config: { batch_shape: shape, dtype: "float32", sparse: false, name: "input_layer" }, registered_name: null }, ...layers];
  } else {
    for (const l of layers) if (l.class_name === "InputLayer") { l.config.batch_shape = l.config.batch_input_shape; delete l.config.batch_input_shape; }
    if (cfg.input_layers.length === 1) cfg.input_layers = cfg.input_layers[0];
    if (cfg.output_layers.length === 1) cfg.output_layers = cfg.output_layers[0];
  }
  return { module: "keras", class_name: m.class_name === "Model" ? "Functional" : m.class_name, config: { ...cfg, layers }, registered_name: null };
}

/** Rewrite a tfjs-saved folder into the converter's Keras 3 output. */
function toKeras3(dir: string): void {
  const p = join(dir, "model.json");
  const j = JSON.parse(readFileSync(p, "utf8"));
  const name = j.modelTopology.config.name;
  j.modelTopology = { keras_version: "3.6.0", backend: "tensorflow", model_config: keras3Model(j.modelTopology) };
  j.format = "layers-model";
  j.convertedBy = "TensorFlow.js Converter v4.22.0";
  for (const w of j.weightsManifest[0].weights) w.name = `${name}/${w.name}`;
  writeFileSync(p, JSON.stringify(j));
}

let seq: tfl.LayersModel, func: tfl.LayersModel, seqDir: string, funcDir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  seq = tinyCnn(); plantLowRank(seq, 3);
  func = tinyFunctional(); plantLowRank(func, 3);
  seqDir = await saved(seq); toKeras3(seqDir);
  funcDir = await saved(func); toKeras3(funcDir);
});

describe("Keras 3 model.json", () => {
  it("stock tfjs 4.22 rejects the raw file (the reason for the normaliser)", async () => {
    const j = JSON.parse(readFileSync(join(seqDir, "model.json"), "utf8"));
    const bin = readFileSync(join(seqDir, "weights.bin"));
    await expect(tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }))).rejects.toThrow();
  });

  it("normalizeModelJSON reports each change and leaves tfjs JSON alone", () => {
    const { changes } = normalizeModelJSON(JSON.parse(readFileSync(join(funcDir, "model.json"), "utf8")));
    for (const c of [/batch_shape → batch_input_shape/, /dtype policy/, /dropped 'module'/, /dropped 'registered_name'/, /inbound nodes/, /input_layers/, /prefix 'tiny_func\/' stripped/]) expect(changes.join("\n")).toMatch(c);
    const plain = JSON.parse(readFileSync(join(funcDir, "model.json"), "utf8"));
    expect(normalizeModelJSON({ modelTopology: { class_name: "Sequential", config: { name: "s", layers: [] } }, weightsManifest: [] }).changes).toEqual([]);
    expect(plain.modelTopology.keras_version).toBe("3.6.0"); // input not modified
  });

  it.each([["Sequential", () => seqDir, () => seq, [2, 8, 8, 1]], ["functional with a nested Sequential", () => funcDir, () => func, [2, 8, 8, 2]]] as const)(
    "%s: inspect and compress work; the result loads in stock tfjs and predicts like the original", async (_n, dir, model, shape) => {
      const i = await run("inspect", dir(), "--json");
      expect(i.code, i.err).toBe(0);
      expect(JSON.parse(i.out).normalized.length).toBeGreaterThan(0);
      const out = join(dir() + "-c");
      const r = await run("compress", join(dir(), "model.json"), "--out", out, "--rank-rule", "energy:0.9999");
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/normalised Keras 3 config/);
      const c = await loadStock(out);
      expect(c.countParams()).toBeLessThan(model().countParams());
      expect(predictClose(model(), c, [...shape])).toBeLessThan(1e-3);
      c.dispose();
    });
});
