// Fine-tuning of any LayersModel on an ImageSet, with labels (cross-entropy on
// softmax or logit outputs), by distillation from a teacher (src/train/distill.ts),
// or both. Used to recover accuracy after compression: the default teacher of
// `odecomp compress --finetune` is the model before compression. The student
// runs in training mode (`apply(x, {training: true})`: BatchNorm batch statistics
// and moving-average updates, Dropout on); evaluation and the teacher run in
// inference mode. Teacher outputs are computed once per batch outside the
// gradient tape, or once per sample up front (`cacheTeacher`), after which the
// teacher may be disposed (`evictTeacher`) to save memory. After each epoch the
// BatchNorm moving statistics are re-estimated on the training images
// (src/train/recalibrate.ts), so the per-epoch evaluations and the model kept
// are what the weights compute, not statistics lagging behind them.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import type { ImageSet } from "../data/dataset.ts";
import type { Augment } from "../data/augment.ts";
import { resolvePreprocess, type Preprocess, type PreprocessPreset } from "../data/preprocess.ts";
import { forEachBatch, batchCount } from "./batches.ts";
import { crossEntropy, distillLoss, outputKind, teacherOutput, DEFAULT_ALPHA, DEFAULT_TEMPERATURE, type OutputKind } from "./distill.ts";
import { checkModelData, evaluateModel, inputLayout, type EvaluateResult } from "./evaluate.ts";
import { batchNormLayers, recalibrateBatchNorm, recalibration, type RecalibrateOptions } from "./recalibrate.ts";
import { fuseBatchNorm } from "./fused-bn.ts";
import { fuseAdam } from "./fused-adam.ts";
import { fuseConvActivation } from "./fused-conv.ts";

export interface FinetuneOptions {
  /** Epochs over the training set (default 1). */
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate (default 1e-4: small, the model is already trained). */
  learningRate?: number;
  /** Optimizer factory (default Adam(learningRate)). */
  optimizer?: () => tf.Optimizer;
  seed?: number;
  /** Pixel mapping the model expects (default "unit"). */
  preprocess?: Preprocess | PreprocessPreset;
  /** Seeded random crop/flip on training batches (true = the CIFAR recipe: pad 4, flip). */
  augment?: Augment | boolean;
  /** Distil from this model (e.g. the model before compression). */
  teacher?: tfl.LayersModel;
  /** Weight of the label loss with a teacher (default 0.5; 0 without labels). */
  alpha?: number;
  /** Distillation temperature (default 4). */
  temperature?: number;
  /** Compute the teacher's outputs once per training image (not with `augment`). */
  cacheTeacher?: boolean;
  /** With `cacheTeacher`, dispose the teacher once its outputs are cached (per-epoch agreement is then not reported). */
  evictTeacher?: boolean;
  /**
   * After each epoch, re-estimate the BatchNorm moving statistics on the training images (no augmentation)
   * before evaluating (default true; options set the batch size and image count). Off: the statistics
   * are the momentum averages training left.
   */
  recalibrateBatchNorm?: boolean | Omit<RecalibrateOptions, "preprocess">;
  /** Evaluate on this set before training and after each epoch (default: none). */
  test?: ImageSet;
  /** Called after each optimizer step. */
  onStep?: (p: FinetuneProgress) => void;
  /** Called after each epoch (after its evaluation). */
  onEpochEnd?: (e: FinetuneEpoch) => void | Promise<void>;
}

/** `loss` is the step's training loss (read back only when there is an onStep: one sync per step). */
export interface FinetuneProgress { epoch: number; step: number; stepsPerEpoch: number; images: number; seconds: number; imagesPerSecond: number; loss: number }

export interface FinetuneEpoch {
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  seconds: number;
  imagesPerSecond: number;
  /** Evaluation on `test` after the epoch (null without `test`). */
  eval: EvaluateResult | null;
}

export interface FinetuneResult {
  /** Evaluation on `test` before training (null without `test`). */
  before: EvaluateResult | null;
  epochs: FinetuneEpoch[];
  /** The last evaluation (`before` when no epoch ran). */
  final: EvaluateResult | null;
  mode: "labels" | "distill" | "labels+distill";
  outputKind: OutputKind;
  preprocess: Preprocess;
  /** BatchNormalization layers whose moving statistics were re-estimated after each epoch (0: none, or off). */
  recalibratedBatchNorm: number;
  seconds: number;
}

const where = "finetune";
const CIFAR_AUGMENT: Augment = { pad: 4, flip: true };

/** Fine-tune `model` in place on `train` (see FinetuneOptions). Nothing else is kept: numTensors returns to where it was. */
export async function finetune(model: tfl.LayersModel, train: ImageSet, options: FinetuneOptions = {}): Promise<FinetuneResult> {
  const epochs = options.epochs ?? 1, batchSize = options.batchSize ?? 32;
  check(Number.isInteger(epochs) && epochs >= 0, where, () => `epochs = ${epochs}; expected an integer ≥ 0`);
  check(Number.isInteger(batchSize) && batchSize >= 1, where, () => `batchSize = ${batchSize}; expected a positive integer`);
  check(train.count > 0, where, () => "the training set has no images; expected at least one");
  checkModelData(model, train, where, { data: "the training data" });
  let teacher = options.teacher;
  if (teacher) checkModelData(teacher, train, where, { model: "the teacher", data: "the training data" });
  const kind = outputKind(model);
  check(teacher || kind !== "other", where, () => `model '${model.name}' output [${model.outputs[0].shape.map(String)}] is not a class distribution; expected a classifier, or a teacher to distil from`);
  check(teacher || train.labels, where, () => "the training data has no labels and no teacher was given; expected labels or a teacher (label-free distillation)");
  const teacherKind: OutputKind = teacher ? outputKind(teacher) : kind;
  const alpha = train.labels && kind !== "other" ? options.alpha ?? (teacher ? DEFAULT_ALPHA : 1) : 0;
  check(alpha >= 0 && alpha <= 1, where, () => `alpha = ${options.alpha}; expected a weight in [0, 1]`);
  const temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  check(temperature > 0 && Number.isFinite(temperature), where, () => `temperature = ${temperature}; expected a positive number`);
  const augment = options.augment === true ? CIFAR_AUGMENT : options.augment || undefined;
  check(!(augment && options.cacheTeacher), where, () => "cacheTeacher with augment: cached teacher outputs belong to the unaugmented images; expected one of the two");
  const preprocess = resolvePreprocess(options.preprocess);
  const layout = inputLayout(model);
  const seed = options.seed ?? 0;
  const mode: FinetuneResult["mode"] = !teacher ? "labels" : alpha === 0 ? "distill" : alpha === 1 ? "labels" : "labels+distill";
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  check(vars.length > 0, where, () => `model '${model.name}' has no trainable weights; expected at least one`);
  const optimizer = options.optimizer ? options.optimizer() : tf.train.adam(options.learningRate ?? 1e-4);
  const evalOpts = () => ({ preprocess, teacher, dataName: "the test data" });
  // null: no recalibration (turned off, or no BatchNorm); else its options (true / undefined: the defaults)
  const recal = batchNormLayers(model).length === 0 ? null : recalibration(options.recalibrateBatchNorm);
  const t0 = performance.now();
  let cache: { values: Float32Array; width: number; shape: number[] } | null = null;
  // BatchNormalization's training calls, Adam's update and relu / linear convs on odecomp's fused kernels where they apply (trainEpoch does the same)
  const unfuseBn = fuseBatchNorm(model), unfuseAdam = fuseAdam(optimizer), unfuseConv = fuseConvActivation(model);
  try {
    const before = options.test ? await evaluateModel(model, options.test, evalOpts()) : null;
    if (teacher && options.cacheTeacher && alpha < 1) {
      const shape = teacher.outputs[0].shape.slice(1).map((d) => d ?? 1);
      const width = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(train.count * width);
      await forEachBatch(train, { batchSize: 256, shuffle: false, layout, preprocess }, async (b) => {
        const t = teacherOutput(teacher!, b.x);
        values.set(await t.data() as Float32Array, b.indices[0] * width);
        t.dispose();
      });
      cache = { values, width, shape };
      if (options.evictTeacher) { teacher.dispose(); teacher = undefined; }
    }
    const stepsPerEpoch = batchCount(train, batchSize);
    const records: FinetuneEpoch[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const e0 = performance.now();
      let lossSum = tf.scalar(0), step = 0, images = 0, stepLoss = NaN;
      await forEachBatch(train, { batchSize, seed, epoch, layout, preprocess, augment }, (batch) => {
        const n = batch.indices.length;
        let target: tf.Tensor | null = null;
        if (alpha < 1) {
          if (cache) {
            const rows = new Float32Array(n * cache.width);
            for (let i = 0; i < n; i++) rows.set(cache.values.subarray(batch.indices[i] * cache.width, (batch.indices[i] + 1) * cache.width), i * cache.width);
            target = tf.tensor(rows, [n, ...cache.shape]);
          } else target = teacherOutput(teacher!, batch.x);
        }
        try {
          const loss = optimizer.minimize(() => {
            const pred = model.apply(batch.x, { training: true }) as tf.Tensor;
            if (!target) return crossEntropy(batch.y!, pred, kind);
            return distillLoss({ student: pred, studentKind: kind, teacher: target, teacherKind, labels: alpha > 0 ? batch.y : null, alpha, temperature });
          }, true, vars)!;
          const next = tf.add(lossSum, loss) as tf.Scalar;
          if (options.onStep) stepLoss = loss.dataSync()[0];
          lossSum.dispose(); loss.dispose();
          lossSum = next;
        } finally {
          target?.dispose();
        }
        step++; images += n;
        if (options.onStep) {
          const s = (performance.now() - e0) / 1000;
          options.onStep({ epoch, step, stepsPerEpoch, images, seconds: s, imagesPerSecond: images / Math.max(s, 1e-9), loss: stepLoss });
        }
      });
      const loss = (await lossSum.data())[0] / Math.max(1, step);
      lossSum.dispose();
      const seconds = (performance.now() - e0) / 1000; // training only: images/s is the training rate
      if (recal) await recalibrateBatchNorm(model, train, { ...recal, seed: seed + epoch, preprocess });
      const ev = options.test ? await evaluateModel(model, options.test, evalOpts()) : null;
      const rec: FinetuneEpoch = { epoch: epoch + 1, loss, seconds, imagesPerSecond: images / Math.max(seconds, 1e-9), eval: ev };
      records.push(rec);
      await options.onEpochEnd?.(rec);
    }
    return {
      before, epochs: records, final: records.length ? records[records.length - 1].eval : before,
      mode, outputKind: kind, preprocess, recalibratedBatchNorm: recal && epochs > 0 ? batchNormLayers(model).length : 0, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    unfuseBn();
    unfuseAdam();
    unfuseConv();
    if (!options.optimizer) optimizer.dispose();
  }
}
