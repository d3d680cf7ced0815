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

/** tf.customGrad's function type (its inputs and the save function arrive as one rest list). */
type CustomGrad = (...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

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

/** ‖W‖²_F of a chain's product, formed and differentiable in its kernels (inside a tape): the reference chainGramNorm2 is tested against. */
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
 * The same ‖W‖²_F without forming W, from the factors' Gram matrices, with the gradients written out
 * (tf.customGrad) instead of taped. W is never needed, only its norm: for a pair W = U·V,
 * ‖W‖²_F = Σ (UᵀU) ⊙ (V·Vᵀ), with ∂/∂U = 2·U·(V·Vᵀ) and ∂/∂V = 2·(UᵀU)·V; for Tucker-2 (A: S×R1, core
 * slices C_p: R1×R2 for p over the kh·kw taps, B: R2×T), ‖W‖²_F = Σ_p tr(G_A·C_p·G_B·C_pᵀ) with G_A = AᵀA,
 * G_B = B·Bᵀ, and ∂/∂C_p = 2·G_A·C_p·G_B, ∂/∂A = 2·A·Σ_p C_p·G_B·C_pᵀ, ∂/∂B = 2·(Σ_p C_pᵀ·G_A·C_p)·B.
 * Forming W costs S·R·T per pair (and as much again twice for the taped gradient); these cost
 * (S + T)·R² and, for the core, kh·kw·R1·R2·(R1 + R2). The decay term of all chains with its gradients
 * (Tucker-2 convs, SVD denses at the 0.4 FLOP budget; wasm, 2 cores, medians of 40): the main job's VGG
 * 16–21 → 7 ms (fc1's 3136 × 74 × 128 pair dominates), the wide VGG 73–78 → 25–26 ms.
 */
export function chainGramNorm2(model: tfl.LayersModel, chain: DecayedChain): tf.Scalar {
  const k = chain.layers.map((n) => model.getLayer(n).weights[0].read());
  if (chain.method === "tucker2") {
    const [a, core, b] = k;
    const [kh, kw, r1, r2] = core.shape;
    const f = tf.customGrad(((A: tf.Tensor, C: tf.Tensor, B: tf.Tensor, save: tf.GradSaveFunc) => {
      const ga = tf.matMul(A as tf.Tensor2D, A as tf.Tensor2D, true, false), gb = tf.matMul(B as tf.Tensor2D, B as tf.Tensor2D, false, true);
      const x = tf.reshape(tf.matMul(tf.reshape(C, [-1, r2]) as tf.Tensor2D, gb), [kh * kw, r1, r2]); // C_p·G_B
      const y = tf.matMul(tf.reshape(ga, [1, r1, r1]), C); // G_A·C_p
      save([A, C, B, ga, x, y]);
      return {
        value: tf.sum(tf.mul(x, y)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [A, C, B, ga, x, y] = saved;
          const s = tf.mul(dy, 2);
          const m = tf.sum(tf.matMul(x, C, false, true), 0) as tf.Tensor2D; // Σ_p C_p·G_B·C_pᵀ
          const n = tf.sum(tf.matMul(C, y, true, false), 0) as tf.Tensor2D; // Σ_p C_pᵀ·G_A·C_p
          return [
            tf.mul(s, tf.matMul(A as tf.Tensor2D, m)),
            tf.mul(s, tf.matMul(tf.reshape(ga, [1, r1, r1]), x)),
            tf.mul(s, tf.matMul(n, B as tf.Tensor2D)),
          ];
        },
      };
    }) as CustomGrad);
    return tf.tidy(() => f(tf.reshape(a, [-1, r1]), tf.reshape(core, [kh * kw, r1, r2]), tf.reshape(b, [r2, -1])) as tf.Scalar);
  }
  const r = k[1].shape[k[1].shape.length - 2];
  const f = tf.customGrad(((U: tf.Tensor, V: tf.Tensor, save: tf.GradSaveFunc) => {
    const gu = tf.matMul(U as tf.Tensor2D, U as tf.Tensor2D, true, false), gv = tf.matMul(V as tf.Tensor2D, V as tf.Tensor2D, false, true);
    save([U, V, gu, gv]);
    return {
      value: tf.sum(tf.mul(gu, gv)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [U, V, gu, gv] = saved;
        const s = tf.mul(dy, 2);
        return [tf.mul(s, tf.matMul(U as tf.Tensor2D, gv as tf.Tensor2D)), tf.mul(s, tf.matMul(gu as tf.Tensor2D, V as tf.Tensor2D))];
      },
    };
  }) as CustomGrad);
  return tf.tidy(() => f(tf.reshape(k[0], [-1, r]), tf.reshape(k[1], [r, -1])) as tf.Scalar);
}

/**
 * The decay hook: adds λ/2 · Σ_chains ‖W‖²_F to the loss of every step, or, with `every` = k > 1, k·λ/2 · Σ‖W‖²_F
 * to every k-th step of the phase (lazy regularisation, as StyleGAN2 applies its R1 term: the same decay per
 * k steps in expectation at 1/k of the cost — forming each chain's product and its gradient every step took
 * 16 % of a factorized VGG epoch, measured; the Gram form, chainGramNorm2, now used, costs about ⅓ of that).
 * `chains()` lists what the current model has (refreshed after each architecture change).
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
      let total = chainGramNorm2(ctx.model, on[0]);
      for (const c of on.slice(1)) total = tf.add(total, chainGramNorm2(ctx.model, c));
      return tf.mul((every * lambda) / 2, total) as tf.Scalar;
    },
  };
}
