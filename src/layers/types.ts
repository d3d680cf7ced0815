// Layer descriptions shared by the factorizers, the planner and the model
// rewrite. tfjs-free: a layer is its Keras-JSON config (snake_case, as in a
// saved model.json) plus its weights as plain tensors.
import type { Tensor } from "../core/tensor.ts";

/** A layer's config as it appears in model.json (snake_case keys). */
export type LayerConfig = Record<string, unknown>;

/** Stock tfjs layer kinds a factorized chain is made of. */
export type StockClass = "Dense" | "Conv2D" | "DepthwiseConv2D";

/** One stock layer of a factorized chain: class, config and named weights (kernel/depthwise_kernel, bias). */
export interface LayerSpec {
  className: StockClass;
  name: string;
  config: LayerConfig;
  /** Weight names are the tfjs ones: "kernel", "depthwise_kernel", "bias" (saved as `<layer name>/<weight name>`). */
  weights: { name: string; value: Tensor }[];
}

/** A layer the factorizers accept: Dense (kernel [n, m]) or Conv2D (kernel [kh, kw, S, T], channels-last). */
export interface FactorizableLayer {
  className: "Dense" | "Conv2D";
  name: string;
  config: LayerConfig;
  kernel: Tensor;
  bias: Tensor | null;
}

export type DenseMethod = "svd";
export type ConvMethod = "tucker2" | "tucker1" | "cp" | "spatial-svd" | "channel-svd";
export type Method = DenseMethod | ConvMethod;

/** Every method, in one registry: name → the token used in chain layer names and the layer kind it applies to. */
export const METHODS: Record<Method, { token: string; appliesTo: "Dense" | "Conv2D"; ranks: number; chain: string }> = {
  "svd": { token: "svd", appliesTo: "Dense", ranks: 1, chain: "Dense n→r → Dense r→m" },
  "tucker2": { token: "tucker2", appliesTo: "Conv2D", ranks: 2, chain: "1×1 S→Rin → k×k Rin→Rout → 1×1 Rout→T" },
  "tucker1": { token: "tucker1", appliesTo: "Conv2D", ranks: 1, chain: "k×k S→R → 1×1 R→T (Tucker-1 on the output mode)" },
  "cp": { token: "cp", appliesTo: "Conv2D", ranks: 1, chain: "1×1 S→R → depthwise k×1 → depthwise 1×k → 1×1 R→T" },
  "spatial-svd": { token: "spatial", appliesTo: "Conv2D", ranks: 1, chain: "k×1 S→R → 1×k R→T" },
  "channel-svd": { token: "channel", appliesTo: "Conv2D", ranks: 1, chain: "k×k S→R → 1×1 R→T" },
};

export const CONV_METHODS = (Object.keys(METHODS) as Method[]).filter((m) => METHODS[m].appliesTo === "Conv2D") as ConvMethod[];

/** Geometry of a channels-last Conv2D read from its config. */
export interface ConvGeometry {
  kh: number;
  kw: number;
  strides: [number, number];
  dilation: [number, number];
  padding: "same" | "valid";
}
