// Parameter and FLOP counts of stock layers and chains. FLOPs are per sample
// and count 2 per multiply-accumulate of the kernel (bias adds and
// activations are not counted), the usual convention of compression papers.
import { sizeOf } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import { convGeometry } from "./chain.ts";
import type { FactorizableLayer, LayerSpec } from "./types.ts";

export interface Cost {
  params: number;
  flops: number;
}

/** Output length of one conv axis, as tfjs computes it. */
export function convOutLength(n: number, k: number, stride: number, dilation: number, padding: "same" | "valid"): number {
  const dk = (k - 1) * dilation + 1;
  const len = padding === "same" ? n : n - dk + 1;
  return Math.max(0, Math.floor((len + stride - 1) / stride));
}

/**
 * Cost of one Dense / Conv2D / DepthwiseConv2D on an input of shape `inShape` (no batch axis),
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
  const ho = convOutLength(inShape[0], g.kh, g.strides[0], g.dilation[0], g.padding);
  const wo = convOutLength(inShape[1], g.kw, g.strides[1], g.dilation[1], g.padding);
  const [kh, kw, c, d] = kernel.shape;
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
  const weights = [{ name: "kernel", value: layer.kernel }, ...(layer.bias ? [{ name: "bias", value: layer.bias }] : [])];
  return specCost({ className: layer.className, config: layer.config, weights }, inShape);
}

/**
 * Cost of `layer` factorized by `method` at `ranks`, in closed form (no kernels built; the planner
 * evaluates this many times while allocating a budget). Equal to chainCost of the built chain.
 */
export function methodCost(layer: FactorizableLayer, method: string, ranks: readonly number[], inShape: readonly number[]): Cost {
  const b = layer.bias ? layer.bias.data.length : 0;
  if (layer.className === "Dense") {
    const [n, m] = layer.kernel.shape;
    const p = sizeOf(inShape.slice(0, -1));
    const r = ranks[0];
    return { params: r * (n + m) + b, flops: 2 * p * r * (n + m) };
  }
  const [kh, kw, s, t] = layer.kernel.shape;
  const g = convGeometry(layer.config, "cost");
  const [h, w] = inShape;
  const ho = convOutLength(h, g.kh, g.strides[0], g.dilation[0], g.padding);
  const wo = convOutLength(w, g.kw, g.strides[1], g.dilation[1], g.padding);
  switch (method) {
    case "tucker2": {
      const [ri, ro] = ranks;
      return { params: s * ri + kh * kw * ri * ro + ro * t + b, flops: 2 * (h * w * s * ri + ho * wo * (kh * kw * ri * ro + ro * t)) };
    }
    case "tucker1":
    case "channel-svd": {
      const r = ranks[0];
      return { params: kh * kw * s * r + r * t + b, flops: 2 * ho * wo * (kh * kw * s * r + r * t) };
    }
    case "spatial-svd": {
      const r = ranks[0];
      return { params: kh * s * r + kw * r * t + b, flops: 2 * (ho * w * kh * s * r + ho * wo * kw * r * t) };
    }
    case "cp": {
      const r = ranks[0];
      return { params: r * (s + kh + kw + t) + b, flops: 2 * r * (h * w * s + ho * w * kh + ho * wo * (kw + t)) };
    }
    default:
      return fail("cost", `unknown method '${method}' for Conv2D '${layer.name}'`);
  }
}
