// SeparableConv2D → DepthwiseConv2D (its own depthwise kernel) → 1×1 N→R → 1×1 R→T: a truncated SVD
// of the pointwise half only (N = C·depth_multiplier). The depthwise half is already cheap and is kept
// as it is; the pointwise matrix is most of a separable layer's parameters and FLOPs.
import { truncationError } from "../../compress/ranks.ts";
import { fail } from "../../core/errors.ts";
import type { Tensor } from "../../core/tensor.ts";
import { sliceSpectrum, truncatedSvd } from "../decompositions.ts";
import { channelFold, channelKernels, convChannelMatrix, denseFromSvd } from "../layout.ts";
import type { FactorizableLayer, LayerConfig, LayerSpec } from "../types.ts";
import { ONE_BY_ONE, biasOf, convGeometry, convSizes, filters, geometryConfig, kernelSlices, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

const pick = (c: LayerConfig, keys: string[]): LayerConfig => Object.fromEntries(keys.filter((k) => c[k] !== undefined).map((k) => [k, c[k]]));
const COMMON = ["trainable", "dtype", "data_format"];

/** The SeparableConv2D's depthwise kernel, or a failure naming the layer. */
const depthwiseOf = (layer: FactorizableLayer): Tensor => layer.depthwise ?? fail(`factorize ${layer.name}`, `SeparableConv2D '${layer.name}' has no depthwise kernel`);

/** A 1×1 Conv2D config from the separable layer's pointwise settings (`full`: its activation, bias and regularizers too). */
function pointwiseConfig(c: LayerConfig, name: string, units: number, full: boolean): LayerConfig {
  const base: LayerConfig = { name, ...pick(c, COMMON), ...ONE_BY_ONE, filters: units };
  if (c.pointwise_initializer !== undefined) base.kernel_initializer = c.pointwise_initializer;
  if (!full) return { ...base, activation: "linear", use_bias: false };
  const out: LayerConfig = { ...base, ...pick(c, ["activation", "use_bias", "bias_initializer", "bias_regularizer", "activity_regularizer", "bias_constraint"]) };
  if (c.pointwise_regularizer !== undefined) out.kernel_regularizer = c.pointwise_regularizer;
  if (c.pointwise_constraint !== undefined) out.kernel_constraint = c.pointwise_constraint;
  return out;
}

export const separable: MethodSpec = registerMethod({
  name: "separable-svd", token: "sep", appliesTo: "SeparableConv2D", ranks: 1, chainLength: 3, kernelNames: ["depthwise", "first", "second"],
  chain: "depthwise k×k C→C·m → 1×1 C·m→R → 1×1 R→T",
  maxRanks: (layer) => [Math.min(layer.kernel.shape[2], layer.kernel.shape[3])],
  spectra: (layer) => ({ spectra: [sliceSpectrum(kernelSlices(layer.kernel), "cols")], shapes: [[layer.kernel.shape[2], layer.kernel.shape[3]]] }),
  rankRule: "perSpectrum",
  // The chain's DepthwiseConv2D would carry the dilation, and tfjs-layers' DepthwiseConv2D ignores it.
  leaveAlone(layer) {
    const g = convGeometry(layer.config, layer.name);
    return g.dilation.some((d) => d !== 1) ? `separable-svd left alone: dilation [${g.dilation}] needs a dilated DepthwiseConv2D, which tfjs-layers ignores` : null;
  },
  estimateError: (s, r) => ({ relError: truncationError(s[0], r[0]), kind: "exact" }),
  cost(layer, ranks, inShape) {
    const dw = depthwiseOf(layer);
    const { s: n, t, ho, wo, b } = convSizes(layer, inShape);
    const r = ranks[0];
    const dwSize = dw.data.length;
    return { params: dwSize + n * r + r * t + b, flops: 2 * ho * wo * (dwSize + n * r + r * t) };
  },
  kernels(layer, ranks, o) {
    const { u, s, v } = truncatedSvd(convChannelMatrix(layer.kernel), ranks[0], o);
    const { first, second } = denseFromSvd(u, s, v);
    const k = channelKernels(first, second, 1, 1);
    return { depthwise: depthwiseOf(layer), first: k.spatial, second: k.pointwise };
  },
  layers(layer, k, n) {
    const c = layer.config;
    const g = convGeometry(c, `factorize ${layer.name}`);
    const dwConfig: LayerConfig = {
      name: n(0), ...pick(c, COMMON), ...geometryConfig(g), depth_multiplier: k.depthwise.shape[3], activation: "linear", use_bias: false,
      ...pick(c, ["depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"]),
    };
    return [
      { className: "DepthwiseConv2D", name: n(0), config: dwConfig, weights: [weight("depthwise_kernel", k.depthwise)] },
      { className: "Conv2D", name: n(1), config: pointwiseConfig(c, n(1), filters(k.first), false), weights: [weight("kernel", k.first)] },
      { className: "Conv2D", name: n(2), config: pointwiseConfig(c, n(2), filters(k.second), true), weights: [weight("kernel", k.second), ...biasOf(layer)] },
    ];
  },
  // k[0] is the depthwise kernel (kept, see foldKept); the factorized kernel is the pointwise one.
  fold: (k) => channelFold(k[1], k[2]),
  foldConfig(chain, kernel, where) {
    const dw = chain[0].config, lastC = chain[2].config;
    const g = convGeometry(dw, where);
    const out: LayerConfig = {
      ...geometryConfig(g), depth_multiplier: dw.depth_multiplier ?? 1, filters: kernel.shape[3],
      ...pick(dw, ["depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"]),
      pointwise_initializer: lastC.kernel_initializer, pointwise_regularizer: lastC.kernel_regularizer, pointwise_constraint: lastC.kernel_constraint,
      kernel_initializer: undefined, kernel_regularizer: undefined, kernel_constraint: undefined,
    };
    return out;
  },
  foldKept: (chain: LayerSpec[], where: string) => ({
    depthwise: chain[0].weights.find((w) => w.name === "depthwise_kernel")?.value ?? fail(where, `chain layer '${chain[0].name}' has no 'depthwise_kernel' weight`),
  }),
});
