// Bilinear resize and center crop of interleaved uint8 images (H×W×C).
//
// Convention: half-pixel centres (source coordinate = (dst + 0.5)·in/out − 0.5,
// clamped to the edge), no antialiasing, results rounded to the nearest byte.
// That is TF2 `tf.image.resize(..., "bilinear")` (= tfjs
// `resizeBilinear(x, size, false, true)`), which is what Keras
// `image_dataset_from_directory` uses, so a model trained in Keras on a folder
// sees the same pixels here. (tfjs' default halfPixelCenters=false shifts the
// image by half a source pixel when downsampling, hence not chosen.)
// At the same size it is the identity; the result is stated to equal a scalar
// reference in test/data/resize.test.ts.
import { check } from "../core/errors.ts";

export interface RawImage {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** The largest centered window of `image` with the aspect ratio outH:outW (Keras `crop_to_aspect_ratio`). */
export function centerCropToAspect(image: RawImage, outH: number, outW: number): RawImage {
  const { height: h, width: w, channels: c } = image;
  // the window is h×(h·outW/outH) or (w·outH/outW)×w, whichever fits
  let ch = h, cw = Math.round((h * outW) / outH);
  if (cw > w) { cw = w; ch = Math.round((w * outH) / outW); }
  if (ch === h && cw === w) return image;
  const y0 = (h - ch) >> 1, x0 = (w - cw) >> 1;
  const data = new Uint8Array(ch * cw * c);
  for (let y = 0; y < ch; y++) data.set(image.data.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + cw) * c), y * cw * c);
  return { data, height: ch, width: cw, channels: c };
}

/** Bilinear resize (half-pixel centres) into `out` (outH·outW·C bytes, allocated when omitted). */
export function resizeBilinear(image: RawImage, outH: number, outW: number, out?: Uint8Array): Uint8Array {
  const { data, height: h, width: w, channels: c } = image;
  check(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1, "resize", () => `target size ${outH}×${outW}; expected positive integers`);
  const dst = out ?? new Uint8Array(outH * outW * c);
  if (h === outH && w === outW) { dst.set(data.subarray(0, h * w * c)); return dst; }
  // per output column: the two source columns and the weight of the right one (computed once)
  const x0s = new Int32Array(outW), x1s = new Int32Array(outW), fx = new Float64Array(outW);
  const sx = w / outW, sy = h / outH;
  for (let x = 0; x < outW; x++) {
    const s = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
    const i = Math.floor(s);
    x0s[x] = i * c; x1s[x] = Math.min(i + 1, w - 1) * c; fx[x] = s - i;
  }
  for (let y = 0; y < outH; y++) {
    const s = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const i = Math.floor(s), wy = s - i;
    const r0 = i * w * c, r1 = Math.min(i + 1, h - 1) * w * c;
    let o = y * outW * c;
    for (let x = 0; x < outW; x++) {
      const a = x0s[x], b = x1s[x], wx = fx[x];
      for (let k = 0; k < c; k++) {
        const top = data[r0 + a + k] + (data[r0 + b + k] - data[r0 + a + k]) * wx;
        const bot = data[r1 + a + k] + (data[r1 + b + k] - data[r1 + a + k]) * wx;
        dst[o++] = Math.round(top + (bot - top) * wy);
      }
    }
  }
  return dst;
}

/** Converts between 1 and 3 channels: gray → RGB replicates, RGB → gray uses tf.image.rgb_to_grayscale's weights. */
export function convertChannels(image: RawImage, channels: number): RawImage {
  if (image.channels === channels) return image;
  const n = image.height * image.width, src = image.data;
  const data = new Uint8Array(n * channels);
  if (image.channels === 1 && channels === 3) {
    for (let i = 0; i < n; i++) { const v = src[i]; data[3 * i] = v; data[3 * i + 1] = v; data[3 * i + 2] = v; }
  } else if (image.channels === 3 && channels === 1) {
    for (let i = 0; i < n; i++) data[i] = Math.round(0.2989 * src[3 * i] + 0.587 * src[3 * i + 1] + 0.114 * src[3 * i + 2]);
  } else check(false, "channels", () => `cannot convert ${image.channels} to ${channels} channels; expected 1 or 3`);
  return { data, height: image.height, width: image.width, channels };
}
