// Bring a loaded Dataset to the model's input: size (bilinear, optional center
// crop) and channels (gray ↔ RGB). Used for bundled sets and arrays, whose
// stored size is fixed; folders resize while decoding instead.
import type { Dataset, ImageSet } from "./dataset.ts";
import { centerCropToAspect, convertChannels, resizeBilinear } from "./resize.ts";

export interface ConformOptions { size?: [number, number]; channels?: 1 | 3; crop?: "center" | "none" }

/** The set itself when nothing changes; else a copy at [H, W, C]. */
export function conformSet(set: ImageSet, o: ConformOptions): ImageSet {
  const [H, W] = o.size ?? [set.height, set.width];
  const C = o.channels ?? set.channels;
  if (H === set.height && W === set.width && C === set.channels) return set;
  const pxIn = set.height * set.width * set.channels, pxOut = H * W * C;
  const images = new Uint8Array(set.count * pxOut);
  for (let i = 0; i < set.count; i++) {
    let im = convertChannels({ data: set.images.subarray(i * pxIn, (i + 1) * pxIn), height: set.height, width: set.width, channels: set.channels }, C);
    if (o.crop === "center") im = centerCropToAspect(im, H, W);
    resizeBilinear(im, H, W, images.subarray(i * pxOut, (i + 1) * pxOut));
  }
  return { ...set, images, height: H, width: W, channels: C };
}

export function conformDataset(d: Dataset, o: ConformOptions): Dataset {
  return { ...d, train: conformSet(d.train, o), test: conformSet(d.test, o) };
}
