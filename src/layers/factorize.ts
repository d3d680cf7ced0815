// Per-method factorizers: a Dense / Conv2D layer and ranks → the stock layers
// that replace it. Decomposition (decompositions.ts) → factors → kernels
// (layout.ts) → chain (chain.ts).
import { fail } from "../core/errors.ts";
import { type ChainKernels, buildChain } from "./chain.ts";
import { type DecompositionOptions, cpDecompose, partialTucker, truncatedSvd } from "./decompositions.ts";
import {
  channelKernels, convChannelMatrix, convSpatialMatrix, cpKernels, denseFromSvd, scaleColumns,
  spatialKernels, tucker1Kernels, tucker2Kernels,
} from "./layout.ts";
import { METHODS, type FactorizableLayer, type LayerSpec, type Method } from "./types.ts";

/** Largest meaningful rank(s) of each method for a layer (the rank at which the factorization is exact). */
export function maxRanks(layer: FactorizableLayer, method: Method): number[] {
  if (layer.className === "Dense") return [Math.min(layer.kernel.shape[0], layer.kernel.shape[1])];
  const [kh, kw, s, t] = layer.kernel.shape;
  switch (method) {
    case "tucker2": return [Math.min(s, kh * kw * t), Math.min(t, kh * kw * s)];
    case "tucker1":
    case "channel-svd": return [Math.min(kh * kw * s, t)];
    case "spatial-svd": return [Math.min(kh * s, kw * t)];
    // A CP rank is not bounded by one mode; min over modes of the product of the others bounds it.
    case "cp": return [Math.min(kw * s * t, kh * s * t, kh * kw * t, kh * kw * s)];
    default: return fail("factorize", `method '${method}' does not apply to Conv2D`);
  }
}

/** Check a method applies to a layer and ranks are integers in [1, max]; returns the ranks as an array. */
export function checkRanks(layer: FactorizableLayer, method: Method, ranks: number | readonly number[]): number[] {
  const where = `factorize ${layer.name}`;
  const info = METHODS[method];
  if (!info) fail(where, `unknown method '${String(method)}'; expected one of ${Object.keys(METHODS).join(", ")}`);
  if (info.appliesTo !== layer.className) fail(where, `method '${method}' applies to ${info.appliesTo}, not ${layer.className}`);
  const r = typeof ranks === "number" ? [ranks] : [...ranks];
  if (r.length !== info.ranks) fail(where, `method '${method}' takes ${info.ranks} rank(s), got [${r}]`);
  const max = maxRanks(layer, method);
  r.forEach((x, i) => {
    if (!Number.isInteger(x) || x < 1 || x > max[i]) fail(where, `rank ${x} is out of range for ${method}${info.ranks > 1 ? ` (rank ${i + 1} of ${info.ranks})` : ""}; expected an integer in [1, ${max[i]}] for kernel [${layer.kernel.shape}]`);
  });
  return r;
}

/** Decompose the layer's kernel and lay the factors out as chain kernels. */
export function chainKernels(layer: FactorizableLayer, method: Method, ranks: number[], o: DecompositionOptions = {}): ChainKernels {
  const K = layer.kernel;
  switch (method) {
    case "svd": {
      const { u, s, v } = truncatedSvd(K, ranks[0], o);
      return { method, ...denseFromSvd(u, s, v) };
    }
    case "channel-svd": {
      const { u, s, v } = truncatedSvd(convChannelMatrix(K), ranks[0], o);
      const { first, second } = denseFromSvd(u, s, v);
      const k = channelKernels(first, second, K.shape[0], K.shape[1]);
      return { method, ...k };
    }
    case "spatial-svd": {
      const { u, s, v } = truncatedSvd(convSpatialMatrix(K), ranks[0], o);
      const root = Array.from(s, (x) => Math.sqrt(Math.max(x, 0)));
      return { method, ...spatialKernels(scaleColumns(u, root), scaleColumns(v, root), K.shape[0], K.shape[1]) };
    }
    case "tucker1": {
      const { core, factors } = partialTucker(K, ranks, [3], o);
      return { method, ...tucker1Kernels(core, factors[0]) };
    }
    case "tucker2": {
      const { core, factors } = partialTucker(K, ranks, [2, 3], o);
      return { method, ...tucker2Kernels(core, factors[0], factors[1]) };
    }
    case "cp": {
      const { weights, factors } = cpDecompose(K, ranks[0], o);
      return { method, ...cpKernels(weights, factors[0], factors[1], factors[2], factors[3]) };
    }
  }
}

/** The stock layers replacing `layer` when factorized by `method` at `ranks`. */
export function factorizeLayer(layer: FactorizableLayer, method: Method, ranks: number | readonly number[], o: DecompositionOptions = {}): LayerSpec[] {
  const r = checkRanks(layer, method, ranks);
  return buildChain(layer, chainKernels(layer, method, r, o));
}

/** Dense → SVD chain (convenience; same as factorizeLayer(layer, "svd", rank)). */
export const fromDense = (layer: FactorizableLayer, rank: number, o?: DecompositionOptions) => factorizeLayer(layer, "svd", rank, o);
/** Conv2D → chain by a conv method. */
export const fromConv2D = (layer: FactorizableLayer, method: Exclude<Method, "svd">, ranks: number | readonly number[], o?: DecompositionOptions) =>
  factorizeLayer(layer, method, ranks, o);
