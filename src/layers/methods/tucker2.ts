// Conv2D → 1×1 S→Rin → k×k Rin→Rout → 1×1 Rout→T, by partial Tucker on the two channel modes.
import { truncationError } from "../../compress/ranks.ts";
import { partialTucker, sliceSpectrum } from "../decompositions.ts";
import { tucker2Fold, tucker2Kernels } from "../layout.ts";
import { ONE_BY_ONE, biasOf, convGeometry, convSizes, filters, geometryConfig, inner, kernelSlices, last, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec, RankSpectra } from "./spec.ts";
import type { FactorizableLayer } from "../types.ts";

/** Spectra of the input- and output-channel unfoldings (Tucker-2's, also CP's rank rule). */
export function channelModeSpectra(layer: FactorizableLayer): RankSpectra {
  const [kh, kw, s, t] = layer.kernel.shape;
  const slices = kernelSlices(layer.kernel);
  return { spectra: [sliceSpectrum(slices, "rows"), sliceSpectrum(slices, "cols")], shapes: [[s, kh * kw * t], [t, kh * kw * s]] };
}

export const tucker2: MethodSpec = registerMethod({
  name: "tucker2", token: "tucker2", appliesTo: "Conv2D", ranks: 2, chainLength: 3, kernelNames: ["first", "core", "last"],
  chain: "1×1 S→Rin → k×k Rin→Rout → 1×1 Rout→T",
  cli: { aliases: [], shown: [{ name: "tucker2", at: 0 }] },
  maxRanks: (layer) => {
    const [kh, kw, s, t] = layer.kernel.shape;
    return [Math.min(s, kh * kw * t), Math.min(t, kh * kw * s)];
  },
  spectra: channelModeSpectra,
  rankRule: "perSpectrum",
  // Truncating two modes: the error is at most the root sum of squares of the two truncations.
  estimateError(s, r) {
    const e0 = truncationError(s[0], r[0]), e1 = truncationError(s[1], r[1]);
    return { relError: Math.min(1, Math.sqrt(e0 * e0 + e1 * e1)), kind: "bound" };
  },
  cost(layer, ranks, inShape) {
    const { kh, kw, s, t, h, w, ho, wo, b } = convSizes(layer, inShape);
    const [ri, ro] = ranks;
    return { params: s * ri + kh * kw * ri * ro + ro * t + b, flops: 2 * (h * w * s * ri + ho * wo * (kh * kw * ri * ro + ro * t)) };
  },
  kernels(layer, ranks, o) {
    const { core, factors } = partialTucker(layer.kernel, ranks, [2, 3], o);
    return tucker2Kernels(core, factors[0], factors[1]);
  },
  layers(layer, k, n) {
    const cfg = layer.config;
    const g = convGeometry(cfg, `factorize ${layer.name}`);
    return [
      { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...ONE_BY_ONE, filters: filters(k.first) }), weights: [weight("kernel", k.first)] },
      { className: "Conv2D", name: n(1), config: inner(cfg, n(1), { ...geometryConfig(g), filters: filters(k.core) }), weights: [weight("kernel", k.core)] },
      { className: "Conv2D", name: n(2), config: last(cfg, n(2), { ...ONE_BY_ONE }), weights: [weight("kernel", k.last), ...biasOf(layer)] },
    ];
  },
  fold: (k) => tucker2Fold(k[0], k[1], k[2]),
  foldConfig: (chain, kernel, where) => ({ ...geometryConfig(convGeometry(chain[1].config, where)), filters: kernel.shape[3] }),
});
