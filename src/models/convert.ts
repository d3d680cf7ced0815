// tfjs side of the model code: live models ↔ artifacts, and the shapes the
// planner needs (read from the live layers' inbound nodes).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { OdecompError, fail } from "../core/errors.ts";
import { type Artifacts, checkArtifacts, relabelFloat16 } from "../compress/artifacts.ts";
import type { LayerShapes } from "../compress/compress.ts";

/** A model's artifacts (model.json topology + weights), in memory, via tfjs' own save path. */
export async function modelToArtifacts(model: tfl.LayersModel): Promise<Artifacts> {
  if (!(model instanceof tfl.LayersModel)) fail("compress", `model is ${model === null ? "null" : typeof model === "object" ? (model as object).constructor?.name : typeof model}; expected a tfjs LayersModel (tf.sequential / tf.model / tf.loadLayersModel)`);
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    out = a;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
  }));
  return out as Artifacts;
}

/** A stock tfjs LayersModel from artifacts (no odecomp layer classes involved). */
export async function artifactsToModel(a: Artifacts): Promise<tfl.LayersModel> {
  checkArtifacts(a, "loadModel");
  // tfjs 4.22 cannot load raw float16 weights: widen them (quantized specs tfjs decodes itself).
  a = { ...a, weightSpecs: relabelFloat16(a.weightSpecs!) };
  // Loads read weightSpecs from the artifacts; an ArrayBuffer[] weightData is joined by tfjs itself.
  const plain: tf.io.ModelArtifacts = { ...(a as tf.io.ModelArtifacts) };
  // tfjs leaks the decoded weight tensors when a dtype does not fit (it fails after decoding them all):
  // compare unusual dtypes against the bare model first.
  if (plain.weightSpecs!.some((s) => s?.dtype !== "float32")) {
    const e = await mismatch(a, "a weight has an unusual dtype");
    if (e) throw e;
  }
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(plain), { strict: true });
  } catch (e) {
    throw await explainLoadError(a, e as Error);
  }
}

/**
 * tfjs' own load errors name neither the weight nor the file ("Shape mismatch: [576,256] vs. [256,576]",
 * "1 of 12 weights are not set", "dtype of the new value (int32) …"): build the bare model from the topology
 * and compare its weights with the manifest to say which weight is wrong and how.
 */
async function explainLoadError(a: Artifacts, e: Error): Promise<Error> {
  if (e instanceof OdecompError) return e;
  const msg = String(e?.message ?? e).split("\n")[0];
  if (!/Shape mismatch|weights are not set|dtype of the new value|Provided weight data|not set|Unsupported dtype|quantiz/i.test(msg)) return new OdecompError(`loadModel: TensorFlow.js could not build the model: ${msg}`);
  return (await mismatch(a, msg)) ?? new OdecompError(`loadModel: the weights do not fit the model (${msg})`);
}

/** The first manifest weight that does not fit the bare model built from the topology, as an error; null if all fit. */
async function mismatch(a: Artifacts, msg: string): Promise<OdecompError | null> {
  let bare: tfl.LayersModel;
  try {
    bare = await tfl.models.modelFromJSON({ modelTopology: a.modelTopology } as never);
  } catch {
    return null;
  }
  try {
    const specs = new Map((a.weightSpecs ?? []).map((s) => [s.name, s]));
    for (const w of bare.weights) {
      const s = specs.get(w.originalName);
      if (!s) return new OdecompError(`loadModel: weight '${w.originalName}' [${w.shape}] of the model is not in the weights manifest (${msg}); expected a spec named '${w.originalName}'`);
      if (JSON.stringify(s.shape) !== JSON.stringify(w.shape)) return new OdecompError(`loadModel: weight '${w.originalName}' has shape [${s.shape}] in the manifest but the layer expects [${w.shape}]`);
      if (s.dtype !== w.dtype) return new OdecompError(`loadModel: weight '${w.originalName}' has dtype ${s.dtype} in the manifest but the layer expects ${w.dtype}`);
    }
    return null;
  } finally {
    bare.dispose();
  }
}

export type { LayerShapes };

/** Input shapes of every layer by name (nested models included). */
export function layerShapes(model: tfl.LayersModel): Map<string, LayerShapes> {
  const out = new Map<string, LayerShapes>();
  const walk = (m: tfl.LayersModel) => {
    for (const layer of m.layers) {
      const nodes = layer.inboundNodes ?? [];
      if (nodes.length > 0) {
        const s = nodes[0].inputShapes;
        const first = (Array.isArray(s[0]) ? s[0] : s) as (number | null)[] | undefined;
        if (first) out.set(layer.name, { inShape: first.slice(1).map((d) => d ?? -1), calls: nodes.length });
      }
      if (layer instanceof tfl.LayersModel) walk(layer);
    }
  };
  walk(model);
  return out;
}
