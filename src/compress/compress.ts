// Compression and reconstruction on artifacts (topology + weights as plain
// data). tfjs-free; src/models wraps it for live tfjs models.
import { fail } from "../core/errors.ts";
import type { Tensor } from "../core/tensor.ts";
import { foldChain, layerAsSpec, parseChainName, chainLength } from "../layers/chain.ts";
import { factorizeLayer } from "../layers/factorize.ts";
import { kernelRelativeError } from "../layers/layout.ts";
import { methodSpec } from "../layers/methods/index.ts";
import type { FactorizableLayer, LayerConfig, LayerSpec, MethodName } from "../layers/types.ts";
import { layerFlops } from "../layers/flops.ts";
import { foldBatchNorm } from "./bnfold.ts";
import {
  type Artifacts, type LayerEntry, decodeWeights, encodeWeights, layerName, listLayers, rootOf, rewriteTopology,
} from "./artifacts.ts";
import { type Candidate, type CompressOptions, type CompressProgress, type Other, type Plan, formatPlan, makePlan } from "./plan.ts";

/** How a layer is called in the model graph: what the planner needs besides its weights. */
export interface LayerShapes {
  /** Input shape of the layer's first call, without the batch axis. */
  inShape: number[];
  /** Number of calls (inbound nodes). */
  calls: number;
}

const WHERE = "compress";

interface Inspection {
  candidates: Candidate[];
  others: Other[];
  totalParams: number;
  weights: Map<string, Tensor>;
  /** Every layer name in model order. */
  order: string[];
}

/** Layer kinds the methods factorize. */
const FACTORIZED_KINDS = ["Dense", "Conv2D", "SeparableConv2D", "Conv2DTranspose"];

const ownerOf = (weightName: string) => weightName.slice(0, weightName.lastIndexOf("/"));

/** FLOPs of a kept layer whose cost we can model (see layers/flops.ts), so budgets count them; else 0. */
function keptFlops(entry: { class_name: string; config: LayerConfig }, weight: (n: string) => Tensor | undefined, shape: LayerShapes | undefined): number {
  if (!shape) return 0;
  const w = Object.fromEntries(["kernel", "depthwise_kernel", "pointwise_kernel"].map((n) => [n, weight(n)]));
  return shape.calls * layerFlops(entry.class_name, entry.config, w, shape.inShape);
}

/** Split the model's weighted layers into factorizable candidates and the rest (with a reason each). */
export function inspect(a: Artifacts, shapes: Map<string, LayerShapes>): Inspection {
  const weights = decodeWeights(a);
  const byLayer = new Map<string, string[]>();
  for (const name of weights.keys()) {
    const o = ownerOf(name);
    byLayer.set(o, [...(byLayer.get(o) ?? []), name]);
  }
  const seen = new Set<string>();
  const order: string[] = [];
  const candidates: Candidate[] = [];
  const others: Other[] = [];
  let totalParams = 0;
  for (const v of weights.values()) totalParams += v.data.length;
  for (const { entry } of listLayers(a.modelTopology)) {
    const name = layerName(entry);
    if (seen.has(name)) fail(WHERE, `layer name '${name}' appears twice (nested models?); layer names must be unique to factorize by name`);
    seen.add(name);
    order.push(name);
    const own = byLayer.get(name) ?? [];
    if (own.length === 0 || ["Model", "Functional", "Sequential"].includes(entry.class_name)) continue;
    const params = own.reduce((x, n) => x + weights.get(n)!.data.length, 0);
    const other = (reason: string) => others.push({ name, kind: entry.class_name, params, reason, flops: keptFlops(entry, (n) => weights.get(`${name}/${n}`), shapes.get(name)) });
    if (!FACTORIZED_KINDS.includes(entry.class_name)) { other(`${entry.class_name} is not a kind odecomp factorizes: kept as it is`); continue; }
    const separable = entry.class_name === "SeparableConv2D";
    const kernelName = separable ? "pointwise_kernel" : "kernel";
    const kernel = weights.get(`${name}/${kernelName}`);
    if (!kernel) { other(`no '${name}/${kernelName}' weight: left untouched`); continue; }
    const depthwise = separable ? weights.get(`${name}/depthwise_kernel`) : undefined;
    if (separable && !depthwise) { other(`no '${name}/depthwise_kernel' weight: left untouched`); continue; }
    const bias = weights.get(`${name}/bias`) ?? null;
    const shape = shapes.get(name);
    if (!shape) { other("input shape unknown (layer never called): left untouched"); continue; }
    if (entry.class_name !== "Dense" && kernel.shape.length !== 4) { other(`kernel [${kernel.shape}] is not 4-D: left untouched`); continue; }
    if (separable && (depthwise!.shape.length !== 4 || kernel.shape[0] !== 1 || kernel.shape[1] !== 1)) { other(`depthwise [${depthwise!.shape}] / pointwise [${kernel.shape}] kernels are not 4-D and 1×1: left untouched`); continue; }
    if (entry.class_name !== "Dense" && entry.config.data_format === "channels_first") { other("data_format channels_first is not supported: left untouched"); continue; }
    const layer: FactorizableLayer = { className: entry.class_name as FactorizableLayer["className"], name, config: entry.config, kernel, bias, ...(depthwise ? { depthwise } : {}) };
    candidates.push({ layer, inShape: shape.inShape, calls: shape.calls });
  }
  return { candidates, others, totalParams, weights, order };
}

export function planArtifacts(given: Artifacts, shapes: Map<string, LayerShapes>, options: CompressOptions = {}): Plan {
  const { a, foldedBatchNorm } = maybeFoldBatchNorm(given, options);
  const ins = inspect(a, shapes);
  return { ...inModelOrder(makePlan(ins.candidates, ins.others, ins.totalParams, options), ins.order), ...foldedBatchNorm };
}

/** The plan with its entries in the model's layer order (the planner lists candidates before the other kinds). */
function inModelOrder(p: Plan, order: string[]): Plan {
  const at = new Map(order.map((n, i) => [n, i]));
  return { ...p, entries: [...p.entries].sort((x, y) => (at.get(x.layer) ?? 0) - (at.get(y.layer) ?? 0)) };
}

/** options.foldBatchNorm: the folded artifacts, and what was folded for the plan. */
function maybeFoldBatchNorm(a: Artifacts, options: CompressOptions): { a: Artifacts; foldedBatchNorm: Pick<Plan, "foldedBatchNorm"> } {
  if (!options.foldBatchNorm) return { a, foldedBatchNorm: {} };
  const r = foldBatchNorm(a);
  return { a: r.artifacts, foldedBatchNorm: { foldedBatchNorm: r.folded.map((f) => ({ batchNorm: f.batchNorm, into: f.into })) } };
}

/** Fold a chain's kernels (used to measure the factorization's weight error). */
export function foldKernel(method: MethodName, chain: LayerSpec[]): Tensor {
  return methodSpec(method, WHERE).fold(chain.map((s) => s.weights[0].value));
}

/** Rebuild artifacts with some layers replaced by specs (weights in the original order, chains in place). */
export function rebuild(a: Artifacts, weights: Map<string, Tensor>, replace: Map<string, LayerSpec[]>, drop: Set<string> = new Set(), aliases: Map<string, string> = new Map()): Artifacts {
  const allNames = new Set(listLayers(a.modelTopology).map((v) => layerName(v.entry)));
  for (const [orig, chain] of replace) {
    for (const s of chain) if (s.name !== orig && allNames.has(s.name) && !drop.has(s.name)) fail(WHERE, `new layer name '${s.name}' (for '${orig}') already exists in the model; rename that layer`);
  }
  const out: { name: string; value: Tensor }[] = [];
  const emitted = new Set<string>();
  for (const [name, value] of weights) {
    const owner = ownerOf(name);
    const chain = replace.get(owner);
    if (drop.has(owner)) continue;
    if (!chain) { out.push({ name, value }); continue; }
    if (emitted.has(owner)) continue;
    emitted.add(owner);
    for (const s of chain) for (const w of s.weights) out.push({ name: `${s.name}/${w.name}`, value: w.value });
  }
  const enc = encodeWeights(out);
  return {
    ...a, modelTopology: rewriteTopology(a.modelTopology, replace, drop, aliases), weightSpecs: enc.weightSpecs, weightData: enc.weightData,
    format: a.format ?? "layers-model", generatedBy: a.generatedBy ?? "odecomp", convertedBy: "odecomp",
  };
}

/** Compressed artifacts, the plan followed (relative errors measured) and the plan as a table. */
export interface ArtifactsResult {
  artifacts: Artifacts;
  plan: Plan;
  report: string;
}

/** @deprecated Same type as ArtifactsResult (its old name here); kept for one release. */
export type ArtifactsCompressResult = ArtifactsResult;

/**
 * Plan, factorize and rewrite. The input artifacts are not modified, nor is the plan the planner
 * returned: the plan given back is a new one whose factorized entries carry the measured errors.
 */
export function compressArtifactsWith(given: Artifacts, shapes: Map<string, LayerShapes>, options: CompressOptions = {}): ArtifactsResult {
  const { a, foldedBatchNorm } = maybeFoldBatchNorm(given, options);
  const ins = inspect(a, shapes);
  const report = progressReporter(options.onProgress, ins.candidates.length);
  const planned = { ...inModelOrder(makePlan(ins.candidates, ins.others, ins.totalParams, options, report && ((layer) => report("plan", layer))), ins.order), ...foldedBatchNorm };
  report?.("factorize", null, planned.entries.filter((e) => e.action === "factorize").length);
  const byName = new Map(ins.candidates.map((c) => [c.layer.name, c.layer]));
  const replace = new Map<string, LayerSpec[]>();
  const entries = planned.entries.map((e) => {
    if (e.action !== "factorize") return e;
    const layer = byName.get(e.layer)!;
    const chain = factorizeLayer(layer, e.method!, e.ranks, options.decomposition);
    const relError = kernelRelativeError(foldKernel(e.method!, chain), layer.kernel);
    replace.set(e.layer, chain);
    report?.("factorize", e.layer);
    return { ...e, relError, relErrorKind: "measured" as const };
  });
  const plan: Plan = { ...planned, entries };
  const artifacts = replace.size ? rebuild(a, ins.weights, replace) : a;
  report?.("done", null);
  return { artifacts, plan, report: formatPlan(plan) };
}

/**
 * Progress in steps: one per candidate planned, one per layer factorized. Until the plan is known the
 * factorize steps are assumed to be one per candidate, so the fraction never goes back.
 * report(phase, null, n) with n given only sets the number of factorize steps.
 */
function progressReporter(cb: CompressOptions["onProgress"], candidates: number) {
  if (!cb) return undefined;
  if (typeof cb !== "function") fail(WHERE, `onProgress is ${typeof cb}; expected a function`);
  let step = 0, factorize = candidates;
  return (phase: CompressProgress["phase"], layer: string | null, factorizeSteps?: number) => {
    if (factorizeSteps !== undefined) { factorize = factorizeSteps; return; }
    if (phase !== "done") step++;
    const steps = candidates + factorize;
    cb({ phase, layer, step: phase === "done" ? steps : step, steps, fraction: phase === "done" || steps === 0 ? 1 : step / steps });
  };
}

export interface Folded {
  layer: string;
  method: MethodName;
  chain: string[];
}

/** Fold every complete, linear factorized chain back into one layer of the original kind. */
export function reconstructArtifacts(a: Artifacts): { artifacts: Artifacts; folded: Folded[]; notes: string[] } {
  const weights = decodeWeights(a);
  const groups = new Map<string, { method: MethodName; entries: Map<number, LayerEntry> }>();
  const notes: string[] = [];
  for (const { entry } of listLayers(a.modelTopology)) {
    const p = parseChainName(layerName(entry));
    if (!p) continue;
    const g = groups.get(p.original) ?? { method: p.method, entries: new Map() };
    if (g.method !== p.method) { notes.push(`${p.original}: chain mixes methods ${g.method} and ${p.method}; left alone`); continue; }
    g.entries.set(p.index, entry);
    groups.set(p.original, g);
  }
  const replace = new Map<string, LayerSpec[]>();
  const drop = new Set<string>();
  const aliases = new Map<string, string>();
  const folded: Folded[] = [];
  for (const [original, g] of groups) {
    const n = chainLength(g.method);
    const entries = [...Array(n).keys()].map((i) => g.entries.get(i));
    if (entries.some((e) => !e) || g.entries.size !== n) { notes.push(`${original}: chain of ${g.method} is incomplete (${g.entries.size}/${n} layers); left alone`); continue; }
    const specs: LayerSpec[] = entries.map((e) => {
      const name = layerName(e!);
      const ws = [...weights.keys()].filter((k) => ownerOf(k) === name).map((k) => ({ name: k.slice(name.length + 1), value: weights.get(k)! }));
      return { className: e!.class_name as LayerSpec["className"], name, config: e!.config, weights: ws };
    });
    const problem = chainProblem(a.modelTopology, specs.map((s) => s.name));
    if (problem) { notes.push(`${original}: ${problem}; left alone`); continue; }
    const layer = foldChain(original, g.method, specs);
    replace.set(specs[0].name, [layerAsSpec(layer)]);
    for (const s of specs.slice(1)) drop.add(s.name);
    aliases.set(specs[n - 1].name, original);
    folded.push({ layer: original, method: g.method, chain: specs.map((s) => s.name) });
  }
  if (!replace.size) return { artifacts: a, folded, notes };
  return { artifacts: rebuild(a, weights, replace, drop, aliases), folded, notes };
}

/** Why a chain cannot be folded (its layers are not a private linear path), or null. */
function chainProblem(topology: unknown, names: string[]): string | null {
  const find = (model: LayerEntry): LayerEntry | null => {
    const layers = model.config.layers as LayerEntry[];
    if (layers.some((e) => layerName(e) === names[0])) return model;
    for (const e of layers) if (["Model", "Functional", "Sequential"].includes(e.class_name)) { const f = find(e); if (f) return f; }
    return null;
  };
  const scope = find(rootOf(topology));
  if (!scope) return "chain not found";
  const layers = scope.config.layers as LayerEntry[];
  const idx = names.map((n) => layers.findIndex((e) => layerName(e) === n));
  if (idx.some((i) => i < 0)) return "chain layers sit in different nested models";
  if (scope.class_name === "Sequential") {
    return idx.every((v, i) => i === 0 || v === idx[i - 1] + 1) ? null : "chain layers are not consecutive";
  }
  const refsTo = (e: LayerEntry, target: string) => JSON.stringify(e.inbound_nodes ?? []).includes(JSON.stringify(target));
  for (let i = 1; i < names.length; i++) {
    const e = layers[idx[i]];
    const flat = JSON.stringify(e.inbound_nodes ?? []);
    const onlyPrev = (e.inbound_nodes ?? []).every((node) => Array.isArray(node) && node.length === 1 && Array.isArray(node[0]) && node[0][0] === names[i - 1]);
    if (!onlyPrev) return `'${names[i]}' does not take only '${names[i - 1]}' as input (${flat})`;
  }
  for (let i = 0; i < names.length - 1; i++) {
    const users = layers.filter((e) => !names.includes(layerName(e)) && refsTo(e, names[i]));
    const out = JSON.stringify(scope.config.output_layers ?? []).includes(JSON.stringify(names[i]));
    if (users.length || out) return `the output of '${names[i]}' is used outside the chain`;
  }
  return null;
}
