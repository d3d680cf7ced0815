// Image folders, runtime-neutral: the Keras `image_dataset_from_directory` /
// torchvision `ImageFolder` layout over a list of entries (relative path + a
// way to read the bytes), so the Node/Deno walker (src/data/node.ts) and the
// browser's File lists (src/data/files.ts) share every rule:
//
//   root/<class>/**/*.{png,jpg,jpeg}                 labeled, seeded stratified split (valSplit)
//   root/train/<class>/…  +  root/test|val|validation/<class>/…   labeled, split by folder
//   root/*.{png,jpg,jpeg}  (or root/train/*.png …)    unlabeled (distillation)
//
// Classes are the class folder names sorted by code point (Python's sorted(), as
// Keras does), so label k means the same folder in every runtime. Files are
// visited in sorted order; hidden files and non-images are ignored (counted).
// Every image is decoded (src/data/decode.ts), optionally center-cropped to the
// target aspect ratio, converted to the set's channels and resized (bilinear,
// src/data/resize.ts) into one NHWC byte buffer per split.
import { check, fail } from "../core/errors.ts";
import { labelArray, type Dataset, type ImageSet, encodeDataset, decodeDataset } from "./dataset.ts";
import { decodeImage, isImageName } from "./decode.ts";
import { hashString } from "./hash.ts";
import { seededRandom } from "./random.ts";
import type { LoadReport, SkippedImage } from "./report.ts";
import { centerCropToAspect, convertChannels, resizeBilinear } from "./resize.ts";

/** One file under the folder: its path relative to the root ('/'-separated) and how to read it. */
export interface FolderEntry {
  path: string;
  /** A directory (so that an empty class folder is seen); it is never read. */
  dir?: boolean;
  /** Size in bytes and modification time (ms), for the cache key; omit when unknown. */
  size?: number;
  mtime?: number;
  read(): Promise<Uint8Array>;
}

/** Where decoded folders are kept between runs (a directory in Node/Deno, anything in a browser). */
export interface DataCache {
  get(key: string): Promise<Uint8Array | null>;
  set(key: string, bytes: Uint8Array): Promise<void>;
}

export interface ImageFolderOptions {
  /** Target size [height, width]; default: the size of the first image (in sorted order). */
  size?: [number, number];
  /** "center": crop the largest centered window of the target aspect ratio before resizing; default "none" (stretch). */
  crop?: "center" | "none";
  /** 1 (gray) or 3 (RGB); default: that of the first image (gray PNGs give 1, everything else 3). */
  channels?: 1 | 3;
  /** Fraction of each class held out as the test set when there are no train/ and test/ folders (default 0.1). */
  valSplit?: number;
  /** Seed of that split (default 0). */
  seed?: number;
  /** Skip images that fail to decode (listed in the report) instead of failing. */
  skipBadImages?: boolean;
  /** Cache of decoded sets; omit for none. */
  cache?: DataCache;
  /** Called after each decoded image. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Data set name (default "folder"). */
  name?: string;
}

const where = "data";
const SPLIT_TEST = ["test", "val", "validation"];

interface Planned { split: 0 | 1; label: number; entry: FolderEntry }

/** Decide the layout, classes and split of a folder's entries (no decoding). */
export function planFolder(entries: FolderEntry[], label: string, options: ImageFolderOptions = {}): {
  items: Planned[]; classNames: string[] | null; split: "folders" | "seeded"; ignored: number;
} {
  const valSplit = options.valSplit ?? 0.1, seed = options.seed ?? 0;
  check(Number.isFinite(valSplit) && valSplit >= 0 && valSplit < 1, where, () => `valSplit = ${valSplit}; expected a number in [0, 1)`);
  const dirEntries = entries.filter((e) => e.dir).map((e) => e.path.split("/").filter((p) => p !== "" && p !== "."));
  const files = entries.filter((e) => !e.dir).map((e) => ({ e, parts: e.path.split("/").filter((p) => p !== "" && p !== ".") }))
    .filter(({ parts }) => parts.length > 0 && !parts.some((p) => p.startsWith(".")))
    .sort((a, b) => (a.parts.join("/") < b.parts.join("/") ? -1 : a.parts.join("/") > b.parts.join("/") ? 1 : 0));
  const images = files.filter(({ e }) => isImageName(e.path));
  check(images.length > 0, where, () => `${label} has no PNG or JPEG images (looked for *.png, *.jpg, *.jpeg in it and its class folders)`);
  const top = new Set([...files.filter((f) => f.parts.length > 1).map((f) => f.parts[0]), ...dirEntries.map((d) => d[0])]);
  const testDir = top.has("train") ? SPLIT_TEST.find((d) => top.has(d)) : undefined;

  // one root (the whole folder, or train/ or test/) → its images by class folder, or unlabeled
  const group = (rootParts: string[]) => {
    const inside = images.filter((f) => rootParts.every((p, i) => f.parts[i] === p) && f.parts.length > rootParts.length);
    const direct = inside.filter((f) => f.parts.length === rootParts.length + 1);
    const nested = inside.filter((f) => f.parts.length > rootParts.length + 1);
    const under = (parts: string[], depth: number) => rootParts.every((p, i) => parts[i] === p) && parts.length > depth && !parts[rootParts.length].startsWith(".");
    const dirs = [...new Set([
      ...files.filter((f) => under(f.parts, rootParts.length + 1)).map((f) => f.parts[rootParts.length]),
      ...dirEntries.filter((d) => under(d, rootParts.length)).map((d) => d[rootParts.length]),
    ])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { direct, nested, dirs };
  };
  const name = (parts: string[]) => parts.length ? `${label}/${parts.join("/")}` : label;

  const classFolders = (rootParts: string[], classNames: string[] | null): { byClass: FolderEntry[][] | null; names: string[] | null; loose: FolderEntry[] } => {
    const g = group(rootParts);
    if (g.nested.length === 0 && (g.direct.length > 0 || g.dirs.length === 0)) return { byClass: null, names: null, loose: g.direct.map((f) => f.e) };
    // labeled: every subfolder is a class; loose images beside them are ignored (as Keras does)
    const names = classNames ?? g.dirs;
    for (const d of g.dirs) check(names.includes(d), where, () => `${name([...rootParts, d])} is a class folder that ${name(["train"])} does not have; expected the same classes as train/ (${names.join(", ")})`);
    const byClass = names.map((c) => g.nested.filter((f) => f.parts[rootParts.length] === c).map((f) => f.e));
    if (!classNames) byClass.forEach((list, k) => check(list.length > 0, where, () => `class folder ${name([...rootParts, names[k]])} has no PNG or JPEG images; expected at least one (or remove the folder)`));
    return { byClass, names, loose: [] };
  };

  const items: Planned[] = [];
  if (testDir) {
    const tr = classFolders(["train"], null);
    const te = classFolders([testDir], tr.names);
    check(te.byClass ? te.byClass.some((l) => l.length) : te.loose.length > 0, where, () => `${label}/${testDir} has no PNG or JPEG images; expected the held-out images there (or remove it for a seeded split)`);
    check((tr.byClass === null) === (te.byClass === null), where, () => `${label}/train and ${label}/${testDir} differ: one has class folders and the other images only; expected the same layout`);
    if (tr.byClass) {
      tr.byClass.forEach((l, k) => l.forEach((entry) => items.push({ split: 0, label: k, entry })));
      te.byClass!.forEach((l, k) => l.forEach((entry) => items.push({ split: 1, label: k, entry })));
    } else {
      tr.loose.forEach((entry) => items.push({ split: 0, label: -1, entry }));
      te.loose.forEach((entry) => items.push({ split: 1, label: -1, entry }));
    }
    check(tr.byClass ? tr.byClass.some((l) => l.length) : tr.loose.length > 0, where, () => `${label}/train has no PNG or JPEG images`);
    return { items, classNames: tr.names, split: "folders", ignored: files.length - items.length };
  }
  const all = classFolders([], null);
  check(all.byClass || all.loose.length > 0, where, () => `${label} has no PNG or JPEG images`);
  const lists = all.byClass ?? [all.loose];
  lists.forEach((list, k) => {
    const n = list.length;
    const nTest = Math.min(n - 1, Math.round(n * valSplit));
    const order = Array.from({ length: n }, (_, i) => i);
    const rand = seededRandom((Math.imul(seed, 0x9e3779b1) + Math.imul(k + 1, 0x85ebca6b)) >>> 0);
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); const t = order[i]; order[i] = order[j]; order[j] = t; }
    const isTest = new Uint8Array(n);
    for (let i = 0; i < nTest; i++) isTest[order[i]] = 1;
    // file order is kept inside each split, so the split alone decides membership
    list.forEach((entry, i) => items.push({ split: isTest[i] as 0 | 1, label: all.byClass ? k : -1, entry }));
  });
  return { items, classNames: all.names, split: "seeded", ignored: files.length - items.length };
}

/** The cache key of a folder load: file list with sizes and mtimes, and every option that changes the bytes. */
export function folderCacheKey(entries: FolderEntry[], options: ImageFolderOptions, label = ""): string {
  const list = entries.map((e) => `${e.path}\u0000${e.size ?? ""}\u0000${e.mtime ?? ""}`).sort().join("\n");
  const opts = JSON.stringify({ v: 2, size: options.size ?? null, crop: options.crop ?? "none", channels: options.channels ?? null,
    valSplit: options.valSplit ?? 0.1, seed: options.seed ?? 0, skip: !!options.skipBadImages, name: options.name ?? "folder" });
  // the label (the folder's path) is part of the key: a copy elsewhere must not report the other copy's paths
  return hashString(`${opts}\n${label}\n${list}`);
}

/**
 * Load an image folder given as entries. `label` names the folder in messages
 * (its path, or the picked folder's name in a browser). Nothing is cached when it fails.
 */
export async function loadFolderEntries(entries: FolderEntry[], label: string, options: ImageFolderOptions = {}, source: "folder" | "files" = "folder"): Promise<{ dataset: Dataset; report: LoadReport }> {
  const t0 = performance.now();
  if (options.size) {
    const [h, w] = options.size;
    check(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1, where, () => `size = ${JSON.stringify(options.size)}; expected [height, width] positive integers`);
  }
  check(options.channels === undefined || options.channels === 1 || options.channels === 3, where, () => `channels = ${options.channels}; expected 1 or 3`);
  check(options.crop === undefined || options.crop === "center" || options.crop === "none", where, () => `crop = '${options.crop}'; expected 'center' or 'none'`);
  const plan = planFolder(entries, label, options);
  const key = folderCacheKey(entries, options, label);
  if (options.cache) {
    const bytes = await options.cache.get(key).catch(() => null);
    if (bytes) {
      try {
        const c = decodeDataset(bytes);
        if (c.key === key) {
          const report = { ...(c.info as LoadReport), cacheHit: true, ms: performance.now() - t0 };
          return { dataset: c.dataset, report };
        }
      } catch { /* stale or damaged cache: decode again */ }
    }
  }

  const total = plan.items.length;
  const counts = [0, 0];
  for (const it of plan.items) counts[it.split]++;
  let H = options.size?.[0] ?? 0, W = options.size?.[1] ?? 0, C = options.channels ?? 0;
  const bufs: (Uint8Array | null)[] = [null, null];
  const classes = plan.classNames?.length ?? 0;
  const labels = plan.classNames ? [labelArray(counts[0], classes), labelArray(counts[1], classes)] : [null, null];
  const filled = [0, 0];
  const skipped: SkippedImage[] = [];
  const sizes: Record<string, number> = {};
  let resized = 0;

  // reads run a few files ahead of decoding so disk (or Blob) latency overlaps the CPU work
  const AHEAD = 16;
  const reads: (Promise<Uint8Array> | undefined)[] = new Array(total);
  const start = (i: number) => { if (i < total && !reads[i]) reads[i] = plan.items[i].entry.read(); reads[i]?.catch(() => {}); };
  for (let i = 0; i < Math.min(AHEAD, total); i++) start(i);
  for (let i = 0; i < total; i++) {
    start(i + AHEAD);
    const it = plan.items[i];
    const path = `${label}/${it.entry.path}`;
    let bytes: Uint8Array;
    try { bytes = await reads[i]!; } catch (e) { return fail(where, `cannot read ${path} (${(e as Error).message})`); }
    reads[i] = undefined;
    let img;
    try {
      img = decodeImage(bytes);
      if (!(img.width >= 1 && img.height >= 1)) throw new Error(`image is ${img.width}×${img.height}`);
    } catch (e) {
      const reason = (e as Error).message;
      if (!options.skipBadImages) return fail(where, `cannot decode ${path}: ${reason}; expected a valid PNG or JPEG (skipBadImages / --skip-bad-images skips such files)`);
      skipped.push({ path, reason });
      options.onProgress?.({ done: i + 1, total });
      continue;
    }
    const sz = `${img.height}×${img.width}`;
    sizes[sz] = (sizes[sz] ?? 0) + 1;
    if (!H) { H = img.height; W = img.width; }
    if (!C) C = img.channels === 1 ? 1 : 3;
    if (!bufs[it.split]) { bufs[0] = new Uint8Array(counts[0] * H * W * C); bufs[1] = new Uint8Array(counts[1] * H * W * C); }
    if (img.height !== H || img.width !== W) resized++;
    let im = convertChannels(img, C);
    if (options.crop === "center") im = centerCropToAspect(im, H, W);
    const s = it.split, at = filled[s]++;
    resizeBilinear(im, H, W, bufs[s]!.subarray(at * H * W * C, (at + 1) * H * W * C));
    if (labels[s]) labels[s]![at] = it.label;
    options.onProgress?.({ done: i + 1, total });
  }
  check(filled[0] > 0, where, () => `${label}: every training image failed to decode (${skipped.length} skipped, first: ${skipped[0]?.path}: ${skipped[0]?.reason})`);
  const px = H * W * C;
  const set = (s: 0 | 1): ImageSet => ({
    images: filled[s] === counts[s] ? bufs[s]! : bufs[s]!.slice(0, filled[s] * px),
    labels: labels[s] ? (filled[s] === counts[s] ? labels[s] : labels[s]!.slice(0, filled[s])) : null,
    count: filled[s], height: H, width: W, channels: C, classes,
    ...(plan.classNames ? { classNames: plan.classNames } : {}),
  });
  const dataset: Dataset = { name: options.name ?? "folder", train: set(0), test: set(1) };
  const report: LoadReport = {
    source, split: plan.split, labeled: !!plan.classNames, counts: { train: filled[0], test: filled[1] }, classes,
    ...(plan.classNames ? { classNames: plan.classNames } : {}), height: H, width: W, channels: C,
    skipped, resized, sizes, ignored: plan.ignored, cacheHit: false, ms: performance.now() - t0,
  };
  if (options.cache) await options.cache.set(key, encodeDataset(dataset, key, { ...report, ms: 0 })).catch(() => {});
  report.ms = performance.now() - t0;
  return { dataset, report };
}
