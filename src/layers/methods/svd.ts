// Dense → Dense n→r → Dense r→m, from a truncated SVD W ≈ U·diag(s)·Vᵀ.
import { sizeOf } from "../../core/tensor.ts";
import { truncationError } from "../../compress/ranks.ts";
import { gramSingularValues, truncatedSvd } from "../decompositions.ts";
import { denseFold, denseFromSvd } from "../layout.ts";
import { biasOf, inner, last, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

export const svd: MethodSpec = registerMethod({
  name: "svd", token: "svd", appliesTo: "Dense", ranks: 1, chainLength: 2, kernelNames: ["first", "second"],
  chain: "Dense n→r → Dense r→m",
  maxRanks: (layer) => [Math.min(layer.kernel.shape[0], layer.kernel.shape[1])],
  spectra: (layer, o) => ({ spectra: [gramSingularValues(layer.kernel, o)], shapes: [[layer.kernel.shape[0], layer.kernel.shape[1]]] }),
  rankRule: "perSpectrum",
  estimateError: (s, r) => ({ relError: truncationError(s[0], r[0]), kind: "exact" }),
  cost(layer, ranks, inShape) {
    const b = layer.bias ? layer.bias.data.length : 0;
    const [n, m] = layer.kernel.shape;
    const p = sizeOf(inShape.slice(0, -1));
    const r = ranks[0];
    return { params: r * (n + m) + b, flops: 2 * p * r * (n + m) };
  },
  kernels(layer, ranks, o) {
    const { u, s, v } = truncatedSvd(layer.kernel, ranks[0], o);
    return denseFromSvd(u, s, v);
  },
  layers: (layer, k, n) => [
    { className: "Dense", name: n(0), config: inner(layer.config, n(0), { units: k.first.shape[1] }), weights: [weight("kernel", k.first)] },
    { className: "Dense", name: n(1), config: last(layer.config, n(1), {}), weights: [weight("kernel", k.second), ...biasOf(layer)] },
  ],
  fold: (k) => denseFold(k[0], k[1]),
  foldConfig: () => ({}),
});
