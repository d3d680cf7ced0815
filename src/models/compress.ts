// compress / planCompression / reconstruct on live tfjs models, and their
// artifacts-in, artifacts-out forms for edge and serverless code.
import type * as tfl from "@tensorflow/tfjs-layers";
import { ready } from "../core/loader.ts";
import { type Artifacts, checkArtifacts } from "../compress/artifacts.ts";
import { type ArtifactsResult, type Folded, compressArtifactsWith, planArtifacts, reconstructArtifacts } from "../compress/compress.ts";
import { type CompressOptions, type Plan, formatPlan } from "../compress/plan.ts";
import { artifactsToModel, layerShapes, modelToArtifacts } from "./convert.ts";
import { prepareCompress } from "./prepare.ts";

export interface CompressResult {
  /** A new stock tfjs LayersModel (the input model is not modified). */
  model: tfl.LayersModel;
  plan: Plan;
  /** The plan as a printable table with totals and notes. */
  report: string;
}

/** Factorize a model's Dense / Conv2D layers into chains of stock layers. */
export async function compress(model: tfl.LayersModel, options: CompressOptions = {}): Promise<CompressResult> {
  await ready();
  const a = await modelToArtifacts(model);
  const r = compressArtifactsWith(a, layerShapes(model), await prepareCompress(model, a, options));
  return { model: await artifactsToModel(r.artifacts), plan: r.plan, report: r.report };
}

/** The plan compress() would follow, without factorizing (relative errors are spectral estimates). */
export async function planCompression(model: tfl.LayersModel, options: CompressOptions = {}): Promise<{ plan: Plan; report: string }> {
  await ready();
  const a = await modelToArtifacts(model);
  const plan = planArtifacts(a, layerShapes(model), await prepareCompress(model, a, options));
  return { plan, report: formatPlan(plan) };
}

export interface ReconstructResult {
  model: tfl.LayersModel;
  /** Chains folded back, one per original layer. */
  folded: Folded[];
  /** Chains found but left alone, with the reason. */
  notes: string[];
}

/** Fold every factorized chain (recognised by its layer names) back into one layer of the original kind. */
export async function reconstruct(model: tfl.LayersModel): Promise<ReconstructResult> {
  await ready();
  const r = reconstructArtifacts(await modelToArtifacts(model));
  return { model: await artifactsToModel(r.artifacts), folded: r.folded, notes: r.notes };
}

export type { ArtifactsResult };

/** Options of compressArtifacts(): compress()'s, plus the model already built from the artifacts, if any. */
export interface CompressArtifactsOptions extends CompressOptions {
  /**
   * The LayersModel the caller already built from these same artifacts (e.g. to check that tfjs can
   * load them): its layer shapes are read instead of building the model a second time. It is not
   * modified nor disposed. Not sent to a worker.
   */
  model?: tfl.LayersModel;
}

/** compress() on model artifacts (JSON + weight bytes, e.g. from tf.io or artifactsFromJSON) → new artifacts. */
export async function compressArtifacts(artifacts: Artifacts, options: CompressArtifactsOptions = {}): Promise<ArtifactsResult> {
  checkArtifacts(artifacts, "compressArtifacts");
  await ready();
  const { model: built, ...rest } = options;
  if (built) return compressArtifactsWith(artifacts, layerShapes(built), await prepareCompress(built, artifacts, rest));
  const model = await artifactsToModel(artifacts);
  try {
    return compressArtifactsWith(artifacts, layerShapes(model), await prepareCompress(model, artifacts, rest));
  } finally {
    model.dispose();
  }
}

/** reconstruct() on model artifacts. */
export async function reconstructModelArtifacts(artifacts: Artifacts): Promise<{ artifacts: Artifacts; folded: Folded[]; notes: string[] }> {
  checkArtifacts(artifacts, "reconstructModelArtifacts");
  await ready();
  return reconstructArtifacts(artifacts);
}
