// The fused conv + bias + activation training op (kernels/Conv2DBiasAct.ts) on tfjs's tape: one
// forward kernel and one backward kernel per conv, through a registered gradient as tfjs's own ops.
// The backward kernel computes dx, dW and db together; dx only when the op was told someone needs it
// (`needDx`), and if a gradient for x is asked for anyway (a gradient with respect to the model's
// input), it is computed from stock ops instead, so the result never depends on the hint.
import * as tf from "@tensorflow/tfjs-core";
import { Conv2DBackpropInput } from "@tensorflow/tfjs-core";
import { Conv2DBiasAct, Conv2DBiasActGrad, type BiasAct, type Conv2DBiasActAttrs } from "./kernels/Conv2DBiasAct.ts";

export type { BiasAct } from "./kernels/Conv2DBiasAct.ts";

let gradientRegistered = false;

function registerGradientOnce(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: Conv2DBiasAct,
    inputsToSave: ["x", "filter"],
    outputsToSave: [true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor4D;
      const [x, filter, y] = saved as tf.Tensor4D[];
      const a = attrs as unknown as Conv2DBiasActAttrs;
      const outs = tf.engine().runKernel(Conv2DBiasActGrad, { dy, y, x, filter }, { ...a }) as tf.Tensor[];
      const dx: tf.Tensor | undefined = a.needDx ? outs[0] : undefined;
      const [dW, db] = outs.slice(a.needDx ? 1 : 0);
      return {
        x: () => dx ?? inputGradient(dy, y, filter, x.shape, a),
        filter: () => dW,
        ...(a.hasBias ? { bias: () => db } : {}),
      };
    },
  });
}

/** dx from stock ops, for an x gradient the op was told nobody needs. */
function inputGradient(dy: tf.Tensor4D, y: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], a: Conv2DBiasActAttrs): tf.Tensor {
  const dz = a.activation === "relu" ? tf.mul(dy, tf.step(y)) : dy;
  return tf.engine().runKernel(Conv2DBackpropInput, { dy: dz, filter }, { strides: a.strides, pad: a.pad, dataFormat: "NHWC", inputShape }) as tf.Tensor;
}

/** Whether the op can run here: the wasm backend is active and odecomp's kernels are registered. */
export function conv2dBiasActAvailable(): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(Conv2DBiasAct, "wasm") !== undefined && tf.getKernel(Conv2DBiasActGrad, "wasm") !== undefined;
}

export interface Conv2dBiasActOptions {
  strides: [number, number];
  pad: "same" | "valid";
  activation: BiasAct;
  /** false when no gradient with respect to x will be asked for (default true). */
  needDx?: boolean;
}

/** act(conv2d(x, filter) + bias) with channels-last x, no dilation; the wasm backend with odecomp's kernels only (`conv2dBiasActAvailable`). */
export function conv2dBiasAct(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | null, o: Conv2dBiasActOptions): tf.Tensor4D {
  registerGradientOnce();
  const attrs: Conv2DBiasActAttrs = { strides: o.strides, pad: o.pad, activation: o.activation, needDx: o.needDx ?? true, hasBias: bias !== null };
  return tf.engine().runKernel(Conv2DBiasAct, bias ? { x, filter, bias } : { x, filter }, { ...attrs }) as tf.Tensor4D;
}
