// Pixel preprocessing: how a byte 0–255 becomes the float the model sees. A
// plain JSON value (not a function) so it can be written into plan.json /
// reports and read back, and so evaluation uses exactly what training used.
// The three kinds cover the families users bring: Keras `Rescaling(1/255)`
// models ("unit"), MobileNet/EfficientNet-lite `preprocess_input` ("symmetric",
// [-1, 1]) and torchvision/ImageNet per-channel mean/std ("meanStd" on byte/255).
import { check, fail } from "../core/errors.ts";

export type Preprocess =
  | { kind: "unit" }
  | { kind: "symmetric" }
  | { kind: "meanStd"; mean: number[]; std: number[] };

/** Named presets accepted wherever a Preprocess is (CLI `--preprocess`, API options). */
export const preprocessPresets = {
  unit: { kind: "unit" },
  mobilenet: { kind: "symmetric" },
  imagenet: { kind: "meanStd", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, Preprocess>;

export type PreprocessPreset = keyof typeof preprocessPresets;

const where = "preprocess";

/** A preset name or a Preprocess value → a validated Preprocess (a fresh copy). Default: unit. */
export function resolvePreprocess(p: Preprocess | PreprocessPreset | string | undefined): Preprocess {
  if (p === undefined) return { kind: "unit" };
  if (typeof p === "string") {
    if (Object.hasOwn(preprocessPresets, p)) return resolvePreprocess(preprocessPresets[p as PreprocessPreset] as Preprocess);
    return fail(where, `unknown preset '${p}'; expected one of ${Object.keys(preprocessPresets).join(", ")}`);
  }
  switch (p.kind) {
    case "unit": return { kind: "unit" };
    case "symmetric": return { kind: "symmetric" };
    case "meanStd": {
      check(Array.isArray(p.mean) && Array.isArray(p.std) && p.mean.length === p.std.length && (p.mean.length === 1 || p.mean.length === 3), where,
        () => `meanStd needs mean and std arrays of equal length 1 or 3; got mean ${JSON.stringify(p.mean)}, std ${JSON.stringify(p.std)}`);
      p.mean.forEach((m, i) => check(Number.isFinite(m), where, () => `mean[${i}] = ${m}; expected a finite number`));
      p.std.forEach((s, i) => check(Number.isFinite(s) && s > 0, where, () => `std[${i}] = ${s}; expected a positive number`));
      return { kind: "meanStd", mean: [...p.mean], std: [...p.std] };
    }
    default: return fail(where, `unknown kind '${(p as { kind: unknown }).kind}'; expected unit, symmetric or meanStd`);
  }
}

/**
 * Per-channel affine map value = byte·scale[c] + offset[c], the one form all
 * three kinds reduce to, for a set with `channels` channels. A 3-value meanStd
 * on a 1-channel set is refused (which channel would it be?); a 1-value one
 * applies to every channel.
 */
export function preprocessAffine(p: Preprocess, channels: number): { scale: Float32Array; offset: Float32Array } {
  const scale = new Float32Array(channels), offset = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    if (p.kind === "unit") { scale[c] = 1 / 255; offset[c] = 0; }
    else if (p.kind === "symmetric") { scale[c] = 1 / 127.5; offset[c] = -1; }
    else {
      check(p.mean.length === 1 || p.mean.length === channels, where, () => `meanStd has ${p.mean.length} channel values but the data has ${channels} channel(s); expected 1 or ${channels}`);
      const m = p.mean.length === 1 ? p.mean[0] : p.mean[c], s = p.std.length === 1 ? p.std[0] : p.std[c];
      scale[c] = 1 / (255 * s); offset[c] = -m / s;
    }
  }
  return { scale, offset };
}
