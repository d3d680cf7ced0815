// Chains of stock layers: building them from kernels (configs, names, strides
// and padding placed per method), recognising them by name, and folding them
// back into one layer (reconstruct).
//
// Naming convention (survives save/load in stock tfjs, since layer names are
// stored in model.json): the i-th layer of the chain that replaces layer L
// factorized with method M is named `L__odc_<token>_<i>` (token: svd, tucker2,
// tucker1, cp, spatial, channel). The last layer of a chain carries L's own
// config (activation, bias, regularizers, initializers), so folding restores it.
import type { Tensor } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import { channelFold, cpFold, denseFold, spatialFold, tucker2Fold } from "./layout.ts";
import { METHODS, type ConvGeometry, type FactorizableLayer, type LayerConfig, type LayerSpec, type Method } from "./types.ts";

const CHAIN_NAME = /^(.+)__odc_(svd|tucker2|tucker1|cp|spatial|channel)_(\d+)$/;

export function chainLayerName(original: string, method: Method, index: number): string {
  return `${original}__odc_${METHODS[method].token}_${index}`;
}

/** Parse a chain layer name; null for any other name. */
export function parseChainName(name: string): { original: string; method: Method; index: number } | null {
  const m = CHAIN_NAME.exec(name);
  if (!m) return null;
  const method = (Object.keys(METHODS) as Method[]).find((k) => METHODS[k].token === m[2])!;
  return { original: m[1], method, index: Number(m[3]) };
}

/** Number of layers in each method's chain. */
export function chainLength(method: Method): number {
  return method === "tucker2" ? 3 : method === "cp" ? 4 : 2;
}

const pair = (v: unknown, what: string, where: string): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return [v[0], v[1]];
  if (Array.isArray(v) && v.length === 1 && Number.isInteger(v[0])) return [v[0], v[0]];
  return fail(where, `${what} is ${JSON.stringify(v)}; expected an integer or a pair of integers`);
};

/** Stride, dilation, padding and kernel size of a Conv2D config (channels-last only). */
export function convGeometry(config: LayerConfig, where = "convGeometry"): ConvGeometry {
  const fmt = config.data_format ?? "channels_last";
  if (fmt !== "channels_last") fail(where, `data_format is '${String(fmt)}'; only 'channels_last' is supported`);
  const [kh, kw] = pair(config.kernel_size, "kernel_size", where);
  const strides = pair(config.strides ?? 1, "strides", where);
  const dilation = pair(config.dilation_rate ?? 1, "dilation_rate", where);
  const padding = config.padding ?? "valid";
  if (padding !== "same" && padding !== "valid") fail(where, `padding is '${String(padding)}'; expected 'same' or 'valid'`);
  return { kh, kw, strides, dilation, padding };
}

// Config fields an inner (non-last) chain layer must not inherit.
const LAST_ONLY = ["kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "batch_input_shape", "input_shape", "batch_size"];

function inner(config: LayerConfig, name: string, over: LayerConfig): LayerConfig {
  const c: LayerConfig = { ...config };
  for (const k of LAST_ONLY) delete c[k];
  return { ...c, ...over, name, activation: "linear", use_bias: false };
}

function last(config: LayerConfig, name: string, over: LayerConfig): LayerConfig {
  const c: LayerConfig = { ...config, ...over, name };
  delete c.batch_input_shape;
  delete c.input_shape;
  delete c.batch_size;
  return c;
}

function depthwise(config: LayerConfig, name: string, kernel: [number, number], strides: [number, number], dilation: [number, number], padding: string): LayerConfig {
  const c: LayerConfig = {
    name, trainable: config.trainable ?? true, kernel_size: kernel, strides, padding, data_format: "channels_last",
    dilation_rate: dilation, depth_multiplier: 1, activation: "linear", use_bias: false,
  };
  if (config.dtype !== undefined) c.dtype = config.dtype;
  if (config.kernel_initializer !== undefined) c.depthwise_initializer = config.kernel_initializer;
  return c;
}

const w = (name: string, value: Tensor) => ({ name, value });
const biasOf = (layer: FactorizableLayer) => (layer.bias ? [w("bias", layer.bias)] : []);

/** Kernels of each method's chain, in chain order (see layout.ts for how factors become these). */
export type ChainKernels =
  | { method: "svd"; first: Tensor; second: Tensor }
  | { method: "tucker2"; first: Tensor; core: Tensor; last: Tensor }
  | { method: "tucker1" | "channel-svd"; spatial: Tensor; pointwise: Tensor }
  | { method: "spatial-svd"; vertical: Tensor; horizontal: Tensor }
  | { method: "cp"; first: Tensor; vertical: Tensor; horizontal: Tensor; last: Tensor };

/** Stock layers replacing `layer`, from the chain's kernels. Pure: no decomposition here. */
export function buildChain(layer: FactorizableLayer, k: ChainKernels): LayerSpec[] {
  const where = `factorize ${layer.name}`;
  const n = (i: number) => chainLayerName(layer.name, k.method, i);
  const cfg = layer.config;
  if (k.method === "svd") {
    if (layer.className !== "Dense") fail(where, `method 'svd' needs a Dense layer, got ${layer.className}`);
    return [
      { className: "Dense", name: n(0), config: inner(cfg, n(0), { units: k.first.shape[1] }), weights: [w("kernel", k.first)] },
      { className: "Dense", name: n(1), config: last(cfg, n(1), {}), weights: [w("kernel", k.second), ...biasOf(layer)] },
    ];
  }
  if (layer.className !== "Conv2D") fail(where, `method '${k.method}' needs a Conv2D layer, got ${layer.className}`);
  const g = convGeometry(cfg, where);
  const one = { kernel_size: [1, 1], strides: [1, 1], dilation_rate: [1, 1], padding: "valid" };
  const orig = { kernel_size: [g.kh, g.kw], strides: g.strides, dilation_rate: g.dilation, padding: g.padding };
  const filters = (t: Tensor) => t.shape[3];
  switch (k.method) {
    case "tucker2":
      return [
        { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...one, filters: filters(k.first) }), weights: [w("kernel", k.first)] },
        { className: "Conv2D", name: n(1), config: inner(cfg, n(1), { ...orig, filters: filters(k.core) }), weights: [w("kernel", k.core)] },
        { className: "Conv2D", name: n(2), config: last(cfg, n(2), { ...one }), weights: [w("kernel", k.last), ...biasOf(layer)] },
      ];
    case "tucker1":
    case "channel-svd":
      return [
        { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...orig, filters: filters(k.spatial) }), weights: [w("kernel", k.spatial)] },
        { className: "Conv2D", name: n(1), config: last(cfg, n(1), { ...one }), weights: [w("kernel", k.pointwise), ...biasOf(layer)] },
      ];
    case "spatial-svd":
      // k×1 carries the height stride/dilation, 1×k the width ones; with 'same' padding each
      // axis gets exactly the padding (including an asymmetric split) the k×k conv gave it.
      return [
        { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { kernel_size: [g.kh, 1], strides: [g.strides[0], 1], dilation_rate: [g.dilation[0], 1], padding: g.padding, filters: filters(k.vertical) }), weights: [w("kernel", k.vertical)] },
        { className: "Conv2D", name: n(1), config: last(cfg, n(1), { kernel_size: [1, g.kw], strides: [1, g.strides[1]], dilation_rate: [1, g.dilation[1]], padding: g.padding }), weights: [w("kernel", k.horizontal), ...biasOf(layer)] },
      ];
    case "cp":
      // tfjs-layers 4.22 DepthwiseConv2D ignores dilation_rate in call() (a TODO in its source), so a
      // dilated conv has no exact CP chain of stock layers.
      if (g.dilation[0] > 1 || g.dilation[1] > 1) fail(where, `CP needs DepthwiseConv2D with dilation [${g.dilation}], which tfjs-layers ignores; use tucker2, spatial-svd or channel-svd for dilated convs`);
      return [
        { className: "Conv2D", name: n(0), config: inner(cfg, n(0), { ...one, filters: filters(k.first) }), weights: [w("kernel", k.first)] },
        { className: "DepthwiseConv2D", name: n(1), config: depthwise(cfg, n(1), [g.kh, 1], [g.strides[0], 1], [g.dilation[0], 1], g.padding), weights: [w("depthwise_kernel", k.vertical)] },
        { className: "DepthwiseConv2D", name: n(2), config: depthwise(cfg, n(2), [1, g.kw], [1, g.strides[1]], [1, g.dilation[1]], g.padding), weights: [w("depthwise_kernel", k.horizontal)] },
        { className: "Conv2D", name: n(3), config: last(cfg, n(3), { ...one }), weights: [w("kernel", k.last), ...biasOf(layer)] },
      ];
  }
}

const weightOf = (spec: LayerSpec, name: string, where: string): Tensor =>
  spec.weights.find((x) => x.name === name)?.value ?? fail(where, `chain layer '${spec.name}' has no '${name}' weight`);

/** Fold a chain (in order) back into the original layer: same class, original geometry, product kernel. */
export function foldChain(original: string, method: Method, chain: LayerSpec[]): FactorizableLayer {
  const where = `reconstruct ${original}`;
  if (chain.length !== chainLength(method)) fail(where, `chain has ${chain.length} layers; method '${method}' needs ${chainLength(method)}`);
  const lastSpec = chain[chain.length - 1];
  const bias = lastSpec.weights.find((x) => x.name === "bias")?.value ?? null;
  const K = (i: number) => weightOf(chain[i], chain[i].className === "DepthwiseConv2D" ? "depthwise_kernel" : "kernel", where);
  const cfg: LayerConfig = { ...lastSpec.config, name: original };
  if (method === "svd") {
    return { className: "Dense", name: original, config: cfg, kernel: denseFold(K(0), K(1)), bias };
  }
  let kernel: Tensor;
  let geo: LayerConfig;
  const g = (i: number) => convGeometry(chain[i].config, where);
  switch (method) {
    case "tucker2": {
      kernel = tucker2Fold(K(0), K(1), K(2));
      const c = g(1);
      geo = { kernel_size: [c.kh, c.kw], strides: c.strides, dilation_rate: c.dilation, padding: c.padding };
      break;
    }
    case "tucker1":
    case "channel-svd": {
      kernel = channelFold(K(0), K(1));
      const c = g(0);
      geo = { kernel_size: [c.kh, c.kw], strides: c.strides, dilation_rate: c.dilation, padding: c.padding };
      break;
    }
    case "spatial-svd": {
      kernel = spatialFold(K(0), K(1));
      const v = g(0), h = g(1);
      geo = { kernel_size: [v.kh, h.kw], strides: [v.strides[0], h.strides[1]], dilation_rate: [v.dilation[0], h.dilation[1]], padding: v.padding };
      break;
    }
    case "cp": {
      kernel = cpFold(K(0), K(1), K(2), K(3));
      const v = g(1), h = g(2);
      geo = { kernel_size: [v.kh, h.kw], strides: [v.strides[0], h.strides[1]], dilation_rate: [v.dilation[0], h.dilation[1]], padding: v.padding };
      break;
    }
  }
  return { className: "Conv2D", name: original, config: { ...cfg, ...geo, filters: kernel.shape[3] }, kernel, bias };
}

/** The original layer as a one-layer spec (for rewriting it back into a topology). */
export function layerAsSpec(layer: FactorizableLayer): LayerSpec {
  return {
    className: layer.className, name: layer.name, config: { ...layer.config, name: layer.name },
    weights: [w("kernel", layer.kernel), ...biasOf(layer)],
  };
}
