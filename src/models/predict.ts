// Inference on a whole batch at once. tfjs-layers' LayersModel.predict cuts its input into slices of 32
// unless told otherwise (its `batchSize` option), runs every layer once per slice and joins the outputs.
// The slices cost factorized models most (more, thinner layers): on 1,000 images (wasm + odecomp kernels,
// 2 threads) the main job's factorized CNN took 0.71–0.93 s in slices and 0.30–0.40 s in one call; Tucker-2
// factorized at 40 % of the FLOPs, vgg / resnet20 / wide-vgg ran 1.62× / 1.21× / 1.32× faster in one call,
// their dense models 1.08× / 0.99× / 0.99×. The slices do bound memory on large models, so the batch is
// the largest that keeps the model's biggest activation within ACTIVATION_BYTES, and never below tfjs's 32.
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

/** The most bytes one layer's output may take for a whole predict batch (float32). */
export const ACTIVATION_BYTES = 128 * 2 ** 20;

/** tfjs-layers' own predict batch (its default), the floor here. */
export const TFJS_PREDICT_BATCH = 32;

/** Floats per sample of the model's largest layer output, or null when a layer's output size is not fixed. */
export function largestActivation(model: tfl.LayersModel): number | null {
  let most = 0;
  for (const layer of model.layers) {
    const shape = layer.outputShape;
    const shapes = (Array.isArray(shape[0]) || shape.length === 0 ? shape : [shape]) as (number | null)[][];
    for (const s of shapes) {
      let n = 1;
      for (const d of s.slice(1)) {
        if (d === null || !(d >= 0)) return null;
        n *= d;
      }
      most = Math.max(most, n);
    }
  }
  return most;
}

/** The predict batch for `n` samples: all of them when the largest activation allows, else as many as it does (at least 32). */
export function predictBatchSize(model: tfl.LayersModel, n: number): number {
  const per = largestActivation(model);
  if (per === null) return Math.min(n, TFJS_PREDICT_BATCH);
  const fits = Math.floor(ACTIVATION_BYTES / (4 * Math.max(per, 1)));
  return Math.max(1, Math.min(n, Math.max(TFJS_PREDICT_BATCH, fits)));
}

/** model.predict(x) in as few calls as memory allows (see predictBatchSize). */
export function predict(model: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  return model.predict(x, { batchSize: predictBatchSize(model, x.shape[0] ?? 1) }) as tf.Tensor;
}
