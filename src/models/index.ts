// odecomp/models: factorizing and reconstructing TensorFlow.js layers models.
// Depends on @tensorflow/tfjs-core and @tensorflow/tfjs-layers (kept out of the core root export).
export { compress, planCompression, reconstruct, compressArtifacts, reconstructModelArtifacts, type CompressResult, type ReconstructResult, type ArtifactsResult, type CompressArtifactsOptions } from "./compress.ts";
export { modelToArtifacts, artifactsToModel, layerShapes } from "./convert.ts";
export { fileSystem, artifactsToJSON, artifactsFromJSON, type FileSystemOptions, type ModelJSON } from "./io.ts";
export { type CompressOptions, type CompressProgress, type RankSelection, type Plan, type PlanEntry, formatPlan } from "../compress/plan.ts";
export type { Artifacts, WeightSpec } from "../compress/artifacts.ts";
export type { Folded } from "../compress/compress.ts";
export { normalizeModelJSON, type NormalizeResult } from "./keras3.ts";
export { readModelFolder, type ModelFolder } from "./files.ts";
export { quantizeArtifacts, artifactsQuantization, type QuantizeReport } from "../compress/artifacts.ts";
export { type QuantizeDtype, QUANTIZE_DTYPES } from "../compress/quantize.ts";
