// Conv2DTranspose → 1×1 C→R → Conv2DTranspose R→T (same geometry): a truncated SVD on the input-channel
// side. A transposed conv scatters each input pixel's channels through the kernel, so a per-pixel channel
// map applied first composes exactly: W[i,j,t,c] = Σ_r Q[i,j,t,r]·P[c,r]. tfjs lays the kernel out as
// [kh, kw, T, C], so the (kh·kw·T) × C reshape is the matrix to factor.
import { truncationError } from "../../compress/ranks.ts";
import { sliceSpectrum, truncatedSvd } from "../decompositions.ts";
import { convChannelMatrix, denseFromSvd, mm, reshape, transpose2 } from "../layout.ts";
import type { FactorizableLayer } from "../types.ts";
import { ONE_BY_ONE, biasOf, convGeometry, inner, kernelSlices, last, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

/** Input h×w, kernel [kh, kw, T, C] and bias length of a transposed conv. */
function sizes(layer: FactorizableLayer, inShape: readonly number[]) {
  const [kh, kw, t, c] = layer.kernel.shape;
  return { kh, kw, t, c, h: inShape[0], w: inShape[1], b: layer.bias ? layer.bias.data.length : 0 };
}

export const transpose: MethodSpec = registerMethod({
  name: "transpose-svd", token: "tconv", appliesTo: "Conv2DTranspose", ranks: 1, chainLength: 2, kernelNames: ["first", "transposed"],
  chain: "1×1 C→R → transposed k×k R→T",
  maxRanks: (layer) => {
    const [kh, kw, t, c] = layer.kernel.shape;
    return [Math.min(kh * kw * t, c)];
  },
  spectra: (layer) => {
    const [kh, kw, t, c] = layer.kernel.shape;
    return { spectra: [sliceSpectrum(kernelSlices(layer.kernel), "cols")], shapes: [[kh * kw * t, c]] };
  },
  rankRule: "perSpectrum",
  estimateError: (s, r) => ({ relError: truncationError(s[0], r[0]), kind: "exact" }),
  cost(layer, ranks, inShape) {
    const { kh, kw, t, c, h, w, b } = sizes(layer, inShape);
    const r = ranks[0];
    return { params: c * r + kh * kw * t * r + b, flops: 2 * h * w * (c * r + kh * kw * t * r) };
  },
  kernels(layer, ranks, o) {
    const [kh, kw, t, c] = layer.kernel.shape;
    const { u, s, v } = truncatedSvd(convChannelMatrix(layer.kernel), ranks[0], o);
    const { first, second } = denseFromSvd(u, s, v); // (kh·kw·T)×R and R×C
    const r = first.shape[1];
    return { first: reshape(transpose2(second), [1, 1, c, r]), transposed: reshape(first, [kh, kw, t, r]) };
  },
  layers(layer, k, n) {
    const cfg = layer.config;
    convGeometry(cfg, `factorize ${layer.name}`);
    const pre = inner(cfg, n(0), { ...ONE_BY_ONE, filters: k.first.shape[3] });
    delete pre.output_padding;
    return [
      { className: "Conv2D", name: n(0), config: pre, weights: [weight("kernel", k.first)] },
      { className: "Conv2DTranspose", name: n(1), config: last(cfg, n(1), {}), weights: [weight("kernel", k.transposed), ...biasOf(layer)] },
    ];
  },
  fold(k) {
    const [, , c, r] = k[0].shape;
    const [kh, kw, t] = k[1].shape;
    return reshape(mm(reshape(k[1], [kh * kw * t, r]), reshape(k[0], [c, r]), false, true), [kh, kw, t, c]);
  },
  foldConfig: () => ({}),
});
