// Factorizing Dense layers of a Sequential model from initialisation
// (Odecomp's pre-training decomposition) without odecomp/models: Dense L
// (n→m) becomes Dense `L__odc_svd_0` (n→r, no bias, linear) then Dense
// `L__odc_svd_1` (r→m, L's own activation and bias) — the chain naming of
// odecomp/models, so its `reconstruct` can fold the pair back. Factors start
// from a fresh seeded random initialisation or from the SVD of L's current
// kernel (U_r·√S, √S·V_rᵀ). Other topologies (functional models, Conv2D) go
// through `compress` from odecomp/models.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { check, fail } from "../core/errors.ts";
import { svd } from "../linalg/svd.ts";
import { chainLayerName, parseChainName } from "../layers/chain.ts";
import type { FactorPair } from "./fading.ts";

/** The pair of layer names that replaces Dense `name` when it is factorized. */
export function svdPairOf(name: string): FactorPair {
  return { u: chainLayerName(name, "svd", 0), v: chainLayerName(name, "svd", 1) };
}

/** The Dense layer a factorized pair replaced (its first layer's name without the chain suffix). */
export function pairOriginal(pair: FactorPair): string {
  return parseChainName(pair.u)?.original ?? pair.u;
}

/** Every factorized Dense pair in a model (by the chain naming), in layer order. */
export function findSvdPairs(model: tfl.LayersModel): FactorPair[] {
  const names = new Set(model.layers.map((l) => l.name));
  const out: FactorPair[] = [];
  for (const l of model.layers) {
    const c = parseChainName(l.name);
    if (c && c.method === "svd" && c.index === 0 && names.has(svdPairOf(c.original).v)) out.push(svdPairOf(c.original));
  }
  return out;
}

/** Rank of a factorized pair (units of its first layer). */
export function pairRank(model: tfl.LayersModel, pair: FactorPair): number {
  return model.getLayer(pair.u).weights[0].shape[1]!;
}

export interface FactorizeOptions {
  /** Names of the Dense layers to factorize. */
  layers: string[];
  rank: number;
  /** "random" (default): fresh seeded Glorot factors; "svd": the truncated SVD of the current kernel (needs `await ready()`). */
  init?: "random" | "svd";
  seed?: number;
}

interface LayerJson { class_name: string; config: Record<string, unknown> & { name: string } }

/** A new Sequential model with the given Dense layers factorized at `rank`; every other weight is copied. */
export async function factorizeDense(model: tfl.LayersModel, options: FactorizeOptions): Promise<tfl.LayersModel> {
  const where = "factorizeDense";
  const { rank, layers } = options;
  const init = options.init ?? "random", seed = options.seed ?? 0;
  check(init === "random" || init === "svd", where, () => `init = '${init}'; expected 'random' or 'svd'`);
  check(layers.length > 0, where, () => "no layers given; expected options.layers with Dense layer names");
  if (!(model instanceof tfl.Sequential)) {
    fail(where, `model '${model.name}' is a ${model.getClassName()}; factorizing from initialisation supports Sequential models (use compress from odecomp/models for other topologies)`);
  }
  for (const name of layers) {
    let layer: tfl.layers.Layer;
    try { layer = model.getLayer(name); } catch { return fail(where, `no layer '${name}' in model '${model.name}'; expected one of ${model.layers.map((l) => l.name).join(", ")}`); }
    check(layer.getClassName() === "Dense", where, () => `layer '${name}' is a ${layer.getClassName()}; expected Dense`);
    const [n, m] = layer.weights[0].shape as number[];
    check(Number.isInteger(rank) && rank >= 1 && rank <= Math.min(n, m), where, () => `rank = ${rank} for '${name}' [${n}, ${m}]; expected an integer in 1..${Math.min(n, m)}`);
  }
  const targets = new Set(layers);
  const topo = model.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  const rewritten: LayerJson[] = [];
  topo.config.layers.forEach((l, i) => {
    if (!targets.has(l.config.name)) { rewritten.push(l); return; }
    const pair = svdPairOf(l.config.name);
    const { batch_input_shape, ...rest } = l.config;
    const glorot = (s: number) => ({ class_name: "VarianceScaling", config: { scale: 1, mode: "fan_avg", distribution: "uniform", seed: s } });
    rewritten.push({ class_name: "Dense", config: {
      ...rest, ...(batch_input_shape ? { batch_input_shape } : {}), name: pair.u, units: rank, use_bias: false, activation: "linear",
      kernel_initializer: glorot(seed * 1000 + 2 * i), kernel_regularizer: null, activity_regularizer: null, kernel_constraint: null,
    } });
    rewritten.push({ class_name: "Dense", config: { ...rest, name: pair.v, kernel_initializer: glorot(seed * 1000 + 2 * i + 1) } });
  });
  topo.config.layers = rewritten;
  const out = await tfl.models.modelFromJSON({ modelTopology: topo as never });
  for (const layer of model.layers) {
    const w = layer.getWeights();
    if (w.length === 0) continue;
    if (!targets.has(layer.name)) { out.getLayer(layer.name).setWeights(w); continue; }
    const pair = svdPairOf(layer.name);
    const bias = w.slice(1);
    if (init === "svd") {
      const [n, m] = w[0].shape as number[];
      const d = svd({ data: w[0].dataSync() as Float32Array, shape: [n, m] }, { rank, method: "full" });
      const factors = tf.tidy(() => {
        const root = tf.sqrt(tf.tensor1d(d.s));
        const U = tf.mul(tf.tensor2d(d.u.data, [n, rank]), root);
        const Vt = tf.transpose(tf.mul(tf.tensor2d(d.v.data, [m, rank]), root));
        return [U, Vt];
      });
      out.getLayer(pair.u).setWeights([factors[0]]);
      out.getLayer(pair.v).setWeights([factors[1], ...bias]);
      tf.dispose(factors);
    } else {
      // keep the fresh random kernels of the new pair; carry the bias over
      const v = out.getLayer(pair.v);
      v.setWeights([v.getWeights()[0], ...bias]);
    }
  }
  return out;
}
