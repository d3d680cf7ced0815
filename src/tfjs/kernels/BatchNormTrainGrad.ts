// The gradient of OdecompBatchNormTrain (kernels/BatchNormTrain.ts) in one kernel: dx, dγ and dβ
// from dy, x, γ and the batch statistics the forward pass wrote (assembly/norm/batchnorm.ts), where
// tfjs-core's gradients of moments + batchNorm run a few dozen (Mean, Sum, Multiply, Sub, Tile, Reshape…).
import { type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { withScratch } from "../../core/heap.ts";
import { fail } from "../../core/errors.ts";
import { checkFloat32, copyOut, readIn, type WasmBackendLike } from "../bridge.ts";
import { outBuf } from "../resident.ts";
import { BatchNormTrainGrad, channelsLastView, type BatchNormTrainGradAttrs, type BatchNormTrainGradInputs } from "./BatchNormTrain.ts";

function batchNormTrainGrad(args: { inputs: BatchNormTrainGradInputs; backend: WasmBackendLike; attrs: BatchNormTrainGradAttrs }): TensorInfo[] {
  const { inputs: { dy, x, gamma, mean, variance }, backend, attrs } = args;
  const [rows, c] = channelsLastView(BatchNormTrainGrad, x, { gamma, mean, variance });
  checkFloat32(BatchNormTrainGrad, "dy", dy);
  if (dy.shape.join() !== x.shape.join()) fail(BatchNormTrainGrad, `dy has shape [${dy.shape}]; expected x's shape [${x.shape}]`);
  return withScratch((s) => {
    const px = readIn(s, backend, x), pdy = readIn(s, backend, dy);
    const params = s.f32(3 * c);
    const pv = s.view(params, 3 * c);
    [gamma, mean, variance].forEach((t, i) => pv.set(backend.typedArrayFromHeap(t) as Float32Array, i * c));
    const pdx = outBuf(s, rows * c), grads = s.f32(2 * c);
    if (s.k.batchnorm_train_grad_f32(px, pdy, rows, c, params, attrs.epsilon, pdx, grads) !== 0) {
      fail(BatchNormTrainGrad, `x has shape [${x.shape}]; expected a positive number of rows and channels`);
    }
    // [dx, dgamma, dbeta]
    return [copyOut(s, backend, pdx, x.shape.slice()), ...[0, 1].map((i) => copyOut(s, backend, grads + 4 * i * c, gamma.shape.slice()))];
  });
}

export const batchNormTrainGradConfig: KernelConfig = {
  kernelName: BatchNormTrainGrad,
  backendName: "wasm",
  kernelFunc: batchNormTrainGrad as unknown as KernelFunc,
};
