// tfjs batches over an ImageSet: seeded order per epoch, pixels mapped by the
// set's Preprocess (default byte/255), optional seeded augmentation, one-hot
// labels. Each batch's tensors live only during the callback (they are
// disposed right after it returns or throws), so an epoch never leaks.
import * as tf from "@tensorflow/tfjs-core";
import { check } from "../core/errors.ts";
import { epochOrder, gather, type ImageSet } from "../data/dataset.ts";
import type { Augment } from "../data/augment.ts";
import type { Preprocess, PreprocessPreset } from "../data/preprocess.ts";

export interface BatchOptions {
  batchSize: number;
  /** Shuffle seed; the order also depends on the epoch number. Omit `shuffle: false` to keep file order. */
  seed?: number;
  epoch?: number;
  shuffle?: boolean;
  /** "flat": x is [b, h·w·c] (MLPs); "image": x is [b, h, w, c] (CNNs). */
  layout?: "flat" | "image";
  /** Pixel mapping (default "unit": byte/255). */
  preprocess?: Preprocess | PreprocessPreset;
  /** Random crop/flip per sample, seeded by (seed, epoch, sample); for training only. */
  augment?: Augment | false;
  /** Only the batches with index in [from, to) of this epoch's order (an epoch trained in parts, e.g. around a mid-epoch switch). */
  range?: [number, number];
}

export interface Batch {
  x: tf.Tensor;
  /** One-hot float32 labels [b, classes]; null for an unlabeled set. */
  y: tf.Tensor2D | null;
  /** The batch's labels; null for an unlabeled set. */
  labels: Int32Array | null;
  /** The samples' indices in the set (e.g. to look up cached teacher outputs). */
  indices: Uint32Array;
  index: number;
}

export function batchCount(set: ImageSet, batchSize: number): number {
  return Math.ceil(set.count / batchSize);
}

/** Call `fn` for each batch of one epoch; tensors are disposed after each call. */
export async function forEachBatch(set: ImageSet, options: BatchOptions, fn: (batch: Batch) => void | Promise<void>): Promise<void> {
  const { batchSize } = options;
  check(Number.isInteger(batchSize) && batchSize >= 1, "forEachBatch", () => `batchSize = ${batchSize}; expected a positive integer`);
  const seed = options.seed ?? 0, epoch = options.epoch ?? 0;
  const order = options.shuffle === false ? Uint32Array.from({ length: set.count }, (_, i) => i) : epochOrder(set.count, seed, epoch);
  const c = set.channels ?? 1;
  const shape = options.layout === "image" ? [set.height, set.width, c] : [set.height * set.width * c];
  const augment = options.augment ? { ...options.augment, seed, epoch } : undefined;
  const [from, to] = options.range ?? [0, Infinity];
  check(Number.isInteger(from) && from >= 0 && (to === Infinity || (Number.isInteger(to) && to >= from)), "forEachBatch", () => `range = [${from}, ${to}]; expected batch indices 0 ≤ from ≤ to`);
  for (let b = from * batchSize, index = from; b < set.count && index < to; b += batchSize, index++) {
    const idx = order.subarray(b, Math.min(b + batchSize, set.count));
    const { x, labels } = gather(set, idx, options.preprocess, augment);
    const xs = tf.tensor(x, [idx.length, ...shape]);
    const ys = labels ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), set.classes), "float32") as tf.Tensor2D) : null;
    try {
      await fn({ x: xs, y: ys, labels, indices: idx, index });
    } finally {
      xs.dispose();
      ys?.dispose();
    }
  }
}
