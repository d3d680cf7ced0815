// Saving and loading without tfjs-node.
// - fileSystem(path): a tfjs IOHandler on node:fs (works in Node and in Deno, which
//   provides node:fs). Saves model.json + weights.bin, each written under a temporary
//   name and renamed into place; refuses to replace an existing model.json unless
//   { overwrite: true }. Use with model.save(handler) / tf.loadLayersModel(handler).
// - artifactsToJSON / artifactsFromJSON: model.json object + weight bytes ↔ artifacts, for
//   edge and serverless code with no file system (pair with tf.io.fromMemory).
// Browsers: IndexedDB ('indexeddb://name'), downloads ('downloads://name') and
// tf.io.browserFiles are stock tfjs and work unchanged on compressed models.
import * as tf from "@tensorflow/tfjs-core";
import { fail } from "../core/errors.ts";
import { type Artifacts, type WeightSpec, specSize } from "../compress/artifacts.ts";
import { quantizationOf, storedBytes } from "../compress/quantize.ts";

/** The model.json object tfjs writes (topology + weights manifest + metadata). */
export interface ModelJSON {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  [key: string]: unknown;
}

const META = ["format", "generatedBy", "convertedBy", "trainingConfig", "signature", "userDefinedMetadata", "modelInitializer", "initializerSignature"];

function joinBuffers(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** Artifacts → a model.json object (weights in one file named `weightsPath`) and the weight bytes. */
export function artifactsToJSON(a: Artifacts, weightsPath = "weights.bin"): { modelJSON: ModelJSON; weightData: ArrayBuffer } {
  if (a.modelTopology === undefined) fail("artifactsToJSON", "artifacts have no modelTopology; expected layers-model artifacts");
  const modelJSON: ModelJSON = { modelTopology: a.modelTopology, weightsManifest: [{ paths: [weightsPath], weights: a.weightSpecs ?? [] }] };
  for (const k of META) if (a[k] !== undefined) modelJSON[k] = a[k];
  return { modelJSON, weightData: joinBuffers(a.weightData) };
}

/**
 * A model.json object (string or parsed) and its weight bytes (all shards concatenated in manifest order) → artifacts.
 * `weightData` may be a view (a Node Buffer from the shared pool, a subarray): exactly its bytes are used.
 */
export function artifactsFromJSON(modelJSON: ModelJSON | string, weightData: ArrayBuffer | ArrayBufferView): Artifacts {
  let j: ModelJSON;
  try {
    j = (typeof modelJSON === "string" ? JSON.parse(modelJSON) : modelJSON) as ModelJSON;
  } catch (e) {
    fail("artifactsFromJSON", `modelJSON is not valid JSON (${(e as Error).message}); expected the content of a tfjs model.json`);
  }
  if (!j || typeof j !== "object" || j.modelTopology === undefined) fail("artifactsFromJSON", "modelJSON has no modelTopology; expected the content of a tfjs model.json");
  if (!Array.isArray(j.weightsManifest)) fail("artifactsFromJSON", "modelJSON has no weightsManifest array; expected the content of a tfjs model.json");
  for (const g of j.weightsManifest) if (!g || !Array.isArray(g.weights)) fail("artifactsFromJSON", "a weightsManifest group has no weights array; expected { paths: [...], weights: [...] }");
  const specs = j.weightsManifest.flatMap((g) => g.weights);
  let bytes: ArrayBuffer;
  if (ArrayBuffer.isView(weightData)) {
    const copy = new Uint8Array(weightData.byteLength);
    copy.set(new Uint8Array(weightData.buffer, weightData.byteOffset, weightData.byteLength));
    bytes = copy.buffer;
  } else if (Object.prototype.toString.call(weightData) === "[object ArrayBuffer]") bytes = weightData;
  else fail("artifactsFromJSON", `weightData is ${weightData === null ? "null" : typeof weightData}; expected an ArrayBuffer or a Uint8Array/Buffer of the weight bytes`);
  let need = 0;
  for (const w of specs) {
    const n = specSize(w, "artifactsFromJSON");
    quantizationOf(w, "artifactsFromJSON");
    const b = storedBytes(w);
    if (b === undefined) fail("artifactsFromJSON", `weight '${w.name}' has dtype '${w.dtype}'; expected float32, float16, int32 or another tfjs dtype`);
    need += b * n;
  }
  if (bytes.byteLength !== need) fail("artifactsFromJSON", `weightData has ${bytes.byteLength} bytes but the manifest's weights need ${need}; expected exactly the concatenated shards`);
  const out: Artifacts = { modelTopology: j.modelTopology, weightSpecs: specs, weightData: bytes };
  for (const k of META) if (j[k] !== undefined) out[k] = j[k];
  return out;
}

export interface FileSystemOptions {
  /** Allow save() to replace an existing model.json (default false: never overwrite). */
  overwrite?: boolean;
}

const modelFile = (path: string) => (path.endsWith(".json") ? path : `${path.replace(/\/+$/, "")}/model.json`);
const dirOf = (file: string) => (file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".");
const stripScheme = (p: string) => (p.startsWith("file://") ? p.slice("file://".length) : p);

/**
 * A tfjs IOHandler saving to / loading from `path` (a directory, saved as `path/model.json` +
 * `path/weights.bin`, or a `.json` file path). Node and Deno; no tfjs-node.
 */
export function fileSystem(path: string, options: FileSystemOptions = {}): tf.io.IOHandler {
  if (typeof path !== "string" || path.length === 0) fail("fileSystem", `path is ${JSON.stringify(path)}; expected a directory or model.json path`);
  const file = modelFile(stripScheme(path));
  const dir = dirOf(file);
  const fs = () => import("node:fs/promises");
  return {
    async save(a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const f = await fs();
      if (!options.overwrite) {
        const exists = await f.stat(file).then(() => true, () => false);
        if (exists) fail("fileSystem", `${file} already exists; refusing to overwrite (pass { overwrite: true } to replace it)`);
      }
      await f.mkdir(dir, { recursive: true });
      const base = file.slice(dir.length + 1).replace(/\.json$/, "");
      const weightsName = base === "model" ? "weights.bin" : `${base}.weights.bin`;
      const { modelJSON, weightData } = artifactsToJSON(a as Artifacts, weightsName);
      const tag = `.tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const wTmp = `${dir}/${weightsName}${tag}`, jTmp = `${file}${tag}`;
      try {
        await f.writeFile(wTmp, new Uint8Array(weightData));
        await f.writeFile(jTmp, JSON.stringify(modelJSON));
        await f.rename(wTmp, `${dir}/${weightsName}`);
        await f.rename(jTmp, file);
      } catch (e) {
        await f.rm(wTmp, { force: true });
        await f.rm(jTmp, { force: true });
        throw e;
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      // The same reader as the CLI: shard paths confined to the folder, sizes checked, quantized weights read.
      const { readModelFolder } = await import("./files.ts");
      return (await readModelFolder(file)).artifacts as tf.io.ModelArtifacts;
    },
  };
}
