// Swaps a model's Conv2D layers onto the fused conv + bias + activation training op
// (src/tfjs/conv-bias-act.ts) while odecomp trains it: FusedConv2D forward (bias and relu inside the
// conv) and one backward kernel for dx, dW and db, where tfjs-layers' call trains a relu conv as
// Conv2D → Add → Relu and backward as Step → Multiply → Sum → two conv gradient kernels (tfjs-core
// fuses bias and activation only outside gradient recording). bench/engine.bench.ts measures it.
//
// As in fused-bn.ts the layers stay stock Conv2D objects: only their `call` is shadowed for the
// duration (shadow-call.ts), so topology, weights and the saved model.json are untouched.
// The fused path takes training-mode calls of 2-D convs with channels-last
// float32 input of rank 4, no dilation, 'same' or 'valid' padding and a relu or linear activation,
// with the wasm backend and odecomp's kernels active (`conv2dBiasActAvailable`); every other call
// runs the stock `call`.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { conv2dBiasAct, conv2dBiasActAvailable, type BiasAct } from "../tfjs/conv-bias-act.ts";
import { ShadowedCalls } from "./shadow-call.ts";
import { leafLayers } from "./recalibrate.ts";

/** The parts of tfjs-layers' Conv2D (private in its typings) the fused call reads. */
interface ConvLike {
  getClassName(): string;
  readonly rank: number;
  readonly strides: number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly dilationRate: number | number[];
  readonly activation: { getClassName(): string } | null;
  readonly kernel: tfl.LayerVariable;
  readonly bias: tfl.LayerVariable | null;
  readonly inboundNodes: { inboundLayers: { getClassName(): string }[] }[];
}

/** Counts of fused and stock training-mode calls since load (for tests and the engine bench). */
export const fusedConvCounts = { fused: 0, stock: 0 };

const shadowed = new ShadowedCalls();

function activationOf(layer: ConvLike): BiasAct | null {
  const name = layer.activation?.getClassName() ?? "linear";
  return name === "relu" || name === "linear" ? name : null;
}

/** Whether this training-mode call of `layer` on `x` can take the fused op. */
export function fusedConvApplies(layer: ConvLike, x: tf.Tensor): boolean {
  const d = layer.dilationRate;
  const dilated = (Array.isArray(d) ? d : [d]).some((v) => v !== 1);
  return x.dtype === "float32" && x.rank === 4 && layer.rank === 2 && layer.dataFormat === "channelsLast" && !dilated &&
    (layer.padding === "same" || layer.padding === "valid") && layer.strides.length === 2 && activationOf(layer) !== null &&
    conv2dBiasActAvailable();
}

/** Whether the layer's input can depend on trainable weights: false only when it reads InputLayers alone (then nobody asks for dx). */
function inputMayNeedGradient(layer: ConvLike): boolean {
  const nodes = layer.inboundNodes ?? [];
  return !(nodes.length > 0 && nodes.every((n) => n.inboundLayers.length > 0 && n.inboundLayers.every((l) => l.getClassName() === "InputLayer")));
}

function convLayers(model: tfl.LayersModel): ConvLike[] {
  return leafLayers(model).filter((l) => l.getClassName() === "Conv2D") as unknown as ConvLike[];
}

/**
 * Shadow the `call` of every Conv2D layer in `model` (nested models too) with the fused training op
 * where it applies. Returns the function that puts the stock `call` back; layers already shadowed
 * (a nested fuse, or someone else's) are left alone.
 */
export function fuseConvActivation(model: tfl.LayersModel): () => void {
  return shadowed.shadowTraining(convLayers(model), fusedConvCounts, fusedConvApplies, (layer) => {
    const needDx = inputMayNeedGradient(layer);
    return (x) => tf.tidy(() => conv2dBiasAct(x as tf.Tensor4D, layer.kernel.read() as tf.Tensor4D, layer.bias ? layer.bias.read() as tf.Tensor1D : null, {
      strides: [layer.strides[0], layer.strides[1]], pad: layer.padding as "same" | "valid", activation: activationOf(layer)!, needDx,
    }));
  });
}

/** Whether `layer`'s call is the fused one now. */
export function isConvFused(layer: tfl.layers.Layer): boolean {
  return shadowed.has(layer);
}
