import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { centerCropToAspect, convertChannels, resizeBilinear, type RawImage } from "../../src/data/resize.ts";
import { seededRandom } from "../../src/data/random.ts";

function randomImage(h: number, w: number, c: number, seed: number): RawImage {
  const r = seededRandom(seed);
  return { data: Uint8Array.from({ length: h * w * c }, () => Math.floor(r() * 256)), height: h, width: w, channels: c };
}

/** Plain scalar reference: half-pixel centres, clamped, the textbook four-weight form, unrounded. */
function reference(im: RawImage, H: number, W: number): Float64Array {
  const { data, height: h, width: w, channels: c } = im;
  const out = new Float64Array(H * W * c);
  const at = (y: number, x: number, k: number) => data[(y * w + x) * c + k];
  for (let Y = 0; Y < H; Y++) for (let X = 0; X < W; X++) {
    const sy = Math.min(Math.max((Y + 0.5) * (h / H) - 0.5, 0), h - 1), sx = Math.min(Math.max((X + 0.5) * (w / W) - 0.5, 0), w - 1);
    const y0 = Math.floor(sy), x0 = Math.floor(sx), y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
    const wy = sy - y0, wx = sx - x0;
    for (let k = 0; k < c; k++) {
      out[(Y * W + X) * c + k] = (1 - wy) * (1 - wx) * at(y0, x0, k) + (1 - wy) * wx * at(y0, x1, k) + wy * (1 - wx) * at(y1, x0, k) + wy * wx * at(y1, x1, k);
    }
  }
  return out;
}

describe("resizeBilinear (half-pixel centres)", () => {
  const cases: [number, number, number, number, number][] = [
    [28, 28, 32, 32, 1], [32, 32, 28, 28, 3], [17, 5, 64, 129, 3], [1, 9, 4, 3, 1], [9, 1, 3, 4, 3], [5, 3, 1, 1, 3], [129, 64, 17, 5, 1], [3, 4, 5, 17, 3],
  ];
  it.each(cases)("%i×%i → %i×%i (C=%i) is the scalar reference rounded", (h, w, H, W, c) => {
    const im = randomImage(h, w, c, h * 1000 + W);
    const got = resizeBilinear(im, H, W);
    const ref = reference(im, H, W);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(got.length).toBe(H * W * c);
  });
  it("matches tfjs resizeBilinear(halfPixelCenters = true) to rounding", () => {
    for (const [h, w, H, W] of [[28, 28, 32, 32], [40, 30, 32, 32], [7, 13, 20, 5]]) {
      const im = randomImage(h, w, 3, H + w);
      const t = tf.tensor4d(Float32Array.from(im.data), [1, h, w, 3]);
      const r = tf.image.resizeBilinear(t, [H, W], false, true);
      const ref = r.dataSync();
      t.dispose(); r.dispose();
      const got = resizeBilinear(im, H, W);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
    }
  });
  it("is the identity at the same size, and keeps a constant image constant", () => {
    const im = randomImage(13, 7, 3, 5);
    expect(Array.from(resizeBilinear(im, 13, 7))).toEqual(Array.from(im.data));
    const flat = { data: new Uint8Array(6 * 4 * 3).fill(77), height: 6, width: 4, channels: 3 };
    expect(new Set(resizeBilinear(flat, 11, 3))).toEqual(new Set([77]));
  });
  it("rejects a bad target size", () => {
    expect(() => resizeBilinear(randomImage(2, 2, 1, 1), 0, 3)).toThrow(/target size 0×3; expected positive integers/);
  });
});

describe("centerCropToAspect and channel conversion", () => {
  it("crops the centered window of the target aspect", () => {
    const im = { data: Uint8Array.from({ length: 4 * 8 }, (_, i) => i), height: 4, width: 8, channels: 1 };
    const c = centerCropToAspect(im, 10, 10);
    expect([c.height, c.width]).toEqual([4, 4]);
    expect(Array.from(c.data.subarray(0, 4))).toEqual([2, 3, 4, 5]);
    expect(centerCropToAspect(im, 2, 4)).toBe(im);
    const tall = centerCropToAspect({ ...im, height: 8, width: 4 }, 1, 2);
    expect([tall.height, tall.width]).toEqual([2, 4]);
    expect(tall.data[0]).toBe(12);
  });
  it("replicates gray to RGB and weights RGB to gray like tf.image.rgb_to_grayscale", () => {
    const g = { data: new Uint8Array([0, 100, 255]), height: 1, width: 3, channels: 1 };
    expect(Array.from(convertChannels(g, 3).data)).toEqual([0, 0, 0, 100, 100, 100, 255, 255, 255]);
    const rgb = { data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10]), height: 2, width: 2, channels: 3 };
    expect(Array.from(convertChannels(rgb, 1).data)).toEqual([76, 150, 29, 10]);
  });
});
