// tfjs side of the model code: live models ↔ artifacts, and the shapes the
// planner needs (read from the live layers' inbound nodes).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { fail } from "../core/errors.ts";
import type { Artifacts } from "../compress/artifacts.ts";
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
  return tfl.loadLayersModel(tf.io.fromMemory(a as tf.io.ModelArtifacts), { strict: true });
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
