// Chains of stock layers: building them from kernels (each method's layers are
// placed by its spec in ./methods), recognising them by name, and folding them
// back into one layer (reconstruct).
//
// Naming convention (survives save/load in stock tfjs, since layer names are
// stored in model.json): the i-th layer of the chain that replaces layer L
// factorized with method M is named `L__odc_<token>_<i>` (token: the method
// spec's, e.g. svd, tucker2, tucker1, cp, spatial, channel). The last layer of
// a chain carries L's own config (activation, bias, regularizers,
// initializers), so folding restores it.
import type { Tensor } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import { chainNamePattern, methodSpec, REGISTRY } from "./methods/index.ts";
import { biasOf, weight } from "./methods/parts.ts";
import type { FactorizableLayer, LayerConfig, LayerSpec, MethodName } from "./types.ts";

export { convGeometry } from "./methods/parts.ts";

export function chainLayerName(original: string, method: MethodName, index: number): string {
  return `${original}__odc_${methodSpec(method, "chainLayerName").token}_${index}`;
}

/** Names of every layer of the chain replacing `original` (e.g. ["fc1__odc_svd_0", "fc1__odc_svd_1"]). */
export function chainLayerNames(original: string, method: MethodName): string[] {
  return [...Array(chainLength(method)).keys()].map((i) => chainLayerName(original, method, i));
}

/** Parse a chain layer name; null for any other name. */
export function parseChainName(name: string): { original: string; method: MethodName; index: number } | null {
  const m = chainNamePattern().exec(name);
  if (!m) return null;
  const method = Object.values(REGISTRY).find((s) => s.token === m[2])!.name;
  return { original: m[1], method, index: Number(m[3]) };
}

/** Number of layers in each method's chain. */
export function chainLength(method: MethodName): number {
  return methodSpec(method, "chainLength").chainLength;
}

/** Kernels of each built-in method's chain, in chain order (see layout.ts for how factors become these). */
export type ChainKernels =
  | { method: "svd"; first: Tensor; second: Tensor }
  | { method: "tucker2"; first: Tensor; core: Tensor; last: Tensor }
  | { method: "tucker1" | "channel-svd"; spatial: Tensor; pointwise: Tensor }
  | { method: "spatial-svd"; vertical: Tensor; horizontal: Tensor }
  | { method: "cp"; first: Tensor; vertical: Tensor; horizontal: Tensor; last: Tensor }
  | { method: "separable-svd"; depthwise: Tensor; first: Tensor; second: Tensor }
  | { method: "transpose-svd"; first: Tensor; transposed: Tensor };

/** Kernels of any method's chain: its name and the kernels its spec names (`kernelNames`). */
export type AnyChainKernels = ChainKernels | ({ method: string } & Record<string, Tensor | string>);

/** Stock layers replacing `layer`, from the chain's kernels. Pure: no decomposition here. */
export function buildChain(layer: FactorizableLayer, k: AnyChainKernels): LayerSpec[] {
  const where = `factorize ${layer.name}`;
  const spec = methodSpec(k.method, where);
  if (layer.className !== spec.appliesTo) fail(where, `method '${k.method}' needs a ${spec.appliesTo} layer, got ${layer.className}`);
  const kernels = k as unknown as Record<string, Tensor>;
  for (const n of spec.kernelNames) if (!kernels[n]) fail(where, `method '${k.method}' needs kernel '${n}'; got ${Object.keys(k).filter((x) => x !== "method").join(", ")}`);
  return spec.layers(layer, kernels, (i) => chainLayerName(layer.name, spec.name, i));
}

const weightOf = (spec: LayerSpec, name: string, where: string): Tensor =>
  spec.weights.find((x) => x.name === name)?.value ?? fail(where, `chain layer '${spec.name}' has no '${name}' weight`);

/** Fold a chain (in order) back into the original layer: same class, original geometry, product kernel. */
export function foldChain(original: string, method: MethodName, chain: LayerSpec[]): FactorizableLayer {
  const where = `reconstruct ${original}`;
  const spec = methodSpec(method, where);
  if (chain.length !== spec.chainLength) fail(where, `chain has ${chain.length} layers; method '${method}' needs ${spec.chainLength}`);
  const lastSpec = chain[chain.length - 1];
  const bias = lastSpec.weights.find((x) => x.name === "bias")?.value ?? null;
  const kernel = spec.fold(chain.map((c) => weightOf(c, c.className === "DepthwiseConv2D" ? "depthwise_kernel" : "kernel", where)));
  // a field the fold sets to undefined is one the original kind does not take (SeparableConv2D's kernel_*)
  const config: LayerConfig = Object.fromEntries(Object.entries({ ...lastSpec.config, name: original, ...spec.foldConfig(chain, kernel, where) }).filter(([, v]) => v !== undefined));
  return { className: spec.appliesTo, name: original, config, kernel, bias, ...spec.foldKept?.(chain, where) };
}

/** The original layer as a one-layer spec (for rewriting it back into a topology). */
export function layerAsSpec(layer: FactorizableLayer): LayerSpec {
  return {
    className: layer.className, name: layer.name, config: { ...layer.config, name: layer.name },
    weights: layer.className === "SeparableConv2D"
      ? [weight("depthwise_kernel", layer.depthwise ?? fail("layerAsSpec", `SeparableConv2D '${layer.name}' has no depthwise kernel`)), weight("pointwise_kernel", layer.kernel), ...biasOf(layer)]
      : [weight("kernel", layer.kernel), ...biasOf(layer)],
  };
}
