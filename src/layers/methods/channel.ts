// Conv2D → k×k S→R → 1×1 R→T, from a truncated SVD of the (kh·kw·S) × T reshape of the kernel.
import { truncationError } from "../../compress/ranks.ts";
import { sliceSpectrum, truncatedSvd } from "../decompositions.ts";
import { channelFold, channelKernels, convChannelMatrix, denseFromSvd } from "../layout.ts";
import { ONE_BY_ONE, biasOf, convGeometry, convSizes, filters, geometryConfig, inner, kernelSlices, last, weight } from "./parts.ts";
import type { MethodSpec } from "./spec.ts";

export const channel: MethodSpec = {
  name: "channel-svd", token: "channel", appliesTo: "Conv2D", ranks: 1, chainLength: 2, kernelNames: ["spatial", "pointwise"],
  chain: "k×k S→R → 1×1 R→T",
  cli: { aliases: ["channel", "svd"], shown: [{ name: "svd", at: 2, note: "channel SVD" }, { name: "channel", at: 4 }] },
  maxRanks: (layer) => {
    const [kh, kw, s, t] = layer.kernel.shape;
    return [Math.min(kh * kw * s, t)];
  },
  spectra: (layer) => {
    const [kh, kw, s, t] = layer.kernel.shape;
    return { spectra: [sliceSpectrum(kernelSlices(layer.kernel), "cols")], shapes: [[kh * kw * s, t]] };
  },
  rankRule: "perSpectrum",
  estimateError: (s, r) => ({ relError: truncationError(s[0], r[0]), kind: "exact" }),
  cost(layer, ranks, inShape) {
    const { kh, kw, s, t, ho, wo, b } = convSizes(layer, inShape);
    const r = ranks[0];
    return { params: kh * kw * s * r + r * t + b, flops: 2 * ho * wo * (kh * kw * s * r + r * t) };
  },
  kernels(layer, ranks, o) {
    const K = layer.kernel;
    const { u, s, v } = truncatedSvd(convChannelMatrix(K), ranks[0], o);
    const { first, second } = denseFromSvd(u, s, v);
    return channelKernels(first, second, K.shape[0], K.shape[1]);
  },
  layers(layer, k, n) {
    const cfg = layer.config;
    const g = convGeometry(cfg, `factorize ${layer.name}`);
    return [
      { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...geometryConfig(g), filters: filters(k.spatial) }), weights: [weight("kernel", k.spatial)] },
      { className: "Conv2D", name: n(1), config: last(cfg, n(1), { ...ONE_BY_ONE }), weights: [weight("kernel", k.pointwise), ...biasOf(layer)] },
    ];
  },
  fold: (k) => channelFold(k[0], k[1]),
  foldConfig: (chain, kernel, where) => ({ ...geometryConfig(convGeometry(chain[0].config, where)), filters: kernel.shape[3] }),
};
