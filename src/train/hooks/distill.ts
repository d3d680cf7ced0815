// Distillation inside a schedule run (train() with TrainOptions.hooks): the teacher's output on each
// batch is computed before the step, outside the gradient tape (beforeStep), and the loss term turns
// the loop's label cross-entropy into α·CE + (1−α)·T²·KL(teacher ‖ student): it adds
// (1−α)·(T²·KL) + (α−1)·CE. For non-class outputs the term is (1−α)·MSE to the teacher.
// For unlabeled data use `finetune` (src/train/finetune.ts): the schedules' loop needs labels.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../../core/errors.ts";
import { crossEntropy, distillLoss, outputKind, teacherOutput, DEFAULT_ALPHA, DEFAULT_TEMPERATURE } from "../distill.ts";
import type { TrainHook } from "./hook.ts";

export interface DistillHookOptions {
  teacher: tfl.LayersModel;
  /** Weight of the label loss in [0, 1] (default 0.5). */
  alpha?: number;
  temperature?: number;
}

export function distillHook(o: DistillHookOptions): TrainHook {
  const alpha = o.alpha ?? DEFAULT_ALPHA, temperature = o.temperature ?? DEFAULT_TEMPERATURE;
  check(alpha >= 0 && alpha <= 1, "distill", () => `alpha = ${o.alpha}; expected a weight in [0, 1]`);
  const teacherKind = outputKind(o.teacher);
  let target: tf.Tensor | null = null;
  const drop = () => { target?.dispose(); target = null; };
  return {
    name: "distill",
    beforeStep(ctx) { drop(); if (alpha < 1) target = teacherOutput(o.teacher, ctx.batch.x); },
    lossTerm(ctx) {
      if (!target) return undefined;
      const kind = outputKind(ctx.model), t = target;
      return tf.tidy(() => {
        const kd = distillLoss({ student: ctx.prediction, studentKind: kind, teacher: t, teacherKind, labels: null, temperature });
        // the loop's cross-entropy (weight 1) is brought down to weight α
        return tf.add(tf.mul(kd, 1 - alpha), tf.mul(crossEntropy(ctx.batch.y!, ctx.prediction, kind), alpha - 1)) as tf.Scalar;
      });
    },
    afterStep: drop,
    phaseEnd: drop,
  };
}
