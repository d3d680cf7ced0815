// Conv2D → 1×1 S→R → depthwise k×1 → depthwise 1×k → 1×1 R→T, from a rank-R CP of the kernel.
import { fail } from "../../core/errors.ts";
import { cpDecompose } from "../decompositions.ts";
import { cpFold, cpKernels } from "../layout.ts";
import { ONE_BY_ONE, biasOf, convGeometry, convSizes, depthwise, filters, inner, last, splitGeometryConfig, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";
import { channelModeSpectra } from "./tucker2.ts";

const dilated = (d: [number, number]) => d[0] > 1 || d[1] > 1;

export const cp: MethodSpec = registerMethod({
  name: "cp", token: "cp", appliesTo: "Conv2D", ranks: 1, chainLength: 4, kernelNames: ["first", "vertical", "horizontal", "last"],
  chain: "1×1 S→R → depthwise k×1 → depthwise 1×k → 1×1 R→T",
  cli: { aliases: [], shown: [{ name: "cp", at: 1 }] },
  // A CP rank is not bounded by one mode; min over modes of the product of the others bounds it.
  maxRanks: (layer) => {
    const [kh, kw, s, t] = layer.kernel.shape;
    return [Math.min(kw * s * t, kh * s * t, kh * kw * t, kh * kw * s)];
  },
  // The rank comes from Tucker-2's spectra (the larger of the two ranks, as Elhoushi et al.'s code).
  spectra: channelModeSpectra,
  rankRule: "pooled",
  // tfjs-layers 4.22 DepthwiseConv2D ignores dilation_rate in call() (a TODO in its source), so a
  // dilated conv has no exact CP chain of stock layers.
  leaveAlone(layer) {
    const g = convGeometry(layer.config, layer.name);
    return dilated(g.dilation) ? `cp left alone: dilation [${g.dilation}] needs a dilated DepthwiseConv2D, which tfjs-layers ignores` : null;
  },
  cost(layer, ranks, inShape) {
    const { kh, kw, s, t, h, w, ho, wo, b } = convSizes(layer, inShape);
    const r = ranks[0];
    return { params: r * (s + kh + kw + t) + b, flops: 2 * r * (h * w * s + ho * w * kh + ho * wo * (kw + t)) };
  },
  kernels(layer, ranks, o) {
    const { weights, factors } = cpDecompose(layer.kernel, ranks[0], o);
    return cpKernels(weights, factors[0], factors[1], factors[2], factors[3]);
  },
  layers(layer, k, n) {
    const where = `factorize ${layer.name}`;
    const cfg = layer.config;
    const g = convGeometry(cfg, where);
    if (dilated(g.dilation)) fail(where, `CP needs DepthwiseConv2D with dilation [${g.dilation}], which tfjs-layers ignores; use tucker2, spatial-svd or channel-svd for dilated convs`);
    return [
      { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...ONE_BY_ONE, filters: filters(k.first) }), weights: [weight("kernel", k.first)] },
      { className: "DepthwiseConv2D", name: n(1), config: depthwise(cfg, n(1), [g.kh, 1], [g.strides[0], 1], [g.dilation[0], 1], g.padding), weights: [weight("depthwise_kernel", k.vertical)] },
      { className: "DepthwiseConv2D", name: n(2), config: depthwise(cfg, n(2), [1, g.kw], [1, g.strides[1]], [1, g.dilation[1]], g.padding), weights: [weight("depthwise_kernel", k.horizontal)] },
      { className: "Conv2D", name: n(3), config: last(cfg, n(3), { ...ONE_BY_ONE }), weights: [weight("kernel", k.last), ...biasOf(layer)] },
    ];
  },
  fold: (k) => cpFold(k[0], k[1], k[2], k[3]),
  foldConfig: (chain, kernel, where) => ({ ...splitGeometryConfig(chain, 1, 2, where), filters: kernel.shape[3] }),
});
