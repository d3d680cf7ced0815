// BatchNormalization's training-mode forward in one kernel (assembly/norm/batchnorm.ts): the batch
// mean and biased variance over every axis but the last, y = (x − mean)·γ/√(var + ε) + β, and the
// moving statistics updated as tfjs-layers does (m − (m − batch)·(1 − momentum)), so a BN layer's
// forward step is one kernel instead of tfjs-layers' moments + batchNorm + moving averages (together
// with the gradient, ≈ 76 kernels per layer per step; src/tfjs/batchnorm-train.ts is the op,
// src/train/fused-bn.ts swaps it in).
// Its gradient is OdecompBatchNormTrainGrad (kernels/BatchNormTrainGrad.ts). Not a stock tfjs kernel:
// the names, inputs and attributes of both are declared here.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { fail } from "../../core/errors.ts";
import { checkFloat32, copyOut, readIn, type WasmBackendLike } from "../bridge.ts";
import { outBuf } from "../resident.ts";

export const BatchNormTrain = "OdecompBatchNormTrain";
export const BatchNormTrainGrad = "OdecompBatchNormTrainGrad";

export interface BatchNormTrainInputs { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; movingMean: TensorInfo; movingVariance: TensorInfo }
export interface BatchNormTrainAttrs { epsilon: number; momentum: number }
/** saved: [x, gamma, mean, variance] as the forward pass wrote them. */
export interface BatchNormTrainGradInputs { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; mean: TensorInfo; variance: TensorInfo }
export interface BatchNormTrainGradAttrs { epsilon: number }

/** [rows, channels] of x's channels-last view; fails unless every per-channel input has `channels` values. */
export function channelsLastView(kernel: string, x: TensorInfo, perChannel: Record<string, TensorInfo>): [number, number] {
  checkFloat32(kernel, "x", x);
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || !(c > 0)) fail(kernel, `x has shape [${x.shape}]; expected rank ≥ 2 with a positive channel axis last`);
  const rows = util.sizeFromShape(x.shape) / c;
  if (!(rows > 0)) fail(kernel, `x has shape [${x.shape}]; expected at least one value per channel`);
  for (const [name, t] of Object.entries(perChannel)) {
    checkFloat32(kernel, name, t);
    if (util.sizeFromShape(t.shape) !== c) fail(kernel, `input '${name}' has shape [${t.shape}]; expected [${c}] (x's last axis)`);
  }
  return [rows, c];
}

function batchNormTrain(args: { inputs: BatchNormTrainInputs; backend: WasmBackendLike; attrs: BatchNormTrainAttrs }): TensorInfo[] {
  const { inputs: { x, gamma, beta, movingMean, movingVariance }, backend, attrs } = args;
  const [rows, c] = channelsLastView(BatchNormTrain, x, { gamma, beta, movingMean, movingVariance });
  return withScratch((s) => {
    const px = readIn(s, backend, x);
    const params = s.f32(4 * c);
    const pv = s.view(params, 4 * c);
    [gamma, beta, movingMean, movingVariance].forEach((t, i) => pv.set(backend.typedArrayFromHeap(t) as Float32Array, i * c));
    const py = outBuf(s, rows * c), stats = s.f32(4 * c);
    if (s.k.batchnorm_train_f32(px, rows, c, params, attrs.epsilon, 1 - attrs.momentum, py, stats) !== 0) {
      fail(BatchNormTrain, `x has shape [${x.shape}]; expected a positive number of rows and channels`);
    }
    // [y, mean, variance, newMovingMean, newMovingVariance]
    return [copyOut(s, backend, py, x.shape.slice()), ...[0, 1, 2, 3].map((i) => copyOut(s, backend, stats + 4 * i * c, [c]))];
  });
}

export const batchNormTrainConfig: KernelConfig = {
  kernelName: BatchNormTrain,
  backendName: "wasm",
  kernelFunc: batchNormTrain as unknown as KernelFunc,
};
