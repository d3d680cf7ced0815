// A custom training loop for tfjs-layers models: one optimizer step per batch
// through `optimizer.minimize`, so extra loss terms (the rank-fading penalty)
// can be added — tfjs-layers' `model.fit` has no hook that adds to the loss.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import type { ImageSet } from "../data/dataset.ts";
import { forEachBatch, type Batch } from "./batches.ts";
import type { Preprocess, PreprocessPreset } from "../data/preprocess.ts";
import type { Augment } from "../data/augment.ts";
import { crossEntropy, outputKind } from "./distill.ts";
import { fuseBatchNorm } from "./fused-bn.ts";
import { fuseAdam } from "./fused-adam.ts";
import { fuseConvActivation } from "./fused-conv.ts";
import { predict } from "../models/predict.ts";

export interface EpochOptions {
  optimizer: tf.Optimizer;
  batchSize: number;
  /** Shuffle seed (the order also depends on `epoch`). */
  seed?: number;
  epoch?: number;
  layout?: "flat" | "image";
  /** Pixel mapping (default "unit": byte/255). */
  preprocess?: Preprocess | PreprocessPreset;
  /** Random crop/flip of the training images (seeded by seed, epoch and sample); default none. */
  augment?: Augment;
  /** Global step count before this epoch (passed to `penalty`); default 0. */
  step?: number;
  /** Train only this epoch's batches with index in [from, to) (the same order as the whole epoch's); default all. */
  batches?: [number, number];
  /**
   * Extra loss term for a step (e.g. fadingPenalty), given the step's batch and the model's output on it;
   * called inside the gradient tape. Undefined adds nothing.
   */
  penalty?: (step: number, batch: Batch, prediction: tf.Tensor) => tf.Scalar | undefined;
  /** Called before each step with the global step about to run (e.g. to set a learning rate). */
  beforeStep?: (step: number, batch: Batch) => void;
  /** Called after each step with the global step (e.g. a proximal update). */
  onStep?: (step: number, batch: Batch) => void;
  /**
   * Train BatchNormalization layers on the fused wasm op (src/train/fused-bn.ts) where it applies;
   * default true. Off: tfjs-layers' own BatchNormalization call (the same values up to rounding).
   */
  fusedBatchNorm?: boolean;
  /**
   * Run a tf.train.adam optimizer's update as one kernel per variable (src/train/fused-adam.ts; bitwise
   * the stock update) on the wasm backend with odecomp's kernels; default true.
   */
  fusedAdam?: boolean;
  /**
   * Train Conv2D layers with a relu or linear activation on the fused conv + bias + activation op
   * (src/train/fused-conv.ts; FusedConv2D forward, one kernel for dx, dW and db backward) on the wasm
   * backend with odecomp's kernels; default true.
   */
  fusedConv?: boolean;
}

export interface EpochResult {
  /** Mean training loss (cross-entropy + penalty) over the epoch. */
  loss: number;
  steps: number;
  /** Global step count after the epoch. */
  step: number;
}

/** Train one epoch of `set` with categorical cross-entropy on the model's softmax output. */
export async function trainEpoch(model: tfl.LayersModel, set: ImageSet, options: EpochOptions): Promise<EpochResult> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  check(vars.length > 0, "trainEpoch", () => `model '${model.name}' has no trainable weights; expected at least one`);
  check(set.labels, "trainEpoch", () => "the training set has no labels; expected a labeled set");
  let step = options.step ?? 0, steps = 0;
  const kind = outputKind(model); // a linear (logits) output is trained through softmax cross-entropy
  let lossSum = tf.scalar(0);
  // BatchNormalization layers, Adam's update and relu / linear convs take the fused kernels for this epoch's steps (where they apply)
  const unfuseBn = options.fusedBatchNorm === false ? () => {} : fuseBatchNorm(model);
  const unfuseAdam = options.fusedAdam === false ? () => {} : fuseAdam(options.optimizer);
  const unfuseConv = options.fusedConv === false ? () => {} : fuseConvActivation(model);
  try {
    await forEachBatch(set, { batchSize: options.batchSize, seed: options.seed, epoch: options.epoch, layout: options.layout, preprocess: options.preprocess, augment: options.augment, range: options.batches }, (batch) => {
      const s = step;
      options.beforeStep?.(s, batch);
      const loss = options.optimizer.minimize(() => {
        const pred = model.apply(batch.x, { training: true }) as tf.Tensor;
        const ce = kind === "logits" ? crossEntropy(batch.y!, pred, kind) : tf.mean(tfl.metrics.categoricalCrossentropy(batch.y!, pred)) as tf.Scalar;
        const extra = options.penalty?.(s, batch, pred);
        return extra ? tf.add(ce, extra) as tf.Scalar : ce;
      }, true, vars)!;
      const next = tf.add(lossSum, loss) as tf.Scalar;
      lossSum.dispose(); loss.dispose();
      lossSum = next;
      step++; steps++;
      options.onStep?.(step, batch);
    });
  } finally {
    unfuseBn();
    unfuseAdam();
    unfuseConv();
  }
  const loss = (await lossSum.data())[0] / Math.max(1, steps);
  lossSum.dispose();
  return { loss, steps, step };
}

/** Top-1 accuracy of the model on a set, in batches. */
export async function evaluate(model: tfl.LayersModel, set: ImageSet, options: { batchSize?: number; layout?: "flat" | "image"; preprocess?: Preprocess | PreprocessPreset } = {}): Promise<number> {
  check(set.labels, "evaluate", () => "the set has no labels; expected a labeled set");
  let correct = 0;
  await forEachBatch(set, { batchSize: options.batchSize ?? 512, shuffle: false, layout: options.layout, preprocess: options.preprocess }, async (batch) => {
    const pred = tf.tidy(() => tf.argMax(predict(model, batch.x), -1));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === batch.labels![i]) correct++;
  });
  return correct / set.count;
}
