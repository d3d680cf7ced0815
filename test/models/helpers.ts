// Shared setup for the model tests: tfjs on the cpu backend, tiny seeded
// models, and chains built from planted (exact-rank) factors so the layer
// machinery is tested without any decomposition.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { ready, type Tensor } from "../../src/index.ts";
import { buildChain, type ChainKernels } from "../../src/layers/chain.ts";
import type { FactorizableLayer, LayerSpec, Method } from "../../src/layers/types.ts";
import { inspect, foldKernel, rebuild } from "../../src/compress/compress.ts";
import { artifactsToModel, layerShapes, modelToArtifacts } from "../../src/models/convert.ts";
import { randn } from "../helpers/random.ts";

export { tf, tfl };

export async function setup(): Promise<void> {
  await ready();
  await tf.setBackend("cpu");
  await tf.ready();
}

export const rnd = (shape: number[], seed: number, scale = 1): Tensor => {
  const t = { data: randn(shape.reduce((a, b) => a * b, 1), seed), shape };
  if (scale !== 1) for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
  return t;
};

/** Random chain kernels of a method at given ranks for a layer (planted factors). */
export function plantedKernels(layer: FactorizableLayer, method: Method, ranks: number[], seed: number): ChainKernels {
  const [a, b, c, d] = layer.kernel.shape;
  const r = ranks[0];
  switch (method) {
    case "svd": return { method, first: rnd([a, r], seed, 1 / Math.sqrt(a)), second: rnd([r, b], seed + 1, 1 / Math.sqrt(r)) };
    case "tucker2": return { method, first: rnd([1, 1, c, r], seed), core: rnd([a, b, r, ranks[1]], seed + 1, 0.3), last: rnd([1, 1, ranks[1], d], seed + 2, 0.3) };
    case "tucker1":
    case "channel-svd": return { method, spatial: rnd([a, b, c, r], seed, 0.3), pointwise: rnd([1, 1, r, d], seed + 1, 0.3) };
    case "spatial-svd": return { method, vertical: rnd([a, 1, c, r], seed, 0.4), horizontal: rnd([1, b, r, d], seed + 1, 0.4) };
    case "cp": return { method, first: rnd([1, 1, c, r], seed, 0.5), vertical: rnd([a, 1, r, 1], seed + 1), horizontal: rnd([1, b, r, 1], seed + 2), last: rnd([1, 1, r, d], seed + 3, 0.5) };
  }
}

export interface Planted {
  /** The model with each planted layer's kernel set to the folded chain kernel. */
  original: tfl.LayersModel;
  /** The same model with those layers replaced by their chains. */
  chained: tfl.LayersModel;
  chains: Map<string, LayerSpec[]>;
}

/** Plant exact-rank chains into a model: returns the dense model and the chained model that should agree. */
export async function plant(model: tfl.LayersModel, spec: Record<string, { method: Method; ranks: number[] }>, seed = 1): Promise<Planted> {
  const a = await modelToArtifacts(model);
  const ins = inspect(a, layerShapes(model));
  const chains = new Map<string, LayerSpec[]>();
  for (const c of ins.candidates) {
    const s = spec[c.layer.name];
    if (!s) continue;
    const chain = buildChain(c.layer, plantedKernels(c.layer, s.method, s.ranks, seed++));
    chains.set(c.layer.name, chain);
    ins.weights.set(`${c.layer.name}/kernel`, foldKernel(s.method, chain));
  }
  for (const k of Object.keys(spec)) if (!chains.has(k)) throw new Error(`plant: no factorizable layer '${k}'`);
  const original = await artifactsToModel(rebuild(a, ins.weights, new Map()));
  const chained = await artifactsToModel(rebuild(a, ins.weights, chains));
  return { original, chained, chains };
}

/** Relative difference of two models' predictions on the same inputs. */
export function predictionError(m1: tfl.LayersModel, m2: tfl.LayersModel, inputs: tf.Tensor | tf.Tensor[]): number {
  return tf.tidy(() => {
    const y1 = [m1.predict(inputs)].flat() as tf.Tensor[];
    const y2 = [m2.predict(inputs)].flat() as tf.Tensor[];
    let num = 0, den = 0;
    y1.forEach((t, i) => {
      num += tf.sum(tf.square(tf.sub(t, y2[i]))).dataSync()[0];
      den += tf.sum(tf.square(t)).dataSync()[0];
    });
    return Math.sqrt(num / Math.max(den, 1e-30));
  });
}

export function randomInput(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randn(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** A small Conv2D model: one conv layer with the given options on an h×w×s input. */
export function convModel(opts: { h: number; w: number; s: number; t: number; k: [number, number]; strides?: [number, number]; padding?: "same" | "valid"; dilation?: [number, number]; activation?: string; useBias?: boolean; seed?: number }): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({
    inputShape: [opts.h, opts.w, opts.s], filters: opts.t, kernelSize: opts.k, strides: opts.strides ?? 1, padding: opts.padding ?? "valid",
    dilationRate: opts.dilation ?? 1, activation: (opts.activation ?? "linear") as "linear", useBias: opts.useBias ?? true, name: "conv",
    biasInitializer: tfl.initializers.randomNormal({ seed: opts.seed ?? 3 }),
  }));
  return m;
}
