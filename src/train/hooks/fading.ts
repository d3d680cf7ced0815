// Rank fading during a train phase with `fading` (src/train/fading.ts): in "penalty" mode a loss term
// λ·f(t)·tails, in "proximal" mode soft-thresholding of the tails after each step; t counts the
// phase's steps.
import type * as tf from "@tensorflow/tfjs-core";
import { check } from "../../core/errors.ts";
import { applyFadingProximal, fadingPenalty, type FadingOptions } from "../fading.ts";
import { findSvdPairs } from "../factorize.ts";
import type { TrainHook } from "./hook.ts";

/** The fading hook: active in train phases that have a `fading` spec, idle elsewhere. */
export function fadingHook(): TrainHook {
  let penalty: ((phaseStep: number) => tf.Scalar) | undefined;
  let proximal: (FadingOptions & { learningRate: number }) | undefined;
  return {
    name: "fading",
    phaseBegin({ phase, phaseIndex, model }) {
      penalty = proximal = undefined;
      const fade = phase.kind === "train" ? phase.fading : undefined;
      if (!fade) return;
      const pairs = fade.pairs ?? (fade.dense?.length ? [] : findSvdPairs(model));
      check(pairs.length + (fade.dense?.length ?? 0) > 0, "train", () => `phase ${phaseIndex} (train with fading): model '${model.name}' has no factorized pairs; expected a factorize phase first, fading.pairs or fading.dense`);
      const options: FadingOptions = { rank: fade.rank, pairs, dense: fade.dense, lambda: fade.lambda, rampSteps: fade.rampSteps };
      if (!((options.lambda ?? 1e-3) > 0)) return;
      if ((fade.mode ?? "penalty") === "penalty") penalty = fadingPenalty(model, options);
      else if (fade.mode === "proximal") proximal = { ...options, learningRate: fade.proximalStep ?? 1e-3 };
    },
    lossTerm: (ctx) => penalty?.(ctx.phaseStep),
    // The ramp counts the step just taken (t = phaseStep + 1), as fadingProximal's callback does.
    afterStep(ctx) { if (proximal) applyFadingProximal(ctx.model, proximal, ctx.phaseStep + 1); },
  };
}
