// tfjs batches over an ImageSet: seeded order per epoch, pixels in [0, 1],
// one-hot labels. Each batch's tensors live only during the callback (they are
// disposed right after it returns or throws), so an epoch never leaks.
import * as tf from "@tensorflow/tfjs-core";
import { check } from "../core/errors.ts";
import { epochOrder, gather, type ImageSet } from "../data/dataset.ts";

export interface BatchOptions {
  batchSize: number;
  /** Shuffle seed; the order also depends on the epoch number. Omit `shuffle: false` to keep file order. */
  seed?: number;
  epoch?: number;
  shuffle?: boolean;
  /** "flat": x is [b, h·w] (MLPs); "image": x is [b, h, w, 1] (CNNs). */
  layout?: "flat" | "image";
}

export interface Batch {
  x: tf.Tensor;
  /** One-hot float32 labels [b, classes]. */
  y: tf.Tensor2D;
  labels: Int32Array;
  index: number;
}

export function batchCount(set: ImageSet, batchSize: number): number {
  return Math.ceil(set.count / batchSize);
}

/** Call `fn` for each batch of one epoch; tensors are disposed after each call. */
export async function forEachBatch(set: ImageSet, options: BatchOptions, fn: (batch: Batch) => void | Promise<void>): Promise<void> {
  const { batchSize } = options;
  check(Number.isInteger(batchSize) && batchSize >= 1, "forEachBatch", () => `batchSize = ${batchSize}; expected a positive integer`);
  const order = options.shuffle === false ? Uint32Array.from({ length: set.count }, (_, i) => i) : epochOrder(set.count, options.seed ?? 0, options.epoch ?? 0);
  const shape = options.layout === "image" ? [set.height, set.width, 1] : [set.height * set.width];
  for (let b = 0, index = 0; b < set.count; b += batchSize, index++) {
    const idx = order.subarray(b, Math.min(b + batchSize, set.count));
    const { x, labels } = gather(set, idx);
    const xs = tf.tensor(x, [idx.length, ...shape]);
    const ys = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), set.classes), "float32") as tf.Tensor2D);
    try {
      await fn({ x: xs, y: ys, labels, index });
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }
}
