// Fixtures for the data tests, written by the tests (no image data committed):
// seeded RGB images, PNG/JPEG class folders (fast-png's and jpeg-js's encoders),
// and .npy/.npz bytes from a small NumPy-format writer + fflate's zipSync.
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { zipSync } from "fflate";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../../src/data/random.ts";

export function tempDir(prefix = "odecomp-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A smooth seeded RGB image (smooth so JPEG round-trips closely). */
export function rgbImage(h: number, w: number, seed: number, channels = 3): Uint8Array {
  const r = seededRandom(seed);
  const a = Array.from({ length: channels }, () => [r() * 200 + 20, r() * 0.4, r() * 0.4, r() * 6]);
  const out = new Uint8Array(h * w * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) {
    const [base, fy, fx, ph] = a[c];
    out[(y * w + x) * channels + c] = Math.max(0, Math.min(255, Math.round(base + 30 * Math.sin(fy * y + fx * x + ph))));
  }
  return out;
}

export function pngBytes(data: Uint8Array | Uint16Array, h: number, w: number, channels: number, depth: 8 | 16 = 8): Uint8Array {
  return encodePng({ width: w, height: h, data, channels, depth });
}

export function jpegBytes(rgb: Uint8Array, h: number, w: number, quality = 95): Uint8Array {
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) { rgba[4 * i] = rgb[3 * i]; rgba[4 * i + 1] = rgb[3 * i + 1]; rgba[4 * i + 2] = rgb[3 * i + 2]; rgba[4 * i + 3] = 255; }
  return new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, quality).data);
}

export function writeFile(root: string, rel: string, bytes: Uint8Array | string): string {
  const p = join(root, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

/**
 * A labeled RGB folder: classes "cat" (PNGs) and "dog" (JPEGs), `n` each, h×w.
 * Returns the source pixels by relative path.
 */
export function writeClassFolder(root: string, n: number, h = 12, w = 10, prefix = ""): Map<string, Uint8Array> {
  const src = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const a = rgbImage(h, w, 100 + i), b = rgbImage(h, w, 500 + i);
    const pa = `${prefix}cat/img${String(i).padStart(3, "0")}.png`, pb = `${prefix}dog/img${String(i).padStart(3, "0")}.jpg`;
    writeFile(root, pa, pngBytes(a, h, w, 3)); src.set(pa, a);
    writeFile(root, pb, jpegBytes(b, h, w)); src.set(pb, b);
  }
  return src;
}

// ---- NumPy .npy writer (format 1.0) and .npz (zip of .npy)
export type NpyDtype = "|u1" | "<f4" | "<f8" | "<i8" | "<i4" | "|i1" | "<u2" | "|O";
export function npyBytes(dtype: NpyDtype, shape: number[], values: ArrayLike<number>, fortran = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const size = dtype === "|u1" || dtype === "|i1" ? 1 : dtype === "<u2" ? 2 : dtype === "<f4" || dtype === "<i4" ? 4 : 8;
  const n = values.length;
  const out = new Uint8Array(10 + header.length + n * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dv = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (dtype === "|u1") dv.setUint8(i, v); else if (dtype === "|i1") dv.setInt8(i, v);
    else if (dtype === "<u2") dv.setUint16(2 * i, v, true);
    else if (dtype === "<f4") dv.setFloat32(4 * i, v, true); else if (dtype === "<i4") dv.setInt32(4 * i, v, true);
    else if (dtype === "<f8") dv.setFloat64(8 * i, v, true); else dv.setBigInt64(8 * i, BigInt(v), true);
  }
  return out;
}

/**
 * A NumPy string array as np.save writes it, built by hand (no Python at test time): '<U…' / '>U…' hold
 * NUL-padded UTF-32 code points of the longest element's width, '|S…' NUL-padded bytes.
 */
export function npyStrings(kind: "<U" | ">U" | "|S", values: string[], shape: number[] = [values.length]): Uint8Array {
  const enc = new TextEncoder();
  const units = values.map((v) => (kind === "|S" ? Array.from(enc.encode(v)) : Array.from(v, (ch) => ch.codePointAt(0)!)));
  const width = Math.max(1, ...units.map((u) => u.length));
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${kind}${width}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const item = kind === "|S" ? width : 4 * width;
  const out = new Uint8Array(10 + header.length + values.length * item);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dv = new DataView(out.buffer, 10 + header.length);
  units.forEach((u, i) => u.forEach((c, j) => (kind === "|S" ? dv.setUint8(i * item + j, c) : dv.setUint32(i * item + 4 * j, c, kind === "<U"))));
  return out;
}

export function npzBytes(arrays: Record<string, Uint8Array>, compress = true): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(arrays)) files[`${k}.npy`] = v;
  return zipSync(files, { level: compress ? 6 : 0 });
}
