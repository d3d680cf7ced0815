// Frobenius decay on factorized chains (Khodak et al., ICLR 2021; Cuttlefish): the loss gains
// λ/2 · ‖W‖²_F of the product W the chain computes (U·Vᵀ for a pair), not λ/2 · (‖U‖² + ‖V‖²) as weight
// decay on the factors would — weight decay on the factors penalises the nuclear norm of W and drives the
// factorized model's rank down, which is what spectral initialisation is meant to avoid. For W = U·V the
// term's gradients are ∂/∂U = λ·U·V·Vᵀ and ∂/∂V = λ·Uᵀ·U·V. Chains are found by
// their layer names (`L__odc_<token>_<i>`), so it works on any model compress() built. Products known:
// svd (Dense n→r → r→m), channel-svd and tucker1 (k×k S→R → 1×1 R→T: the (kh·kw·S)×R by R×T product) and
// tucker2 (1×1 S→R1 → k×k R1→R2 → 1×1 R2→T); other chains (spatial-svd, cp) are not decayed, and
// `chains()` says which were. odecomp's loop applies no weight decay of its own; a weight-decay hook of the
// caller's should leave the chains' kernels to this one ("replacing weight decay there").
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../../core/errors.ts";
import { chainNamePattern, REGISTRY } from "../../layers/methods/index.ts";
import type { TrainHook } from "./hook.ts";

export interface DecayedChain {
  /** The original layer's name. */
  layer: string;
  method: string;
  /** The chain's layer names in order. */
  layers: string[];
  /** Whether the product is known (decayed), or why not. */
  decayed: boolean;
}

const PRODUCT_METHODS = new Set(["svd", "channel-svd", "tucker1", "tucker2"]);

/** The factorized chains of a model, by the chain naming, in layer order. */
export function findChains(model: tfl.LayersModel): DecayedChain[] {
  const pattern = chainNamePattern();
  const byToken = new Map(Object.values(REGISTRY).map((m) => [m.token, m.name]));
  const groups = new Map<string, { method: string; parts: [number, string][] }>();
  for (const l of model.layers) {
    const m = pattern.exec(l.name);
    if (!m) continue;
    const key = `${m[1]}\u0000${m[2]}`;
    const g = groups.get(key) ?? { method: byToken.get(m[2])!, parts: [] };
    g.parts.push([Number(m[3]), l.name]);
    groups.set(key, g);
  }
  return [...groups.entries()].map(([key, g]) => {
    const layers = g.parts.sort((a, b) => a[0] - b[0]).map((p) => p[1]);
    const spec = REGISTRY[g.method];
    return { layer: key.split("\u0000")[0], method: g.method, layers, decayed: PRODUCT_METHODS.has(g.method) && layers.length === spec.chainLength };
  });
}

/** ‖W‖²_F of a chain's product, differentiable in its kernels (inside a tape). */
export function chainProductNorm2(model: tfl.LayersModel, chain: DecayedChain): tf.Scalar {
  const k = chain.layers.map((n) => model.getLayer(n).weights[0].read());
  return tf.tidy(() => {
    let w: tf.Tensor;
    if (chain.method === "tucker2") {
      const [a, core, b] = k;
      const [kh, kw, r1, r2] = core.shape;
      const A = tf.reshape(a, [-1, r1]);
      const C = tf.reshape(tf.transpose(core, [2, 0, 1, 3]), [r1, kh * kw * r2]);
      w = tf.matMul(tf.reshape(tf.matMul(A, C), [-1, r2]), tf.reshape(b, [r2, -1]));
    } else {
      const r = k[1].shape[k[1].shape.length - 2];
      w = tf.matMul(tf.reshape(k[0], [-1, r]), tf.reshape(k[1], [r, -1]));
    }
    return tf.sum(tf.square(w)) as tf.Scalar;
  });
}

/**
 * The decay hook: adds λ/2 · Σ_chains ‖W‖²_F to the loss of every step, or, with `every` = k > 1, k·λ/2 · Σ‖W‖²_F
 * to every k-th step of the phase (lazy regularisation, as StyleGAN2 applies its R1 term: the same decay per
 * k steps in expectation at 1/k of the cost — forming each chain's product and its gradient every step took
 * 16 % of a factorized VGG epoch, measured). `chains()` lists what the current model has (refreshed after
 * each architecture change).
 */
export function frobeniusDecayHook(lambda: number, every = 1): TrainHook & { chains(): DecayedChain[] } {
  check(Number.isFinite(lambda) && lambda >= 0, "frobeniusDecay", () => `lambda = ${lambda}; expected a number ≥ 0`);
  check(Number.isInteger(every) && every >= 1, "frobeniusDecay", () => `every = ${every}; expected an integer ≥ 1`);
  let model: tfl.LayersModel | null = null, chains: DecayedChain[] = [];
  const refresh = (m: tfl.LayersModel) => { if (m !== model) { model = m; chains = findChains(m); } };
  return {
    name: "frobenius-decay",
    chains: () => chains,
    phaseBegin(ctx) { refresh(ctx.model); },
    architectureChange(ctx) { refresh(ctx.model); },
    lossTerm(ctx) {
      refresh(ctx.model);
      const on = chains.filter((c) => c.decayed);
      if (lambda === 0 || on.length === 0 || (every > 1 && ctx.phaseStep % every !== 0)) return undefined;
      let total = chainProductNorm2(ctx.model, on[0]);
      for (const c of on.slice(1)) total = tf.add(total, chainProductNorm2(ctx.model, c));
      return tf.mul((every * lambda) / 2, total) as tf.Scalar;
    },
  };
}
