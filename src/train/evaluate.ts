// Evaluation of any classification LayersModel on an ImageSet: top-1 (and top-5
// when there are more than 5 classes), per-class accuracy and mean cross-entropy
// against the labels, and top-1 agreement with a teacher (which needs no labels).
// The model runs in inference mode (`predict`: Dropout off, BatchNorm moving
// statistics). `checkModelData` is the one place where a model's input and
// output are matched against a data set, for evaluate, finetune and train.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import type { ImageSet } from "../data/dataset.ts";
import { resolvePreprocess, type Preprocess, type PreprocessPreset } from "../data/preprocess.ts";
import { forEachBatch } from "./batches.ts";
import { crossEntropy, outputClasses, outputKind, type OutputKind } from "./distill.ts";
import { predict } from "../models/predict.ts";

export interface EvaluateOptions {
  /** Batch size of the forward passes (default 256). */
  batchSize?: number;
  /** Pixel mapping the model expects (default "unit": byte/255). */
  preprocess?: Preprocess | PreprocessPreset;
  /** Also report top-1 agreement with this model's predictions. */
  teacher?: tfl.LayersModel;
  /** Names used in error messages (default: the models' names and "data"). */
  modelName?: string;
  dataName?: string;
  /** Called after each batch with the images done so far. */
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface ClassAccuracy { label: number; name: string; count: number; accuracy: number }

export interface EvaluateResult {
  count: number;
  classes: number;
  labeled: boolean;
  outputKind: OutputKind;
  preprocess: Preprocess;
  /** Top-1 accuracy against the labels; null without labels. */
  top1: number | null;
  /** Top-5 accuracy when the model has more than 5 classes (and labels), else null. */
  top5: number | null;
  /** Mean cross-entropy against the labels; null without labels. */
  loss: number | null;
  /** Per-class top-1 accuracy (labels only). */
  perClass: ClassAccuracy[] | null;
  /** Fraction of images where model and teacher pick the same class; null without a teacher. */
  agreement: number | null;
}

/** The input layout a model takes: "image" for [b, h, w, c] inputs, "flat" for [b, features]. */
export function inputLayout(model: tfl.LayersModel): "flat" | "image" {
  return model.inputs[0].shape.length === 4 ? "image" : "flat";
}

/** The model's input as [height, width, channels], or null for a flat input. */
export function modelInputSize(model: tfl.LayersModel): { height: number | null; width: number | null; channels: number | null; features: number | null } {
  const s = model.inputs[0].shape;
  if (s.length === 4) return { height: s[1], width: s[2], channels: s[3], features: null };
  return { height: null, width: null, channels: null, features: s.length === 2 ? s[1] : null };
}

/**
 * Check that `set` fits `model`: input height×width×channels (or flat feature count) and, for a
 * labeled set and a classifier, the class count. Errors name the model, the data and both values.
 */
export function checkModelData(model: tfl.LayersModel, set: ImageSet, where: string, names: { model?: string; data?: string } = {}): void {
  const m = names.model ?? `model '${model.name}'`, d = names.data ?? "the data";
  check(model.inputs.length === 1, where, () => `${m} has ${model.inputs.length} inputs; expected one image input`);
  const s = model.inputs[0].shape;
  const c = set.channels ?? 1;
  if (s.length === 4) {
    const [, h, w, ch] = s;
    check(ch === null || ch === c, where, () => `${m} takes ${ch}-channel input but ${d} has ${c}-channel images (${set.height}×${set.width}×${c}); expected matching channels (load the data with channels ${ch})`);
    check((h === null || h === set.height) && (w === null || w === set.width), where, () => `${m} takes ${h}×${w} input but ${d} has ${set.height}×${set.width} images; expected the same size (resize the data to ${h}×${w})`);
  } else {
    check(s.length === 2, where, () => `${m} takes input of shape [${s.map(String)}]; expected [batch, h, w, c] or [batch, features]`);
    const px = set.height * set.width * c;
    check(s[1] === null || s[1] === px, where, () => `${m} takes ${s[1]} input features but ${d} has ${set.height}×${set.width}×${c} = ${px} values per image; expected the same count`);
  }
  if (set.labels && set.classes > 0 && outputKind(model) !== "other") {
    const k = outputClasses(model);
    check(k === set.classes, where, () => `${m} outputs ${k} classes but ${d} has ${set.classes} classes${set.classNames ? ` (${set.classNames.slice(0, 5).join(", ")}${set.classNames.length > 5 ? ", …" : ""})` : ""}; expected the same class count`);
  }
}

/** Evaluate `model` on `set` (see EvaluateResult). */
export async function evaluateModel(model: tfl.LayersModel, set: ImageSet, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const where = "evaluate";
  const names = { model: options.modelName, data: options.dataName };
  checkModelData(model, set, where, names);
  const kind = outputKind(model);
  const teacher = options.teacher;
  check(kind !== "other" || teacher, where, () => `${names.model ?? `model '${model.name}'`} output [${model.outputs[0].shape.map(String)}] is not a class distribution (no softmax/linear [batch, classes] output); expected a classifier, or a teacher to compare with`);
  if (teacher) {
    checkModelData(teacher, set, where, { model: "the teacher", data: names.data });
    check(kind === "other" || outputKind(teacher) === "other" || outputClasses(teacher) === outputClasses(model), where, () => `the teacher outputs ${outputClasses(teacher)} classes, the model ${outputClasses(model)}; expected the same classes`);
  }
  check(set.count > 0, where, () => `${names.data ?? "the data"} has no images; expected at least one`);
  const preprocess = resolvePreprocess(options.preprocess);
  const labeled = !!set.labels && kind !== "other";
  const classes = kind === "other" ? 0 : outputClasses(model);
  const topK = classes > 5 ? 5 : 0;
  let top1 = 0, top5 = 0, agree = 0, lossSum = 0, done = 0;
  const perCount = new Float64Array(classes), perRight = new Float64Array(classes);
  const layout = inputLayout(model);
  await forEachBatch(set, { batchSize: options.batchSize ?? 256, shuffle: false, layout, preprocess }, async (batch) => {
    const n = batch.indices.length;
    const out = tf.tidy(() => {
      const pred = predict(model, batch.x);
      const res: tf.Tensor[] = [];
      if (kind !== "other") res.push(tf.argMax(pred, -1));
      if (labeled) {
        res.push(tf.mul(crossEntropy(batch.y!, pred, kind), n));
        if (topK) res.push(tf.topk(pred, topK).indices);
      }
      if (teacher) {
        const t = predict(teacher, batch.x);
        // Agreement on class outputs; for other outputs, the fraction of matching argmax over the last axis.
        res.push(tf.mean(tf.cast(tf.equal(tf.argMax(pred, -1), tf.argMax(t, -1)), "float32")));
      }
      return res;
    });
    const vals = await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    let i = 0;
    const arg = kind !== "other" ? vals[i++] : null;
    if (labeled) {
      lossSum += vals[i++][0];
      const tk = topK ? vals[i++] : null;
      for (let b = 0; b < n; b++) {
        const y = batch.labels![b];
        perCount[y]++;
        if (arg![b] === y) { top1++; perRight[y]++; }
        if (tk) for (let k = 0; k < topK; k++) if (tk[b * topK + k] === y) { top5++; break; }
      }
    }
    if (teacher) agree += vals[i++][0] * n;
    done += n;
    options.onProgress?.({ done, total: set.count });
  });
  const names2 = set.classNames;
  return {
    count: set.count, classes, labeled, outputKind: kind, preprocess,
    top1: labeled ? top1 / set.count : null,
    top5: labeled && topK ? top5 / set.count : null,
    loss: labeled ? lossSum / set.count : null,
    perClass: labeled ? Array.from({ length: classes }, (_, k) => ({ label: k, name: names2?.[k] ?? String(k), count: perCount[k], accuracy: perCount[k] ? perRight[k] / perCount[k] : 0 })) : null,
    agreement: teacher ? agree / set.count : null,
  };
}
