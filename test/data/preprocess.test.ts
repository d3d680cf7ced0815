import { describe, expect, it } from "vitest";
import { decodeDataset, encodeDataset, gather, type Dataset, type ImageSet } from "../../src/data/dataset.ts";
import { preprocessPresets, resolvePreprocess } from "../../src/data/preprocess.ts";
import { augmentImage, resolveAugment, sampleRandom } from "../../src/data/augment.ts";

function rgbSet(count: number, h: number, w: number, labeled = true, classes = 3): ImageSet {
  const images = Uint8Array.from({ length: count * h * w * 3 }, (_, i) => (i * 7 + 3) % 256);
  const labels = labeled ? (classes <= 256 ? Uint8Array.from({ length: count }, (_, i) => i % classes) : Int32Array.from({ length: count }, (_, i) => (i * 97) % classes)) : null;
  return { images, labels, count, height: h, width: w, channels: 3, classes: labeled ? classes : 0, ...(labeled ? { classNames: Array.from({ length: classes }, (_, k) => `c${k}`) } : {}) };
}

describe("Preprocess", () => {
  it("resolves presets and values, JSON round-trip, and rejects bad ones", () => {
    expect(resolvePreprocess(undefined)).toEqual({ kind: "unit" });
    expect(resolvePreprocess("mobilenet")).toEqual({ kind: "symmetric" });
    const imagenet = resolvePreprocess("imagenet");
    expect(JSON.parse(JSON.stringify(imagenet))).toEqual(preprocessPresets.imagenet);
    expect(resolvePreprocess(JSON.parse(JSON.stringify(imagenet)))).toEqual(imagenet);
    expect(() => resolvePreprocess("caffe")).toThrow(/unknown preset 'caffe'; expected one of unit, mobilenet, imagenet/);
    expect(() => resolvePreprocess({ kind: "meanStd", mean: [0.5, 0.5], std: [1, 1] })).toThrow(/equal length 1 or 3/);
    expect(() => resolvePreprocess({ kind: "meanStd", mean: [0.5], std: [0] })).toThrow(/std\[0\] = 0; expected a positive number/);
  });
  it("gather maps bytes by each kind, per channel, NHWC", () => {
    const s = rgbSet(4, 2, 3);
    const idx = [2, 0];
    const px = 2 * 3 * 3;
    const unit = gather(s, idx).x, sym = gather(s, idx, "mobilenet").x, ms = gather(s, idx, "imagenet").x;
    const m = [0.485, 0.456, 0.406], sd = [0.229, 0.224, 0.225];
    for (let b = 0; b < 2; b++) for (let p = 0; p < px; p++) {
      const byte = s.images[idx[b] * px + p];
      expect(unit[b * px + p]).toBeCloseTo(byte / 255, 6);
      expect(sym[b * px + p]).toBeCloseTo(byte / 127.5 - 1, 6);
      expect(ms[b * px + p]).toBeCloseTo((byte / 255 - m[p % 3]) / sd[p % 3], 5);
    }
    expect(sym.some((v) => v < 0)).toBe(true);
    expect(Array.from(gather(s, idx).labels!)).toEqual([2, 0]);
    expect(gather(rgbSet(2, 2, 2, false), [1]).labels).toBeNull();
    const gray: ImageSet = { ...rgbSet(1, 2, 2), channels: 1, images: new Uint8Array([0, 255, 51, 102]) };
    expect(() => gather(gray, [0], "imagenet")).toThrow(/meanStd has 3 channel values but the data has 1 channel/);
  });
});

describe("augmentation", () => {
  const s = rgbSet(6, 8, 8);
  it("is deterministic for a seed and epoch, differs across epochs, and is off by default", () => {
    const a = gather(s, [0, 1, 2, 3, 4, 5], "unit", { seed: 1, epoch: 0 }).x;
    const b = gather(s, [0, 1, 2, 3, 4, 5], "unit", { seed: 1, epoch: 0 }).x;
    const c = gather(s, [0, 1, 2, 3, 4, 5], "unit", { seed: 1, epoch: 1 }).x;
    const plain = gather(s, [0, 1, 2, 3, 4, 5]).x;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(plain));
    // a sample's draw depends on (seed, epoch, sample), not on its position in the batch
    const px = 8 * 8 * 3;
    const single = gather(s, [4], "unit", { seed: 1, epoch: 0 }).x;
    expect(Array.from(single)).toEqual(Array.from(a.subarray(4 * px, 5 * px)));
  });
  it("crops with zero or reflect padding and flips, against a direct construction", () => {
    const h = 5, w = 6, c = 3;
    const src = Uint8Array.from({ length: h * w * c }, (_, i) => 1 + (i % 250));
    for (const padMode of ["zero", "reflect"] as const) for (let seed = 0; seed < 40; seed++) {
      const a = resolveAugment({ pad: 2, padMode }, h, w);
      const dst = new Uint8Array(src.length);
      augmentImage(src, h, w, c, dst, a, sampleRandom(seed, 0, 0));
      // replay the same draws
      const r = sampleRandom(seed, 0, 0);
      const dy = Math.floor(r() * 5) - 2, dx = Math.floor(r() * 5) - 2, flip = r() < 0.5;
      const refl = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
        const sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        const want = inside ? src[(sy * w + sx) * c + k] : padMode === "zero" ? 0 : src[(refl(sy, h) * w + refl(sx, w)) * c + k];
        expect(dst[(y * w + x) * c + k]).toBe(want);
      }
    }
    expect(() => resolveAugment({ pad: 5, padMode: "reflect" }, 5, 6)).toThrow(/reflect padding of 5 px needs images larger than 5; got 5×6/);
    expect(() => resolveAugment({ pad: -1 }, 5, 6)).toThrow(/pad = -1; expected a non-negative integer/);
  });
});

describe("ODIM v2", () => {
  it("round-trips RGB, unlabeled and >256-class (Int32) sets with class names, key and info", () => {
    const d: Dataset = { name: "rgb", train: rgbSet(5, 3, 2, true, 300), test: rgbSet(2, 3, 2, true, 300) };
    const back = decodeDataset(encodeDataset(d, "k1", { note: 1 }));
    expect(back.key).toBe("k1");
    expect(back.info).toEqual({ note: 1 });
    expect(back.dataset.train.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(back.dataset.train.labels!)).toEqual(Array.from(d.train.labels!));
    expect(Buffer.from(back.dataset.test.images).equals(Buffer.from(d.test.images))).toBe(true);
    expect(back.dataset.train.classNames).toHaveLength(300);
    const u: Dataset = { name: "u", train: rgbSet(3, 2, 2, false), test: rgbSet(0, 2, 2, false) };
    const ub = decodeDataset(encodeDataset(u));
    expect(ub.dataset.train.labels).toBeNull();
    expect(ub.dataset.test.count).toBe(0);
    const bytes = encodeDataset(d);
    expect(() => decodeDataset(bytes.subarray(0, bytes.length - 8))).toThrow(/not valid ODIM v2: .*run past the end/);
    expect(() => decodeDataset(new Uint8Array(16))).toThrow(/bad magic or version/);
  });
});
