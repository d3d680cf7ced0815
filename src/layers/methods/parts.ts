// Pieces the method specs share: conv geometry, chain layer configs, and the
// layer sizes their cost formulas use.
import { fail } from "../../core/errors.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { ConvGeometry, FactorizableLayer, LayerConfig, LayerSpec } from "../types.ts";

const pair = (v: unknown, what: string, where: string): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return [v[0], v[1]];
  if (Array.isArray(v) && v.length === 1 && Number.isInteger(v[0])) return [v[0], v[0]];
  return fail(where, `${what} is ${JSON.stringify(v)}; expected an integer or a pair of integers`);
};

/** Stride, dilation, padding and kernel size of a Conv2D config (channels-last only). */
export function convGeometry(config: LayerConfig, where = "convGeometry"): ConvGeometry {
  const fmt = config.data_format ?? "channels_last";
  if (fmt !== "channels_last") fail(where, `data_format is '${String(fmt)}'; only 'channels_last' is supported`);
  const [kh, kw] = pair(config.kernel_size, "kernel_size", where);
  const strides = pair(config.strides ?? 1, "strides", where);
  const dilation = pair(config.dilation_rate ?? 1, "dilation_rate", where);
  const padding = config.padding ?? "valid";
  if (padding !== "same" && padding !== "valid") fail(where, `padding is '${String(padding)}'; expected 'same' or 'valid'`);
  return { kh, kw, strides, dilation, padding };
}

/** Output length of one conv axis, as tfjs computes it. */
export function convOutLength(n: number, k: number, stride: number, dilation: number, padding: "same" | "valid"): number {
  const dk = (k - 1) * dilation + 1;
  const len = padding === "same" ? n : n - dk + 1;
  return Math.max(0, Math.floor((len + stride - 1) / stride));
}

/** Sizes a conv method's cost formula uses: kernel [kh, kw, s, t], input h×w, output ho×wo, bias length b. */
export function convSizes(layer: FactorizableLayer, inShape: readonly number[]) {
  const b = layer.bias ? layer.bias.data.length : 0;
  const [kh, kw, s, t] = layer.kernel.shape;
  const g = convGeometry(layer.config, "cost");
  const [h, w] = inShape;
  const ho = convOutLength(h, g.kh, g.strides[0], g.dilation[0], g.padding);
  const wo = convOutLength(w, g.kw, g.strides[1], g.dilation[1], g.padding);
  return { kh, kw, s, t, h, w, ho, wo, b };
}

// Config fields an inner (non-last) chain layer must not inherit.
const LAST_ONLY = ["kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "batch_input_shape", "input_shape", "batch_size"];

/** Config of an inner chain layer: the original's, linear, no bias, no regularizers. */
export function inner(config: LayerConfig, name: string, over: LayerConfig): LayerConfig {
  const c: LayerConfig = { ...config };
  for (const k of LAST_ONLY) delete c[k];
  return { ...c, ...over, name, activation: "linear", use_bias: false };
}

/** Config of the last chain layer: the original's (activation, bias, regularizers), without input shape. */
export function last(config: LayerConfig, name: string, over: LayerConfig): LayerConfig {
  const c: LayerConfig = { ...config, ...over, name };
  delete c.batch_input_shape;
  delete c.input_shape;
  delete c.batch_size;
  return c;
}

/** Config of a DepthwiseConv2D chain layer (multiplier 1, linear, no bias). */
export function depthwise(config: LayerConfig, name: string, kernel: [number, number], strides: [number, number], dilation: [number, number], padding: string): LayerConfig {
  const c: LayerConfig = {
    name, trainable: config.trainable ?? true, kernel_size: kernel, strides, padding, data_format: "channels_last",
    dilation_rate: dilation, depth_multiplier: 1, activation: "linear", use_bias: false,
  };
  if (config.dtype !== undefined) c.dtype = config.dtype;
  if (config.kernel_initializer !== undefined) c.depthwise_initializer = config.kernel_initializer;
  return c;
}

export const weight = (name: string, value: Tensor) => ({ name, value });
export const biasOf = (layer: FactorizableLayer) => (layer.bias ? [weight("bias", layer.bias)] : []);

/** Geometry of a 1×1 conv. */
export const ONE_BY_ONE = { kernel_size: [1, 1], strides: [1, 1], dilation_rate: [1, 1], padding: "valid" };

/** A conv config's geometry fields from a ConvGeometry. */
export const geometryConfig = (g: ConvGeometry): LayerConfig => ({ kernel_size: [g.kh, g.kw], strides: g.strides, dilation_rate: g.dilation, padding: g.padding });

/** Geometry of a conv chain: layer `v` carries the height axis, layer `h` the width axis. */
export function splitGeometryConfig(chain: LayerSpec[], v: number, h: number, where: string): LayerConfig {
  const a = convGeometry(chain[v].config, where), b = convGeometry(chain[h].config, where);
  return { kernel_size: [a.kh, b.kw], strides: [a.strides[0], b.strides[1]], dilation_rate: [a.dilation[0], b.dilation[1]], padding: a.padding };
}

/** Number of output filters of a conv kernel [kh, kw, in, out]. */
export const filters = (t: Tensor) => t.shape[3];

/** A conv kernel [kh, kw, S, T] viewed as kh·kw slices of S×T (for sliceSpectrum, no copy). */
export const kernelSlices = (k: Tensor): Tensor => ({ data: k.data, shape: [k.shape[0] * k.shape[1], k.shape[2], k.shape[3]] });
