// Parameter and FLOP counts of stock layers and chains. FLOPs are per sample
// and count 2 per multiply-accumulate of the kernel (bias adds and
// activations are not counted), the usual convention of compression papers.
import { sizeOf } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import { methodSpec, type Cost } from "./methods/index.ts";
import { convGeometry, convOutLength } from "./methods/parts.ts";
import { layerAsSpec } from "./chain.ts";
import type { FactorizableLayer, LayerSpec, MethodName } from "./types.ts";

export type { Cost };
export { convOutLength };

/**
 * Cost of one Dense / Conv2D / DepthwiseConv2D / SeparableConv2D (weights depthwise, pointwise) / Conv2DTranspose on an input of shape `inShape` (no batch axis),
 * and its output shape.
 */
export function specCost(spec: Pick<LayerSpec, "className" | "config" | "weights">, inShape: readonly number[]): Cost & { outShape: number[] } {
  const params = spec.weights.reduce((a, x) => a + x.value.data.length, 0);
  const kernel = spec.weights[0].value;
  if (spec.className === "Dense") {
    const [n, m] = kernel.shape;
    const positions = sizeOf(inShape.slice(0, -1));
    return { params, flops: 2 * positions * n * m, outShape: [...inShape.slice(0, -1), m] };
  }
  if (inShape.length !== 3) fail("cost", `${spec.className} '${String(spec.config.name)}' needs a [H, W, C] input, got [${inShape}]`);
  const g = convGeometry(spec.config, "cost");
  if (spec.className === "Conv2DTranspose") {
    // tfjs's deconvLength: output padding and dilation do not enter it
    const out = (n: number, k: number, st: number) => (g.padding === "same" ? n * st : n * st + Math.max(k - st, 0));
    const [kh, kw, t, c] = kernel.shape;
    return { params, flops: 2 * inShape[0] * inShape[1] * kh * kw * t * c, outShape: [out(inShape[0], g.kh, g.strides[0]), out(inShape[1], g.kw, g.strides[1]), t] };
  }
  const ho = convOutLength(inShape[0], g.kh, g.strides[0], g.dilation[0], g.padding);
  const wo = convOutLength(inShape[1], g.kw, g.strides[1], g.dilation[1], g.padding);
  const [kh, kw, c, d] = kernel.shape;
  if (spec.className === "SeparableConv2D") {
    const pw = spec.weights[1].value.shape; // [1, 1, C·m, T]
    return { params, flops: 2 * ho * wo * (kh * kw * c * d + pw[2] * pw[3]), outShape: [ho, wo, pw[3]] };
  }
  const outC = spec.className === "Conv2D" ? d : c * d;
  return { params, flops: 2 * ho * wo * kh * kw * c * d, outShape: [ho, wo, outC] };
}

/** Cost of a chain run in order on `inShape`. */
export function chainCost(chain: LayerSpec[], inShape: readonly number[]): Cost & { outShape: number[] } {
  let shape = [...inShape];
  let params = 0, flops = 0;
  for (const spec of chain) {
    const c = specCost(spec, shape);
    params += c.params;
    flops += c.flops;
    shape = c.outShape;
  }
  return { params, flops, outShape: shape };
}

export function layerCost(layer: FactorizableLayer, inShape: readonly number[]): Cost & { outShape: number[] } {
  return specCost(layerAsSpec(layer), inShape);
}

/**
 * Cost of `layer` factorized by `method` at `ranks`, in closed form (no kernels built; the planner
 * evaluates this many times while allocating a budget): the method spec's `cost`. Equal to chainCost
 * of the built chain.
 */
export function methodCost(layer: FactorizableLayer, method: MethodName, ranks: readonly number[], inShape: readonly number[]): Cost {
  const spec = methodSpec(method, "cost");
  if (spec.appliesTo !== layer.className) fail("cost", `method '${method}' applies to ${spec.appliesTo}, not ${layer.className} '${layer.name}'`);
  return spec.cost(layer, ranks, inShape);
}
