// Training-time augmentation, the standard CIFAR recipe: pad by `pad` pixels,
// take a random crop of the original size, flip left–right with probability ½.
// Runs on bytes before preprocessing, so zero padding is black (byte 0) as in
// torchvision `RandomCrop(padding=4)`; "reflect" mirrors without repeating the
// edge pixel (numpy/torch 'reflect'), which avoids black borders on photos.
// Each sample's draw is seeded by (seed, epoch, sample index), so it does not
// depend on the batch order or batch size, and a run is reproducible.
import { check } from "../core/errors.ts";
import { seededRandom } from "./random.ts";

export interface Augment {
  /** Padding on each side before the random crop, in pixels (default 4; 0 = no crop). */
  pad?: number;
  /** "zero" (default, black) or "reflect" (mirror, pad < height and width). */
  padMode?: "zero" | "reflect";
  /** Random horizontal flip (default true). */
  flip?: boolean;
}

/** A validated Augment with defaults filled in. */
export function resolveAugment(a: Augment, height: number, width: number): Required<Augment> {
  const pad = a.pad ?? 4, padMode = a.padMode ?? "zero", flip = a.flip ?? true;
  check(Number.isInteger(pad) && pad >= 0, "augment", () => `pad = ${pad}; expected a non-negative integer`);
  check(padMode === "zero" || padMode === "reflect", "augment", () => `padMode = '${padMode}'; expected 'zero' or 'reflect'`);
  check(padMode === "zero" || (pad < height && pad < width), "augment", () => `reflect padding of ${pad} px needs images larger than ${pad}; got ${height}×${width}`);
  return { pad, padMode, flip };
}

/** The seeded generator for one sample in one epoch. */
export function sampleRandom(seed: number, epoch: number, index: number): () => number {
  return seededRandom((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(epoch + 1, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

/** Write an augmented copy of one H×W×C image `src` into `dst`. */
export function augmentImage(src: Uint8Array, height: number, width: number, channels: number, dst: Uint8Array, a: Required<Augment>, rand: () => number): void {
  const p = a.pad;
  const dy = p ? Math.floor(rand() * (2 * p + 1)) - p : 0;
  const dx = p ? Math.floor(rand() * (2 * p + 1)) - p : 0;
  const flip = a.flip && rand() < 0.5;
  const reflect = a.padMode === "reflect";
  for (let y = 0; y < height; y++) {
    let sy = y + dy;
    if (sy < 0 || sy >= height) {
      if (!reflect) { dst.fill(0, y * width * channels, (y + 1) * width * channels); continue; }
      sy = sy < 0 ? -sy : 2 * (height - 1) - sy;
    }
    for (let x = 0; x < width; x++) {
      let sx = (flip ? width - 1 - x : x) + dx;
      const o = (y * width + x) * channels;
      if (sx < 0 || sx >= width) {
        if (!reflect) { for (let k = 0; k < channels; k++) dst[o + k] = 0; continue; }
        sx = sx < 0 ? -sx : 2 * (width - 1) - sx;
      }
      const s = (sy * width + sx) * channels;
      for (let k = 0; k < channels; k++) dst[o + k] = src[s + k];
    }
  }
}
