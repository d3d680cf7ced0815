// Reading the model folders people actually have (Node and Deno, via node:fs):
// model.json from tfjs `model.save` or from the tensorflowjs converter (Keras 2
// or Keras 3, normalised by ./keras3.ts), weight shards named with or without
// a `.bin` suffix, and clear errors for a missing or malformed model.json and
// for missing or truncated shards.
import { fail } from "../core/errors.ts";
import { type Artifacts, relabelFloat16, specSize } from "../compress/artifacts.ts";
import { quantizationOf, storedBytes } from "../compress/quantize.ts";
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

const inside = (child: string, parent: string, sep: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * One weight shard, confined to the model folder: a manifest is data from the internet, and
 * `"../../etc/passwd"`, an absolute path or a symbolic link out of the folder must not be read.
 * Tries the listed name, then the name with `.bin` added or removed.
 */
async function readShard(fs: typeof import("node:fs/promises"), p: typeof import("node:path"), file: string, root: string, realRoot: string, name: unknown): Promise<{ path: string; bytes: Uint8Array }> {
  if (typeof name !== "string" || name.length === 0) fail(WHERE, `a weight shard path in ${file} is ${JSON.stringify(name)}; expected a file name inside the model folder`);
  if (p.isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name) || name.startsWith("\\")) fail(WHERE, `weight shard path '${name}' in ${file} is absolute; expected a file name inside the model folder ${root}`);
  if (name.includes("\0")) fail(WHERE, `weight shard path ${JSON.stringify(name)} in ${file} contains a NUL byte; expected a file name`);
  const tries = [name, name.endsWith(".bin") ? name.slice(0, -4) : `${name}.bin`].map((n) => p.resolve(root, n));
  for (const t of tries) {
    if (!inside(t, root, p.sep)) fail(WHERE, `weight shard path '${name}' in ${file} points outside the model folder ${root} (to ${t}); expected a file inside it`);
  }
  for (const t of tries) {
    const st = await fs.stat(t).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" || e.code === "ENOTDIR" ? null : fail(WHERE, `cannot read weight shard ${t} (${e.code ?? e.message}) listed in ${file}`)));
    if (!st) continue;
    const real = await fs.realpath(t);
    if (!inside(real, realRoot, p.sep)) fail(WHERE, `weight shard '${name}' in ${file} is a link to ${real}, outside the model folder ${root}; expected a file inside it`);
    if (st.isDirectory()) fail(WHERE, `weight shard '${name}' listed in ${file} is a directory (${t}); expected a weights file`);
    if (!st.isFile()) fail(WHERE, `weight shard '${name}' listed in ${file} is not a regular file (${t}); expected a weights file`);
    try {
      return { path: t, bytes: new Uint8Array(await fs.readFile(t)) };
    } catch (e) {
      fail(WHERE, `cannot read weight shard ${t} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) listed in ${file}`);
    }
  }
  fail(WHERE, `weight shard '${name}' listed in ${file} is missing (looked for ${tries.join(" and ")})`);
}

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
  const root = p.resolve(dir);
  const realRoot = await fs.realpath(root).catch(() => root);
  for (const g of j.weightsManifest) {
    if (!Array.isArray(g?.paths) || !Array.isArray(g?.weights)) fail(WHERE, `${file}: a weightsManifest group has no paths/weights arrays; expected { paths: [...], weights: [...] }`);
    for (const name of g.paths) {
      const { path: shard, bytes } = await readShard(fs, p, file, root, realRoot, name);
      shards.push(shard);
      parts.push(bytes);
    }
  }
  const have = parts.reduce((s, b) => s + b.byteLength, 0);
  const specs = j.weightsManifest.flatMap((g) => g.weights);
  let need = 0;
  for (const w of specs) {
    const n = specSize(w, WHERE);
    quantizationOf(w, WHERE);
    const b = storedBytes(w);
    if (b === undefined) fail(WHERE, `weight '${w.name}' has dtype '${w.dtype}'; expected one of ${Object.keys(BYTES).join(", ")}`);
    need += b * n;
  }
  if (have !== need) {
    fail(WHERE, `the weight shards of ${file} hold ${have} bytes but its manifest needs ${need}: ${have < need ? "a shard is truncated" : "a shard has extra bytes"} (${shards.join(", ")})`);
  }
  const all = new Uint8Array(have);
  let o = 0;
  for (const b of parts) { all.set(b, o); o += b.byteLength; }
  // Raw float16 weights become the converter's float16-quantized form (same bytes) so stock tfjs loads them.
  for (const g of j.weightsManifest) g.weights = relabelFloat16(g.weights);
  return { file, dir, shards, artifacts: artifactsFromJSON(j, all.buffer), modelJSON: j, changes };
}
