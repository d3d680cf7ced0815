// NumPy arrays: `.npy` (one array) and `.npz` (a zip of .npy, as `np.savez` /
// `np.savez_compressed` write it and Keras' `datasets.*.load_data()` caches are
// commonly re-saved). Runtime-neutral: bytes in, Dataset out. The zip is read by
// fflate (pure JS, small, already used by fast-png), which handles both stored
// and deflated members.
//
// Accepted: images uint8 (or any int/float dtype holding 0–255, or floats in
// [0, 1] — detected from the maximum, stated in the report) shaped NHWC with
// C = 1 or 3 (4: alpha dropped) or NHW (gray); labels of any integer dtype,
// shaped (N,) or (N, 1). Keys: x/y (split by valSplit, seeded, stratified) or
// x_train/y_train/x_test/y_test; without a y key the set is unlabeled. Class
// names: an optional 1-D string array 'class_names' (or 'classes' when that
// holds strings), as `np.array(names)` saves it — unicode '<U…' (UTF-32) or
// bytes '|S…'; it sets the class count (labels must index it). Object arrays
// (dtype=object) need pickle and are refused, with that hint. A lone .npy holds
// one array, so it loads as unlabeled images (labels and names need an .npz).
import { unzipSync } from "fflate";
import { check, fail } from "../core/errors.ts";
import { labelArray, type Dataset, type ImageSet } from "./dataset.ts";
import type { LoadReport } from "./report.ts";
import { resizeBilinear, centerCropToAspect } from "./resize.ts";
import { seededRandom } from "./random.ts";

export interface NpyArray {
  dtype: string;
  shape: number[];
  /** Values as read (integers of up to 53 bits exactly; 64-bit ints beyond that lose precision); empty for strings. */
  data: ArrayLike<number>;
  /** String arrays ('<U…' unicode, '|S…' bytes): the values, trailing NULs stripped as NumPy does. */
  strings?: string[];
}

/** A '<U…' / '|S…' array's elements: fixed-width UTF-32 code points or bytes (UTF-8), NUL-padded. */
function readStrings(bytes: Uint8Array, off: number, count: number, kind: string, chars: number, little: boolean, name: string, descr: string): string[] {
  const width = kind === "U" ? 4 * chars : chars;
  check(off + count * width <= bytes.length, where, () => `${name}: data truncated: ${count} strings of '${descr}' need ${count * width} bytes, got ${bytes.length - off}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + off, count * width);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (kind === "U") {
      let n = chars;
      while (n > 0 && dv.getUint32(i * width + 4 * (n - 1), little) === 0) n--;
      const cps: number[] = [];
      for (let j = 0; j < n; j++) {
        const cp = dv.getUint32(i * width + 4 * j, little);
        check(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff), where, () => `${name}[${i}] holds code point ${cp}, which is not a Unicode scalar value; expected UTF-32 text`);
        cps.push(cp);
      }
      out.push(String.fromCodePoint(...cps));
    } else {
      let n = chars;
      while (n > 0 && bytes[off + i * width + n - 1] === 0) n--;
      try { out.push(utf8.decode(bytes.subarray(off + i * width, off + i * width + n))); } catch { fail(where, `${name}[${i}] is not UTF-8 text; expected bytes strings in UTF-8 (or save a '<U' unicode array)`); }
    }
  }
  return out;
}

const where = "data";

/** Parse one .npy file. `name` names it in errors (file or npz key). */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  check(bytes.length >= 10 && magic.every((b, i) => bytes[i] === b), where, () => `${name} is not a .npy array (no \\x93NUMPY magic)`);
  const major = bytes[6];
  check(major >= 1 && major <= 3, where, () => `${name}: .npy format version ${major}.${bytes[7]}; expected 1, 2 or 3`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  check(hstart + hlen <= bytes.length, where, () => `${name}: .npy header runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  check(descr !== undefined && fortran !== undefined && shapeText !== undefined, where, () => `${name}: cannot read the .npy header ${JSON.stringify(header.trim())}; expected a simple (non-structured) array`);
  check(fortran === "False", where, () => `${name}: Fortran-ordered array; expected C order (save np.ascontiguousarray(a))`);
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  check(shape.every((d) => Number.isInteger(d) && d >= 0), where, () => `${name}: shape (${shapeText}) is not a list of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  check(m !== null, where, () => `${name}: dtype '${descr}' is not supported; expected an integer or float array (object and structured arrays are refused; save strings as np.array(names), dtype '<U…')`);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const little = order !== ">";
  if (kind === "U" || kind === "S") return { dtype: descr, shape, data: new Float64Array(0), strings: readStrings(bytes, hstart + hlen, count, kind, size, little, name, descr) };
  const known = (kind === "u" || kind === "i") ? [1, 2, 4, 8].includes(size) : kind === "f" ? [4, 8].includes(size) : kind === "b" && size === 1;
  check(known, where, () => `${name}: dtype '${descr}' is not supported; expected uint8/int8–int64/uint16–uint64/float32/float64/bool (or '<U…'/'|S…' strings for class names)`);
  const off = hstart + hlen;
  check(off + count * size <= bytes.length, where, () => `${name}: data truncated: shape (${shape.join(", ")}) of '${descr}' needs ${count * size} bytes, got ${bytes.length - off}`);
  let data: ArrayLike<number>;
  if (size === 1) data = kind === "i" ? new Int8Array(bytes.buffer, bytes.byteOffset + off, count) : bytes.subarray(off, off + count);
  else {
    const out = new Float64Array(count);
    const d = new DataView(bytes.buffer, bytes.byteOffset + off, count * size);
    for (let i = 0; i < count; i++) {
      const o = i * size;
      out[i] = kind === "f" ? (size === 4 ? d.getFloat32(o, little) : d.getFloat64(o, little))
        : kind === "u" ? (size === 2 ? d.getUint16(o, little) : size === 4 ? d.getUint32(o, little) : Number(d.getBigUint64(o, little)))
        : (size === 2 ? d.getInt16(o, little) : size === 4 ? d.getInt32(o, little) : Number(d.getBigInt64(o, little)));
    }
    data = out;
  }
  return { dtype: descr, shape, data };
}

/** The members of an .npz (key = member name without ".npy"). */
export function parseNpz(bytes: Uint8Array, name: string): Record<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try { files = unzipSync(bytes); } catch (e) { return fail(where, `${name} is not a readable .npz (zip) file: ${(e as Error).message}`); }
  const out: Record<string, NpyArray> = {};
  for (const [member, data] of Object.entries(files)) {
    if (!member.endsWith(".npy")) continue;
    const key = member.slice(0, -4);
    out[key] = parseNpy(data, `${name}:${key}`);
  }
  check(Object.keys(out).length > 0, where, () => `${name} holds no .npy arrays`);
  return out;
}

export interface ArrayOptions {
  /** Resize to [height, width] (bilinear, as image folders); default: keep the arrays' size. */
  size?: [number, number];
  crop?: "center" | "none";
  /** For x/y files: fraction held out as the test set (default 0.1), seeded, stratified. */
  valSplit?: number;
  seed?: number;
  /** Number of classes (default max label + 1); labels must lie in 0..classes−1. */
  classes?: number;
  name?: string;
}

/** Image array → NHWC bytes with channels 1 or 3, and how float pixels were read. */
function toImageBytes(a: NpyArray, key: string): { images: Uint8Array; count: number; height: number; width: number; channels: number; pixelRange?: "0-1" | "0-255" } {
  check(a.dtype !== "|b1" && !a.strings, where, () => `${key} has dtype '${a.dtype}'; expected uint8 or float pixels`);
  const s = a.shape;
  check(s.length === 3 || s.length === 4, where, () => `${key} has shape (${s.join(", ")}); expected images as (N, H, W) or (N, H, W, C)`);
  const [n, h, w] = s, cIn = s.length === 4 ? s[3] : 1;
  check(cIn === 1 || cIn === 3 || cIn === 4, where, () => `${key} has ${cIn} channels in its last axis (shape (${s.join(", ")})); expected NHWC with C = 1, 3 or 4 (channels-first arrays: transpose to NHWC)`);
  check(n >= 1 && h >= 1 && w >= 1, where, () => `${key} has shape (${s.join(", ")}); expected at least one image`);
  const c = cIn === 4 ? 3 : cIn;
  const src = a.data, len = src.length;
  let max = -Infinity, min = Infinity;
  for (let i = 0; i < len; i++) { const v = src[i]; if (v > max) max = v; if (v < min) min = v; if (v !== v) fail(where, `${key} has a NaN pixel at flat index ${i}; expected finite values`); }
  const isFloat = a.dtype.includes("f");
  check(min >= 0 && max <= 255, where, () => `${key} pixel values span [${min}, ${max}]; expected [0, 255] (or [0, 1] floats)`);
  const pixelRange = isFloat ? (max <= 1 ? "0-1" : "0-255") : undefined;
  const scale = pixelRange === "0-1" ? 255 : 1;
  const images = new Uint8Array(n * h * w * c);
  const pxIn = h * w;
  if (src instanceof Uint8Array && cIn === c) images.set(src);
  else for (let p = 0, o = 0; p < n * pxIn; p++) for (let k = 0; k < c; k++) images[o++] = Math.round(src[p * cIn + k] * scale);
  return { images, count: n, height: h, width: w, channels: c, ...(pixelRange ? { pixelRange } : {}) };
}

function toLabels(a: NpyArray, key: string, count: number, imagesKey: string): Int32Array {
  check(/^[<>|=]?[iu]\d$/.test(a.dtype), where, () => `${key} has dtype '${a.dtype}'; expected integer class labels (int8–int64 or uint8–uint64)`);
  check(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1), where, () => `${key} has shape (${a.shape.join(", ")}); expected (N,) or (N, 1) integer labels`);
  check(a.shape[0] === count, where, () => `${key} has ${a.shape[0]} labels but ${imagesKey} has ${count} images; expected equal counts`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = a.data[i];
    check(v >= 0 && v < 2 ** 31, where, () => `${key}[${i}] = ${v}; expected a class index ≥ 0`);
    out[i] = v;
  }
  return out;
}

/** Keys that may hold the class names, in order of preference ('classes' only when it holds strings). */
const NAME_KEYS = ["class_names", "classes"] as const;

/** The class names of an .npz, or null: the key used and its strings (1-D, unique). */
function classNamesOf(arrays: Record<string, NpyArray>, label: string): { key: string; names: string[] } | null {
  const key = NAME_KEYS.find((k) => Object.hasOwn(arrays, k) && (k === "class_names" || arrays[k].strings));
  if (!key) return null;
  const a = arrays[key];
  const at = `${label}:${key}`;
  check(a.strings !== undefined, where, () => `${at} has dtype '${a.dtype}'; expected the class names as strings (dtype '<U…' or '|S…')`);
  check(a.shape.length === 1 && a.shape[0] >= 1, where, () => `${at} has shape (${a.shape.join(", ")}); expected a 1-D array of at least one class name`);
  const names = a.strings!;
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const j = seen.get(n);
    check(j === undefined, where, () => `${at}[${i}] = '${n}' repeats ${at}[${j}]; expected distinct class names`);
    seen.set(n, i);
  });
  return { key, names };
}

/** Build a Dataset from parsed arrays (keys as in an .npz; a lone .npy is passed as { x }). */
export function datasetFromArrays(arrays: Record<string, NpyArray>, label: string, options: ArrayOptions = {}, source: "npz" | "npy" = "npz"): { dataset: Dataset; report: LoadReport } {
  const t0 = performance.now();
  const keys = Object.keys(arrays);
  const has = (k: string) => Object.hasOwn(arrays, k);
  const split = has("x_train") ? "keys" as const : "seeded" as const;
  const xKeys = split === "keys" ? ["x_train", "x_test"] : ["x"];
  check(has(xKeys[0]), where, () => `${label} has arrays ${keys.map((k) => `'${k}'`).join(", ")}; expected images under 'x' (with labels 'y') or 'x_train'/'y_train' (and 'x_test'/'y_test')`);
  if (split === "keys") check(has("x_test"), where, () => `${label} has 'x_train' but no 'x_test'; expected both (or 'x' and 'y' for a seeded split)`);
  const yKey = (xk: string) => xk.replace(/^x/, "y");
  const labeled = has(yKey(xKeys[0]));
  if (split === "keys") check(has("y_test") === labeled, where, () => `${label} has ${labeled ? "'y_train' but no 'y_test'" : "'y_test' but no 'y_train'"}; expected both or neither`);
  const parts = xKeys.map((xk) => {
    const img = toImageBytes(arrays[xk], `${label}:${xk}`);
    const lab = labeled ? toLabels(arrays[yKey(xk)], `${label}:${yKey(xk)}`, img.count, xk) : null;
    return { ...img, labels: lab, key: xk };
  });
  const c0 = parts[0];
  for (const p of parts) check(p.height === c0.height && p.width === c0.width && p.channels === c0.channels, where,
    () => `${label}: ${p.key} images are ${p.height}×${p.width}×${p.channels} but ${c0.key} images are ${c0.height}×${c0.width}×${c0.channels}; expected the same size`);
  let classes = 0;
  // names only label a labeled set (an unlabeled one has no classes); they fix the class count
  const named = labeled ? classNamesOf(arrays, label) : null;
  if (labeled) {
    let max = -1;
    for (const p of parts) for (const v of p.labels!) if (v > max) max = v;
    classes = options.classes ?? named?.names.length ?? max + 1;
    check(Number.isInteger(classes) && classes >= 1, where, () => `classes = ${options.classes}; expected a positive integer`);
    if (named) check(named.names.length === classes, where, () => `classes = ${classes} but ${label}:${named.key} holds ${named.names.length} names; expected the same count`);
    for (const p of parts) {
      const k = yKey(p.key);
      const bad = p.labels!.findIndex((v) => v >= classes);
      check(bad < 0, where, () => `${label}:${k}[${bad}] = ${p.labels![bad]} is out of range; expected class indices 0..${classes - 1}${options.classes ? ` (classes = ${classes})` : named ? ` (${classes} names in '${named.key}')` : ""}`);
    }
  }
  const [H, W] = options.size ?? [c0.height, c0.width];
  const C = c0.channels;
  let resized = 0;
  const finish = (images: Uint8Array, labels: Int32Array | null, count: number, h: number, w: number): ImageSet => {
    let out = images;
    if (h !== H || w !== W) {
      out = new Uint8Array(count * H * W * C);
      for (let i = 0; i < count; i++) {
        let im = { data: images.subarray(i * h * w * C, (i + 1) * h * w * C), height: h, width: w, channels: C };
        if (options.crop === "center") im = centerCropToAspect(im, H, W);
        resizeBilinear(im, H, W, out.subarray(i * H * W * C, (i + 1) * H * W * C));
      }
      resized += count;
    }
    let lab: Uint8Array | Int32Array | null = null;
    if (labels) { lab = labelArray(count, classes); lab.set(labels); }
    return { images: out, labels: lab, count, height: H, width: W, channels: C, classes, ...(named ? { classNames: [...named.names] } : {}) };
  };
  let train: ImageSet, test: ImageSet;
  if (split === "keys") {
    train = finish(parts[0].images, parts[0].labels, parts[0].count, c0.height, c0.width);
    test = finish(parts[1].images, parts[1].labels, parts[1].count, c0.height, c0.width);
  } else {
    const valSplit = options.valSplit ?? 0.1, seed = options.seed ?? 0;
    check(Number.isFinite(valSplit) && valSplit >= 0 && valSplit < 1, where, () => `valSplit = ${valSplit}; expected a number in [0, 1)`);
    const n = c0.count, isTest = new Uint8Array(n);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) { const k = c0.labels ? c0.labels[i] : 0; if (!groups.has(k)) groups.set(k, []); groups.get(k)!.push(i); }
    for (const [k, idx] of [...groups].sort((a, b) => a[0] - b[0])) {
      const rand = seededRandom((Math.imul(seed, 0x9e3779b1) + Math.imul(k + 1, 0x85ebca6b)) >>> 0);
      for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); const t = idx[i]; idx[i] = idx[j]; idx[j] = t; }
      const nTest = Math.min(idx.length - 1, Math.round(idx.length * valSplit));
      for (let i = 0; i < nTest; i++) isTest[idx[i]] = 1;
    }
    const px = c0.height * c0.width * C;
    const pick = (t: number) => {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (isTest[i] === t) idx.push(i);
      const images = new Uint8Array(idx.length * px);
      const labels = c0.labels ? new Int32Array(idx.length) : null;
      idx.forEach((i, j) => { images.set(c0.images.subarray(i * px, (i + 1) * px), j * px); if (labels) labels[j] = c0.labels![i]; });
      return finish(images, labels, idx.length, c0.height, c0.width);
    };
    train = pick(0); test = pick(1);
  }
  const dataset: Dataset = { name: options.name ?? label.split(/[\\/]/).pop()!.replace(/\.(npz|npy)$/i, ""), train, test };
  const report: LoadReport = {
    source, path: label, split, labeled, counts: { train: train.count, test: test.count }, classes, ...(named ? { classNames: [...named.names] } : {}), height: H, width: W, channels: C,
    skipped: [], resized, sizes: { [`${c0.height}×${c0.width}`]: parts.reduce((s, p) => s + p.count, 0) }, ignored: keys.filter((k) => !xKeys.includes(k) && !(labeled && xKeys.map(yKey).includes(k)) && k !== named?.key).length,
    ...(c0.pixelRange ? { pixelRange: c0.pixelRange } : {}), cacheHit: false, ms: performance.now() - t0,
  };
  return { dataset, report };
}

/** Load an .npz (bytes) as a Dataset. */
export function loadNpzBytes(bytes: Uint8Array, label: string, options: ArrayOptions = {}): { dataset: Dataset; report: LoadReport } {
  return datasetFromArrays(parseNpz(bytes, label), label, options, "npz");
}

/** Load an .npy (bytes) of images as an unlabeled Dataset (one array: labels and class names need an .npz with 'y'). */
export function loadNpyBytes(bytes: Uint8Array, label: string, options: ArrayOptions = {}): { dataset: Dataset; report: LoadReport } {
  return datasetFromArrays({ x: parseNpy(bytes, label) }, label, options, "npy");
}
