// Learning-rate warm-up after every architecture change (TrainOptions.warmupSteps): the rebuilt
// optimizer's rate ramps linearly from base/N to base over N steps. A fresh Adam takes full-size steps
// on moments estimated from one batch, which knocks a just-decomposed model about; the ramp lets the
// moments settle first.
import type * as tf from "@tensorflow/tfjs-core";
import { check } from "../../core/errors.ts";
import type { TrainHook } from "./hook.ts";

type RateOptimizer = { learningRate: number; setLearningRate?: (r: number) => void };

function setRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as RateOptimizer;
  if (o.setLearningRate) o.setLearningRate(rate); else o.learningRate = rate;
}

/** The warm-up hook over `steps` steps (0: a hook that does nothing). */
export function warmupHook(steps: number): TrainHook {
  check(Number.isInteger(steps) && steps >= 0, "train", () => `warmupSteps = ${steps}; expected an integer ≥ 0`);
  // The step of the last architecture change (-1: none, or the ramp is over) and the rebuilt optimizer's base rate.
  let changedAt = -1, baseRate = NaN;
  return {
    name: "warmup",
    architectureChange(ctx) {
      if (steps === 0) return;
      baseRate = (ctx.optimizer as unknown as RateOptimizer).learningRate;
      check(typeof baseRate === "number" && baseRate > 0, "train", () => `warmupSteps = ${steps} needs an optimizer with a positive numeric learningRate; got ${String(baseRate)}`);
      changedAt = ctx.step;
    },
    beforeStep(ctx) {
      if (changedAt < 0) return;
      const t = ctx.step - changedAt;
      setRate(ctx.optimizer, t < steps ? baseRate * (t + 1) / steps : baseRate);
      if (t >= steps) changedAt = -1;
    },
  };
}
