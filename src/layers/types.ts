// Layer descriptions shared by the factorizers, the planner and the model
// rewrite. tfjs-free: a layer is its Keras-JSON config (snake_case, as in a
// saved model.json) plus its weights as plain tensors.
import type { Tensor } from "../core/tensor.ts";
import { REGISTRY, type MethodSpec } from "./methods/index.ts";

/** A layer's config as it appears in model.json (snake_case keys). */
export type LayerConfig = Record<string, unknown>;

/** Stock tfjs layer kinds a factorized chain is made of. */
export type StockClass = "Dense" | "Conv2D" | "DepthwiseConv2D" | "SeparableConv2D" | "Conv2DTranspose";

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
  className: "Dense" | "Conv2D" | "SeparableConv2D" | "Conv2DTranspose";
  name: string;
  config: LayerConfig;
  /** The kernel the methods factorize: SeparableConv2D's pointwise kernel [1, 1, C·m, T]; Conv2DTranspose's [kh, kw, T, C]. */
  kernel: Tensor;
  bias: Tensor | null;
  /** SeparableConv2D only: its depthwise kernel [kh, kw, C, m], kept as it is. */
  depthwise?: Tensor;
}

export type DenseMethod = "svd";
export type ConvMethod = "tucker2" | "tucker1" | "cp" | "spatial-svd" | "channel-svd";
/** The built-in methods. */
export type Method = DenseMethod | ConvMethod;
/** A method name: a built-in one or one added with registerMethod (src/layers/methods). */
export type MethodName = Method | (string & {});

/** Every method by name: the registry of src/layers/methods (this is the same object, so added methods appear). */
export const METHODS: Readonly<Record<string, MethodSpec>> = REGISTRY;

/** @deprecated The built-in Conv2D methods only; use convMethodNames() (src/layers/methods), which includes added ones. */
export const CONV_METHODS: ConvMethod[] = ["tucker2", "tucker1", "cp", "spatial-svd", "channel-svd"];

/** Geometry of a channels-last Conv2D read from its config. */
export interface ConvGeometry {
  kh: number;
  kw: number;
  strides: [number, number];
  dilation: [number, number];
  padding: "same" | "valid";
}
