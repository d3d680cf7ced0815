// Swaps a model's BatchNormalization layers onto the fused training op (src/tfjs/batchnorm-train.ts)
// while odecomp trains it: one wasm kernel forward and one backward per BN layer, instead of the
// ≈ 76 tfjs kernels per BN layer that tfjs-layers' BatchNormalization costs a training step (moments,
// batchNorm, the moving averages, their gradients, the tape's copies): a ResNet-20 step (21 BN layers)
// ran 3,009 kernels with it and runs 1,413 with this (bench/engine.bench.ts --model=resnet20).
//
// The layers stay stock BatchNormalization objects: only their `call` is shadowed by an own
// property for the duration, and `restore()` deletes it. A subclass would have to keep the
// className "BatchNormalization" for model.json and would need the model rebuilt (or its layers
// swapped in the graph) before and after training; shadowing one method changes no topology, no
// weight, no serialization, and the saved model is byte-identical to an unfused one's.
// Only the supported case takes the fused path: training mode, x float32 with its channels last
// (axis −1 or rank − 1), center and scale on, and the wasm backend active with odecomp's kernels
// registered (`batchNormTrainAvailable`); every other call runs the stock `call`.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { batchNormTrain, batchNormTrainAvailable } from "../tfjs/batchnorm-train.ts";
import { batchNormLayers } from "./recalibrate.ts";
import { ShadowedCalls } from "./shadow-call.ts";

/** The parts of tfjs-layers' BatchNormalization (private in its typings) the fused call reads. */
interface BatchNormLike {
  getClassName(): string;
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gamma?: tfl.LayerVariable;
  readonly beta?: tfl.LayerVariable;
  readonly movingMean: tfl.LayerVariable;
  readonly movingVariance: tfl.LayerVariable;
}

const shadowed = new ShadowedCalls();

/** Counts of fused and stock training-mode calls since load (for tests and the engine bench). */
export const fusedBatchNormCounts = { fused: 0, stock: 0 };

/** Whether this training-mode call of `layer` on `x` can take the fused op. */
export function fusedBatchNormApplies(layer: BatchNormLike, x: tf.Tensor): boolean {
  const rank = x.rank;
  return x.dtype === "float32" && rank >= 2 && (layer.axis === -1 || layer.axis === rank - 1) &&
    layer.center && layer.scale && layer.gamma !== undefined && layer.beta !== undefined &&
    batchNormTrainAvailable();
}

/**
 * Shadow the `call` of every BatchNormalization layer in `model` (nested models too) with the
 * fused training op where it applies. Returns the function that puts the stock `call` back; the
 * layers already fused (a nested fuse) are left to the outer restore.
 */
export function fuseBatchNorm(model: tfl.LayersModel): () => void {
  // frozen layers too: tfjs-layers runs their training-mode call on batch statistics as well
  return shadowed.shadowTraining(batchNormLayers(model, { frozen: true }) as unknown as BatchNormLike[], fusedBatchNormCounts, fusedBatchNormApplies,
    (layer) => (x) => tf.tidy(() => {
      const r = batchNormTrain(x, layer.gamma!.read(), layer.beta!.read(), layer.movingMean.read(), layer.movingVariance.read(),
        { epsilon: layer.epsilon, momentum: layer.momentum });
      layer.movingMean.write(r.newMovingMean);
      layer.movingVariance.write(r.newMovingVariance);
      return r.y;
    }));
}

/** Whether `layer`'s call is the fused one now. */
export function isBatchNormFused(layer: tfl.layers.Layer): boolean {
  return shadowed.has(layer);
}

/** Run `fn` with `model`'s BatchNormalization layers fused, restoring them afterwards (also on a throw). */
export async function withFusedBatchNorm<T>(model: tfl.LayersModel, fn: () => T | Promise<T>): Promise<T> {
  const restore = fuseBatchNorm(model);
  try {
    return await fn();
  } finally {
    restore();
  }
}
