// Conv2D → k×1 S→R → 1×k R→T, from a truncated SVD of the (kh·S) × (kw·T) rearranged kernel.
import { truncationError } from "../../compress/ranks.ts";
import { gramSingularValues, truncatedSvd } from "../decompositions.ts";
import { convSpatialMatrix, scaleColumns, spatialFold, spatialKernels } from "../layout.ts";
import { biasOf, convGeometry, convSizes, filters, inner, last, splitGeometryConfig, weight } from "./parts.ts";
import { registerMethod } from "./registry.ts";
import type { MethodSpec } from "./spec.ts";

export const spatial: MethodSpec = registerMethod({
  name: "spatial-svd", token: "spatial", appliesTo: "Conv2D", ranks: 1, chainLength: 2, kernelNames: ["vertical", "horizontal"],
  chain: "k×1 S→R → 1×k R→T",
  cli: { aliases: ["spatial"], shown: [{ name: "spatial", at: 3 }] },
  maxRanks: (layer) => {
    const [kh, kw, s, t] = layer.kernel.shape;
    return [Math.min(kh * s, kw * t)];
  },
  spectra: (layer, o) => {
    const m = convSpatialMatrix(layer.kernel);
    return { spectra: [gramSingularValues(m, o)], shapes: [[m.shape[0], m.shape[1]]] };
  },
  rankRule: "perSpectrum",
  estimateError: (s, r) => ({ relError: truncationError(s[0], r[0]), kind: "exact" }),
  cost(layer, ranks, inShape) {
    const { kh, kw, s, t, w, ho, wo, b } = convSizes(layer, inShape);
    const r = ranks[0];
    return { params: kh * s * r + kw * r * t + b, flops: 2 * (ho * w * kh * s * r + ho * wo * kw * r * t) };
  },
  kernels(layer, ranks, o) {
    const K = layer.kernel;
    const { u, s, v } = truncatedSvd(convSpatialMatrix(K), ranks[0], o);
    const root = Array.from(s, (x) => Math.sqrt(Math.max(x, 0)));
    return spatialKernels(scaleColumns(u, root), scaleColumns(v, root), K.shape[0], K.shape[1]);
  },
  // k×1 carries the height stride/dilation, 1×k the width ones; with 'same' padding each
  // axis gets exactly the padding (including an asymmetric split) the k×k conv gave it.
  layers(layer, k, n) {
    const cfg = layer.config;
    const g = convGeometry(cfg, `factorize ${layer.name}`);
    return [
      { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { kernel_size: [g.kh, 1], strides: [g.strides[0], 1], dilation_rate: [g.dilation[0], 1], padding: g.padding, filters: filters(k.vertical) }), weights: [weight("kernel", k.vertical)] },
      { className: "Conv2D", name: n(1), config: last(cfg, n(1), { kernel_size: [1, g.kw], strides: [1, g.strides[1]], dilation_rate: [1, g.dilation[1]], padding: g.padding }), weights: [weight("kernel", k.horizontal), ...biasOf(layer)] },
    ];
  },
  fold: (k) => spatialFold(k[0], k[1]),
  foldConfig: (chain, kernel, where) => ({ ...splitGeometryConfig(chain, 0, 1, where), filters: kernel.shape[3] }),
});
