// PNG and JPEG bytes → interleaved uint8 gray or RGB.
//
// Decoders: fast-png (PNG) and jpeg-js (baseline + progressive JPEG), both pure
// JavaScript. Chosen because they need no native build (sharp/canvas pull in
// libvips/Cairo binaries per platform), run unchanged in Node, Deno, browsers
// and workers (no DOM canvas, no Buffer on our code path), and are maintained
// (fast-png by the image-js team; jpeg-js is the decoder behind Jimp). Measured
// speed on 32×32 images is in bench/data.bench.ts.
//
// Conversions (what Keras' `decode_image(channels=3)` does): alpha is dropped
// (not composited), palette images are expanded, 16-bit samples keep their high
// byte, 1/2/4-bit gray is scaled to 0–255. Gray stays one channel here; the set's
// channel count is decided by the loader.
import { decode as decodePngRaw, convertIndexedToRgb, type DecodedPng } from "fast-png";
import jpeg from "jpeg-js";
import type { RawImage } from "./resize.ts";

export type ImageFormat = "png" | "jpeg";

/** The format of an image from its first bytes (not its name), or null. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return null;
}

/** File names the folder loaders pick up (case-insensitive). */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"] as const;
export function isImageName(name: string): boolean {
  const n = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => n.endsWith(e)) && !n.split("/").pop()!.startsWith(".");
}

/**
 * Decode one image. Throws a plain Error with the decoder's reason on corrupt
 * data; the loaders wrap it into an OdecompError naming the file.
 */
export function decodeImage(bytes: Uint8Array): RawImage {
  const format = sniffImage(bytes);
  if (format === "png") return fromPng(decodePngRaw(bytes));
  if (format === "jpeg") {
    // 2000 MP / 1 GB caps instead of jpeg-js' 100 MP / 512 MB defaults: large photos are allowed,
    // absurd headers (a corrupt size field) still fail fast.
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 2000, maxMemoryUsageInMB: 1024 });
    const n = img.width * img.height;
    check3(img.data.length === n * 3, `JPEG decoder returned ${img.data.length} bytes for ${img.width}×${img.height}`);
    return { data: img.data, height: img.height, width: img.width, channels: 3 };
  }
  throw new Error(`not a PNG or JPEG (first bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ") || "none: empty file"})`);
}

function check3(cond: boolean, msg: string): void { if (!cond) throw new Error(msg); }

function fromPng(png: DecodedPng): RawImage {
  const { width, height } = png;
  const n = width * height;
  let data: Uint8Array, channels: number;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png); // RGB, or RGBA when the palette has transparency
    channels = rgb.length === n * 4 ? 4 : 3;
    data = rgb;
  } else {
    channels = png.channels;
    data = to8bit(png.data, png.depth, n * channels, width * channels);
  }
  // gray, gray+alpha, RGB, RGBA → gray or RGB (alpha dropped)
  if (channels === 1 || channels === 3) return { data, height, width, channels };
  const keep = channels === 2 ? 1 : 3;
  const out = new Uint8Array(n * keep);
  for (let i = 0; i < n; i++) for (let k = 0; k < keep; k++) out[i * keep + k] = data[i * channels + k];
  return { data: out, height, width, channels: keep };
}

/** Samples of any PNG bit depth as bytes: 16-bit → high byte; 1/2/4-bit (packed rows) → scaled to 0–255. */
function to8bit(src: Uint8Array | Uint8ClampedArray | Uint16Array, depth: number, count: number, perRow: number): Uint8Array {
  if (depth === 8) return src instanceof Uint8Array ? src : new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const out = new Uint8Array(count);
  if (depth === 16) { for (let i = 0; i < count; i++) out[i] = src[i] >> 8; return out; }
  const rowBytes = Math.ceil((perRow * depth) / 8), max = (1 << depth) - 1, rows = count / perRow;
  for (let r = 0; r < rows; r++) for (let x = 0; x < perRow; x++) {
    const bit = x * depth, byte = src[r * rowBytes + (bit >> 3)];
    const v = (byte >> (8 - depth - (bit & 7))) & max;
    out[r * perRow + x] = Math.round((v * 255) / max);
  }
  return out;
}
