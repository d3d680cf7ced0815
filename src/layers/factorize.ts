// Factorizers: a Dense / Conv2D layer, a method and ranks → the stock layers
// that replace it. The method spec (./methods) decomposes the kernel and lays
// the factors out as kernels (layout.ts); chain.ts places them in stock layers.
import { OdecompError, fail } from "../core/errors.ts";
import { type AnyChainKernels, buildChain } from "./chain.ts";
import type { DecompositionOptions } from "./decompositions.ts";
import { methodSpec, REGISTRY } from "./methods/index.ts";
import type { ConvMethod, FactorizableLayer, LayerSpec, MethodName } from "./types.ts";

/** Largest meaningful rank(s) of each method for a layer (the rank at which the factorization is exact). */
export function maxRanks(layer: FactorizableLayer, method: MethodName): number[] {
  // Any Dense layer is bounded by its kernel's smaller side, whatever the method named.
  if (layer.className === "Dense") return [Math.min(layer.kernel.shape[0], layer.kernel.shape[1])];
  const spec = REGISTRY[method];
  if (!spec || spec.appliesTo !== layer.className) return fail("factorize", `method '${method}' does not apply to ${layer.className}`);
  return spec.maxRanks(layer);
}

/** Check a method applies to a layer and ranks are integers in [1, max]; returns the ranks as an array. */
export function checkRanks(layer: FactorizableLayer, method: MethodName, ranks: number | readonly number[]): number[] {
  const where = `factorize ${layer.name}`;
  const info = methodSpec(method, where);
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
export function chainKernels(layer: FactorizableLayer, method: MethodName, ranks: number[], o: DecompositionOptions = {}): AnyChainKernels {
  return { method, ...methodSpec(method, `factorize ${layer.name}`).kernels(layer, ranks, o) } as AnyChainKernels;
}

/** The stock layers replacing `layer` when factorized by `method` at `ranks`. */
export function factorizeLayer(layer: FactorizableLayer, method: MethodName, ranks: number | readonly number[], o: DecompositionOptions = {}): LayerSpec[] {
  const r = checkRanks(layer, method, ranks);
  let kernels: AnyChainKernels;
  try {
    kernels = chainKernels(layer, method, r, o);
  } catch (e) {
    // the decompositions name themselves ("svd: singular values overflow …"): add the weight
    if (e instanceof OdecompError) throw new OdecompError(`${layer.name}/kernel (${method}): ${e.message}`);
    throw e;
  }
  return buildChain(layer, kernels);
}

/** Dense → SVD chain (convenience; same as factorizeLayer(layer, "svd", rank)). */
export const fromDense = (layer: FactorizableLayer, rank: number, o?: DecompositionOptions) => factorizeLayer(layer, "svd", rank, o);
/** Conv2D → chain by a conv method. */
export const fromConv2D = (layer: FactorizableLayer, method: ConvMethod | (string & {}), ranks: number | readonly number[], o?: DecompositionOptions) =>
  factorizeLayer(layer, method, ranks, o);
