// BatchNormalization folded into the Conv2D / DepthwiseConv2D / Dense before
// it, in the exact inference form: with s = γ/√(σ²+ε) per output channel,
// W' = W·s and b' = (b − μ)·s + β (a bias is created when the layer has none).
// Done on artifacts before planning, so the planner sees the kernels the
// model really applies and one layer fewer per BN. tfjs-free.
//
// A BN is folded only where that is exact and local: its one input is the
// layer's only output use (Sequential: the layer right before it; functional:
// the BN is the sole consumer of a layer called once, which is not a model
// output), the layer has no activation, and the BN normalizes the channel axis.
import type { Tensor } from "../core/tensor.ts";
import { fail } from "../core/errors.ts";
import type { LayerConfig } from "../layers/types.ts";
import { type Artifacts, type LayerEntry, decodeWeights, encodeWeights, layerName, rootOf } from "./artifacts.ts";

export interface FoldedBatchNorm {
  /** The BatchNormalization layer removed. */
  batchNorm: string;
  /** The layer it was folded into. */
  into: string;
  /** Whether that layer had no bias before (one was created). */
  biasCreated: boolean;
}

export interface BatchNormFoldResult {
  /** New artifacts (the input is not modified); the same object when nothing was folded. */
  artifacts: Artifacts;
  folded: FoldedBatchNorm[];
  /** BatchNormalization layers left in place, each with the reason. */
  kept: { batchNorm: string; reason: string }[];
}

const WHERE = "foldBatchNorm";
const FOLDABLE = new Set(["Conv2D", "DepthwiseConv2D", "Dense"]);
const NESTED = new Set(["Model", "Functional", "Sequential"]);

const kernelName = (cls: string) => (cls === "DepthwiseConv2D" ? "depthwise_kernel" : "kernel");

/** Names referenced by a functional layer's inbound nodes (node entries are [name, node, tensor, kwargs]). */
function inboundRefs(nodes: unknown): { name: string; node: number; tensor: number }[] {
  const out: { name: string; node: number; tensor: number }[] = [];
  const walk = (x: unknown) => {
    if (!Array.isArray(x)) return;
    if (x.length >= 3 && typeof x[0] === "string" && typeof x[1] === "number" && typeof x[2] === "number") { out.push({ name: x[0], node: x[1], tensor: x[2] }); return; }
    for (const y of x) walk(y);
  };
  walk(nodes);
  return out;
}

function renameRefs(nodes: unknown, from: string, to: string): unknown {
  if (!Array.isArray(nodes)) return nodes;
  if (nodes.length >= 3 && nodes[0] === from && typeof nodes[1] === "number" && typeof nodes[2] === "number") return [to, ...nodes.slice(1)];
  return nodes.map((n) => renameRefs(n, from, to));
}

/** Why `bn` cannot fold into `prev` (null when it can). */
function unfoldable(prev: LayerEntry, bn: LayerEntry, weights: Map<string, Tensor>): string | null {
  if (!FOLDABLE.has(prev.class_name)) return `its input comes from ${prev.class_name} '${layerName(prev)}', not Conv2D, DepthwiseConv2D or Dense`;
  const p = prev.config;
  const pn = layerName(prev);
  if ((p.activation ?? "linear") !== "linear") return `'${pn}' applies activation '${String(p.activation)}' before the BN`;
  if ((p.data_format ?? "channels_last") !== "channels_last") return `'${pn}' is channels_first`;
  const axis = Array.isArray(bn.config.axis) ? bn.config.axis : [bn.config.axis ?? -1];
  const channelAxis = prev.class_name === "Dense" ? [-1] : [-1, 3];
  if (axis.length !== 1 || !channelAxis.includes(axis[0] as number)) return `it normalizes axis ${JSON.stringify(bn.config.axis)}, not the channel axis of '${pn}'`;
  if (!weights.get(`${pn}/${kernelName(prev.class_name)}`)) return `'${pn}' has no ${kernelName(prev.class_name)} weight`;
  if (!weights.get(`${layerName(bn)}/moving_mean`) || !weights.get(`${layerName(bn)}/moving_variance`)) return "it has no moving_mean / moving_variance weights";
  return null;
}

/** Fold the BN's affine map into the layer's kernel and bias (new tensors). */
function foldWeights(prev: LayerEntry, bn: LayerEntry, weights: Map<string, Tensor>): { kernel: Tensor; bias: Tensor } {
  const pn = layerName(prev), bnName = layerName(bn);
  const kernel = weights.get(`${pn}/${kernelName(prev.class_name)}`)!;
  const mean = weights.get(`${bnName}/moving_mean`)!.data;
  const variance = weights.get(`${bnName}/moving_variance`)!.data;
  const channels = mean.length;
  // The kernel's output channels are its trailing axis (depthwise: C·multiplier, flattened as [C, M]).
  const outC = prev.class_name === "DepthwiseConv2D" ? kernel.shape[2] * kernel.shape[3] : kernel.shape[kernel.shape.length - 1];
  if (outC !== channels) fail(WHERE, `BatchNormalization '${bnName}' has ${channels} channels but '${pn}' outputs ${outC}`);
  const gamma = bn.config.scale === false ? null : weights.get(`${bnName}/gamma`)?.data ?? fail(WHERE, `BatchNormalization '${bnName}' has scale on but no gamma weight`);
  const beta = bn.config.center === false ? null : weights.get(`${bnName}/beta`)?.data ?? fail(WHERE, `BatchNormalization '${bnName}' has center on but no beta weight`);
  const eps = typeof bn.config.epsilon === "number" ? bn.config.epsilon : 1e-3;
  const s = new Float64Array(channels);
  for (let c = 0; c < channels; c++) s[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
  const k = new Float32Array(kernel.data.length);
  for (let i = 0; i < k.length; i++) k[i] = kernel.data[i] * s[i % channels];
  const oldBias = weights.get(`${pn}/bias`)?.data;
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) b[c] = ((oldBias ? oldBias[c] : 0) - mean[c]) * s[c] + (beta ? beta[c] : 0);
  return { kernel: { data: k, shape: [...kernel.shape] }, bias: { data: b, shape: [channels] } };
}

/**
 * Fold every foldable BatchNormalization into the layer before it (see the header for when). The input
 * artifacts are not modified; the result computes the same function in inference mode.
 */
export function foldBatchNorm(a: Artifacts): BatchNormFoldResult {
  const topology = structuredClone(a.modelTopology);
  const weights = decodeWeights(a);
  const folded: FoldedBatchNorm[] = [];
  const kept: BatchNormFoldResult["kept"] = [];
  const newWeights = new Map<string, { kernel: Tensor; bias: Tensor }>(); // by layer name
  const removed = new Set<string>();

  const visit = (model: LayerEntry) => {
    const cfg = model.config;
    const layers = cfg.layers as LayerEntry[];
    for (const e of layers) if (NESTED.has(e.class_name)) visit(e);
    const sequential = model.class_name === "Sequential";
    const byName = new Map(layers.map((e) => [layerName(e), e]));
    const drop = new Set<string>();
    const renames: [string, string][] = [];
    layers.forEach((bn, i) => {
      if (bn.class_name !== "BatchNormalization") return;
      const bnName = layerName(bn);
      const keep = (reason: string) => kept.push({ batchNorm: bnName, reason });
      let prev: LayerEntry | undefined;
      if (sequential) {
        prev = layers[i - 1];
        if (!prev) return keep("it is the model's first layer");
        if (drop.has(layerName(prev))) return keep(`its input '${layerName(prev)}' is a folded BatchNormalization`);
      } else {
        const nodes = (bn.inbound_nodes ?? []) as unknown[];
        const refs = inboundRefs(nodes);
        if (nodes.length !== 1 || refs.length !== 1) return keep("it is called more than once or has several inputs");
        prev = byName.get(refs[0].name);
        if (!prev) return keep(`its input '${refs[0].name}' is not a layer of the same model`);
        const pn = layerName(prev);
        if ((prev.inbound_nodes ?? []).length !== 1) return keep(`'${pn}' is called ${(prev.inbound_nodes ?? []).length} times`);
        const users = layers.filter((e) => e !== bn && inboundRefs(e.inbound_nodes).some((r) => r.name === pn));
        if (users.length) return keep(`the output of '${pn}' is also used by '${layerName(users[0])}'`);
        if (inboundRefs(cfg.output_layers).some((r) => r.name === pn)) return keep(`the output of '${pn}' is a model output`);
      }
      if (newWeights.has(layerName(prev))) return keep(`'${layerName(prev)}' already absorbed a BatchNormalization`);
      const why = unfoldable(prev, bn, weights);
      if (why) return keep(why);
      const pn = layerName(prev);
      const w = foldWeights(prev, bn, weights);
      newWeights.set(pn, w);
      for (const [name, value] of [[`${pn}/${kernelName(prev.class_name)}`, w.kernel], [`${pn}/bias`, w.bias]] as const) weights.set(name, value);
      const biasCreated = prev.config.use_bias === false || !a.weightSpecs?.some((s) => s.name === `${pn}/bias`);
      prev.config = { ...prev.config, use_bias: true } as LayerConfig;
      drop.add(bnName);
      removed.add(bnName);
      renames.push([bnName, pn]);
      folded.push({ batchNorm: bnName, into: pn, biasCreated });
    });
    if (!drop.size) return;
    const out = layers.filter((e) => !drop.has(layerName(e)));
    if (sequential) {
      // A dropped BN never is first (it needs a layer before it), so batch_input_shape stays put.
    } else {
      for (const [from, to] of renames) {
        for (const e of out) if (e.inbound_nodes) e.inbound_nodes = renameRefs(e.inbound_nodes, from, to) as unknown[];
        if (cfg.output_layers !== undefined) cfg.output_layers = renameRefs(cfg.output_layers, from, to);
      }
    }
    cfg.layers = out;
  };
  visit(rootOf(topology));
  if (!folded.length) return { artifacts: a, folded, kept };

  // Weights in the original order; a created bias goes right after its kernel.
  const list: { name: string; value: Tensor }[] = [];
  for (const s of a.weightSpecs ?? []) {
    const owner = s.name.slice(0, s.name.lastIndexOf("/"));
    if (removed.has(owner)) continue;
    const nw = newWeights.get(owner);
    if (!nw) { list.push({ name: s.name, value: weights.get(s.name)! }); continue; }
    if (s.name === `${owner}/bias`) continue; // emitted with the kernel
    const isKernel = s.name === `${owner}/kernel` || s.name === `${owner}/depthwise_kernel`;
    list.push({ name: s.name, value: isKernel ? nw.kernel : weights.get(s.name)! });
    if (isKernel) list.push({ name: `${owner}/bias`, value: nw.bias });
  }
  const enc = encodeWeights(list);
  return { artifacts: { ...a, modelTopology: topology, weightSpecs: enc.weightSpecs, weightData: enc.weightData }, folded, kept };
}
