// The fused BatchNormalization training op on the wasm backend with odecomp's kernels: one kernel
// forward (OdecompBatchNormTrain) and one backward (OdecompBatchNormTrainGrad), recorded on tfjs's
// tape through a registered gradient, as tfjs's own ops are. The batch mean and variance outputs
// only feed the moving statistics (tfjs-layers writes them to non-trainable variables), so they are
// treated as constants by the gradient, as they are in tfjs-layers' graph once written.
import * as tf from "@tensorflow/tfjs-core";
import { BatchNormTrain, BatchNormTrainGrad, type BatchNormTrainAttrs } from "./kernels/BatchNormTrain.ts";

export interface BatchNormTrainResult {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** movingMean − (movingMean − mean)·(1 − momentum), in f32 as tfjs-layers computes it. */
  newMovingMean: tf.Tensor1D;
  newMovingVariance: tf.Tensor1D;
}

let gradientRegistered = false;

function registerGradientOnce(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BatchNormTrain,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true, false, false],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, gamma, mean, variance] = saved;
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BatchNormTrainGrad, { dy, x, gamma, mean, variance },
        { epsilon: (attrs as unknown as BatchNormTrainAttrs).epsilon }) as tf.Tensor[];
      return {
        x: () => dx, gamma: () => dgamma, beta: () => dbeta,
        movingMean: () => tf.zerosLike(mean), movingVariance: () => tf.zerosLike(variance),
      };
    },
  });
}

/** Whether the fused op can run here: the wasm backend is active and odecomp's kernels are registered. */
export function batchNormTrainAvailable(): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(BatchNormTrain, "wasm") !== undefined && tf.getKernel(BatchNormTrainGrad, "wasm") !== undefined;
}

/**
 * BatchNormalization in training mode over every axis but the last (channels-last x, float32
 * everywhere, per-channel tensors of x's last dimension): the wasm backend with odecomp's kernels
 * registered only (`batchNormTrainAvailable`).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, movingMean: tf.Tensor, movingVariance: tf.Tensor, attrs: BatchNormTrainAttrs): BatchNormTrainResult {
  registerGradientOnce();
  const [y, mean, variance, newMovingMean, newMovingVariance] = tf.engine().runKernel(BatchNormTrain,
    { x, gamma, beta, movingMean, movingVariance }, { ...attrs }) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, newMovingMean: newMovingMean as tf.Tensor1D, newMovingVariance: newMovingVariance as tf.Tensor1D };
}
