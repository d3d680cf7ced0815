// The chain k×k S→R → 1×1 R→T shared by channel-svd and tucker1 (they differ
// in how the kernels are found): its ranks, spectra, cost, layers and fold.
import { truncationError } from "../../compress/ranks.ts";
import { sliceSpectrum } from "../decompositions.ts";
import { channelFold } from "../layout.ts";
import { ONE_BY_ONE, biasOf, convGeometry, convSizes, filters, geometryConfig, inner, kernelSlices, last, weight } from "./parts.ts";
import type { MethodSpec } from "./spec.ts";

export const channelChain: Omit<MethodSpec, "name" | "token" | "chain" | "cli" | "kernels"> = {
  appliesTo: "Conv2D", ranks: 1, chainLength: 2, kernelNames: ["spatial", "pointwise"],
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
