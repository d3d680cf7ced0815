// Knowledge distillation (Hinton et al. 2015): the student learns the teacher's
// softened class distribution, optionally mixed with the labels:
//   loss = α·CE(labels, student) + (1−α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)).
// The T² keeps the soft term's gradient scale independent of T (its gradient is
// ∝ 1/T² otherwise). Without labels α is 0: label-free recovery from any images
// of the domain. Outputs that are not class scores (segmentation, regression)
// are matched to the teacher's by mean squared error instead.
//
// A model's output is "probabilities" when its last layer applies softmax (the
// Keras/tfjs default for classifiers), "logits" when it is a linear Dense output
// (from_logits=True models), and "other" when the output is not [batch, classes].
// Probabilities are mapped back to logits as log(p) (softmax(log p) = p), so
// both kinds of teacher and student mix freely.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import { predict } from "../models/predict.ts";

export type OutputKind = "probabilities" | "logits" | "other";

const where = "distill";
/** Floor of probabilities before log: float32 softmax outputs underflow to 0. */
const P_FLOOR = 1e-7;

/** The activation of a layer, unwrapping a nested model's last layer. */
function lastActivation(layer: tfl.layers.Layer): string | undefined {
  const cfg = layer.getConfig() as { activation?: unknown };
  const inner = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
  if (inner && inner.length && cfg.activation === undefined) return lastActivation(inner[inner.length - 1]);
  const className = layer.getClassName();
  if (className === "Softmax") return "softmax";
  if (className === "Activation" || typeof cfg.activation === "string") return String(cfg.activation ?? "linear");
  return undefined;
}

/** How to read a model's (single) output: class probabilities, class logits, or another kind of output. */
export function outputKind(model: tfl.LayersModel): OutputKind {
  check(model.outputs.length === 1, where, () => `model '${model.name}' has ${model.outputs.length} outputs; expected one`);
  const shape = model.outputs[0].shape;
  if (shape.length !== 2 || !((shape[1] ?? 0) >= 2)) return "other";
  const act = lastActivation(model.layers[model.layers.length - 1]);
  if (act === "softmax") return "probabilities";
  if (act === "linear" || act === undefined) return "logits";
  return "other"; // sigmoid (multi-label), relu, tanh…: not a class distribution
}

/** Class count of a classifier's output ([batch, classes]). */
export function outputClasses(model: tfl.LayersModel): number {
  return model.outputs[0].shape[1] as number;
}

/** Logits of an output of the given kind: log(p) for probabilities (floored), the output itself for logits. */
export function toLogits(out: tf.Tensor, kind: OutputKind): tf.Tensor {
  return kind === "probabilities" ? tf.log(tf.maximum(out, P_FLOOR)) : out;
}

/** Mean cross-entropy of one-hot `y` against the output, for either kind of classifier output. */
export function crossEntropy(y: tf.Tensor, out: tf.Tensor, kind: OutputKind): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(toLogits(out, kind));
    return tf.neg(tf.mean(tf.sum(tf.mul(y, logp), -1))) as tf.Scalar;
  });
}

/** Mean over the batch of T²·KL(softmax(t/T) ‖ softmax(s/T)) for logits s (student) and t (teacher). */
export function softKL(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Scalar {
  check(temperature > 0 && Number.isFinite(temperature), where, () => `temperature = ${temperature}; expected a positive number`);
  return tf.tidy(() => {
    const lt = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const ls = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(lt), tf.sub(lt, ls)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

export interface DistillOptions {
  /** Weight of the label cross-entropy in [0, 1] (default 0.5 with labels; forced to 0 without). */
  alpha?: number;
  /** Softmax temperature T > 0 (default 4). */
  temperature?: number;
}

export interface DistillLossArgs extends DistillOptions {
  student: tf.Tensor;
  studentKind: OutputKind;
  /** The teacher's output on the same batch (no gradient flows into it). */
  teacher: tf.Tensor;
  teacherKind: OutputKind;
  /** One-hot labels [batch, classes], or null for unlabeled data. */
  labels: tf.Tensor | null;
}

export const DEFAULT_ALPHA = 0.5;
export const DEFAULT_TEMPERATURE = 4;

/** The distillation loss of one batch (see the file comment); MSE to the teacher for non-class outputs. */
export function distillLoss(a: DistillLossArgs): tf.Scalar {
  const alpha = a.labels ? a.alpha ?? DEFAULT_ALPHA : 0;
  check(alpha >= 0 && alpha <= 1, where, () => `alpha = ${a.alpha}; expected a weight in [0, 1]`);
  const T = a.temperature ?? DEFAULT_TEMPERATURE;
  if (a.studentKind === "other" || a.teacherKind === "other") {
    check(a.student.shape.join() === a.teacher.shape.join(), where, () => `student output [${a.student.shape}] and teacher output [${a.teacher.shape}] differ; expected the same shape to match by MSE`);
    return tf.tidy(() => tf.mean(tf.squaredDifference(a.student, a.teacher)) as tf.Scalar);
  }
  check(a.student.shape[1] === a.teacher.shape[1], where, () => `student has ${a.student.shape[1]} classes, teacher ${a.teacher.shape[1]}; expected the same classes`);
  return tf.tidy(() => {
    const s = toLogits(a.student, a.studentKind);
    const soft = softKL(s, toLogits(a.teacher, a.teacherKind), T);
    if (alpha === 0) return soft;
    const ce = crossEntropy(a.labels!, s, "logits");
    return alpha === 1 ? ce : tf.add(tf.mul(ce, alpha), tf.mul(soft, 1 - alpha)) as tf.Scalar;
  });
}

/**
 * The teacher's output on x in inference mode (Dropout off, BatchNorm moving statistics). Call it
 * outside the student's `optimizer.minimize` so no tape records the teacher's forward pass.
 */
export function teacherOutput(teacher: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => predict(teacher, x));
}
