// Reading the model folders people actually have (Node and Deno, via node:fs):
// model.json from tfjs `model.save` or from the tensorflowjs converter (Keras 2
// or Keras 3, normalised by ./keras3.ts), weight shards named with or without
// a `.bin` suffix, and clear errors for a missing or malformed model.json and
// for missing or truncated shards.
import { fail } from "../core/errors.ts";
import type { Artifacts } from "../compress/artifacts.ts";
import { artifactsFromJSON, type ModelJSON } from "./io.ts";
import { normalizeModelJSON } from "./keras3.ts";

export interface ModelFolder {
  /** Path of the model.json read. */
  file: string;
  /** Its folder. */
  dir: string;
  /** Weight shard files actually read, in manifest order. */
  shards: string[];
  /** Model artifacts (normalised topology + all weight bytes). */
  artifacts: Artifacts;
  /** The normalised model.json object. */
  modelJSON: ModelJSON;
  /** Keras 3 normalisations applied (empty for tfjs / Keras 2 input). */
  changes: string[];
}

const WHERE = "readModel";
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int16: 2, int8: 1 };

/** Read `path` (a model.json file or the folder holding one) and its weight shards. */
export async function readModelFolder(path: string): Promise<ModelFolder> {
  if (typeof path !== "string" || path.length === 0) fail(WHERE, `path is ${JSON.stringify(path)}; expected a model.json file or its folder`);
  const fs = await import("node:fs/promises");
  const p = await import("node:path");
  let file = path;
  const st = await fs.stat(path).catch(() => null);
  if (st?.isDirectory()) file = p.join(path, "model.json");
  else if (!st) fail(WHERE, `${path} does not exist; expected a model.json file or its folder`);
  const dir = p.dirname(file);
  const text = await fs.readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => fail(WHERE, `cannot read ${file} (${e.code ?? e.message}); expected a tfjs model.json`));
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { fail(WHERE, `${file} is not valid JSON (${(e as Error).message}); expected a tfjs model.json`); }
  const { modelJSON, changes } = normalizeModelJSON(raw);
  const j = modelJSON as ModelJSON;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || j.modelTopology === undefined) fail(WHERE, `${file} has no modelTopology; expected a tfjs layers model.json (from model.save or the tensorflowjs converter)`);
  if (j.format === "graph-model" || (typeof j.modelTopology === "object" && j.modelTopology !== null && "node" in (j.modelTopology as object))) {
    fail(WHERE, `${file} is a tfjs graph model; expected a layers model (convert Keras models with --output_format=tfjs_layers_model)`);
  }
  if (!Array.isArray(j.weightsManifest)) fail(WHERE, `${file} has no weightsManifest array; expected the weights manifest of a tfjs layers model`);
  const shards: string[] = [];
  const parts: Uint8Array[] = [];
  for (const g of j.weightsManifest) {
    if (!Array.isArray(g?.paths) || !Array.isArray(g?.weights)) fail(WHERE, `${file}: a weightsManifest group has no paths/weights arrays; expected { paths: [...], weights: [...] }`);
    for (const name of g.paths) {
      const tries = [name, name.endsWith(".bin") ? name.slice(0, -4) : `${name}.bin`].map((n) => p.join(dir, n));
      let bytes: Uint8Array | null = null;
      for (const t of tries) {
        try { bytes = new Uint8Array(await fs.readFile(t)); shards.push(t); break; } catch { /* next */ }
      }
      if (!bytes) fail(WHERE, `weight shard '${name}' listed in ${file} is missing (looked for ${tries.join(" and ")})`);
      parts.push(bytes);
    }
  }
  const have = parts.reduce((s, b) => s + b.byteLength, 0);
  const specs = j.weightsManifest.flatMap((g) => g.weights);
  for (const w of specs) if (!(w.dtype in BYTES)) fail(WHERE, `weight '${w.name}' has dtype '${w.dtype}'; expected one of ${Object.keys(BYTES).join(", ")}`);
  const need = specs.reduce((s, w) => s + BYTES[w.dtype] * w.shape.reduce((a, b) => a * b, 1), 0);
  if (have !== need) {
    fail(WHERE, `the weight shards of ${file} hold ${have} bytes but its manifest needs ${need}: ${have < need ? "a shard is truncated" : "a shard has extra bytes"} (${shards.join(", ")})`);
  }
  const all = new Uint8Array(have);
  let o = 0;
  for (const b of parts) { all.set(b, o); o += b.byteLength; }
  return { file, dir, shards, artifacts: artifactsFromJSON(j, all.buffer), modelJSON: j, changes };
}
