// Forward FLOPs of the weighted layer kinds the planner keeps as they are
// (depthwise, separable, transposed and 1-D convolutions, and any conv in
// channels_first), so model totals and budgets count them. Same convention as
// cost.ts: per sample, 2 per multiply-accumulate of the kernel, bias adds and
// activations not counted. tfjs-free; read from the model.json config, the
// weights and the layer's input shape (no batch axis).
import type { Tensor } from "../core/tensor.ts";
import type { LayerConfig } from "./types.ts";
import { convOutLength } from "./cost.ts";

const ints = (v: unknown, n: number, dflt: number): number[] => {
  if (v === undefined || v === null) return Array(n).fill(dflt);
  if (typeof v === "number") return Array(n).fill(v);
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v.length === n ? v : Array(n).fill(v[0]);
  return [];
};

/** Spatial dims and channels of an input, per data_format (channels_last unless stated). */
function split(config: LayerConfig, inShape: readonly number[], rank: number): { spatial: number[]; channels: number } | null {
  if (inShape.length !== rank + 1 || inShape.some((d) => !(d > 0))) return null;
  const first = config.data_format === "channels_first";
  return first ? { spatial: inShape.slice(1), channels: inShape[0] } : { spatial: inShape.slice(0, rank), channels: inShape[rank] };
}

/** Output spatial size of a (non-transposed) conv; null when the config is not understood. */
function outSpatial(config: LayerConfig, spatial: number[], kernel: number[]): number[] | null {
  const n = spatial.length;
  const strides = ints(config.strides, n, 1), dilation = ints(config.dilation_rate, n, 1);
  const padding = config.padding ?? "valid";
  if (strides.length !== n || dilation.length !== n) return null;
  if (padding !== "same" && padding !== "valid" && padding !== "causal") return null;
  return spatial.map((x, i) => convOutLength(x, kernel[i], strides[i], dilation[i], padding === "same" ? "same" : padding === "causal" ? "same" : "valid"));
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Forward FLOPs per sample of one call of a weighted layer, or 0 for kinds (or configs) the count does
 * not model. `weights` maps the tfjs weight names ("kernel", "depthwise_kernel", "pointwise_kernel") to tensors.
 */
export function layerFlops(className: string, config: LayerConfig, weights: Record<string, Tensor | undefined>, inShape: readonly number[]): number {
  const k = weights.kernel, dk = weights.depthwise_kernel, pk = weights.pointwise_kernel;
  switch (className) {
    case "Dense": {
      if (!k || k.shape.length !== 2) return 0;
      return 2 * prod(inShape.slice(0, -1)) * k.shape[0] * k.shape[1];
    }
    case "Conv1D":
    case "Conv2D": {
      const rank = className === "Conv1D" ? 1 : 2;
      const s = split(config, inShape, rank);
      if (!k || k.shape.length !== rank + 2 || !s) return 0;
      const out = outSpatial(config, s.spatial, k.shape.slice(0, rank));
      if (!out) return 0;
      return 2 * prod(out) * prod(k.shape); // kernel: [...k, C/groups, T]
    }
    case "DepthwiseConv2D": {
      const s = split(config, inShape, 2);
      if (!dk || dk.shape.length !== 4 || !s) return 0;
      const out = outSpatial(config, s.spatial, dk.shape.slice(0, 2));
      return out ? 2 * prod(out) * prod(dk.shape) : 0; // [kh, kw, C, multiplier]
    }
    case "SeparableConv2D": {
      const s = split(config, inShape, 2);
      if (!dk || !pk || dk.shape.length !== 4 || pk.shape.length !== 4 || !s) return 0;
      const out = outSpatial(config, s.spatial, dk.shape.slice(0, 2));
      return out ? 2 * prod(out) * (prod(dk.shape) + prod(pk.shape)) : 0; // depthwise, then 1×1 C·m → T
    }
    case "Conv2DTranspose": {
      // Each input pixel scatters a kh×kw×T patch per input channel: kernel [kh, kw, T, C].
      const s = split(config, inShape, 2);
      if (!k || k.shape.length !== 4 || !s) return 0;
      return 2 * prod(s.spatial) * prod(k.shape);
    }
    default:
      return 0;
  }
}
