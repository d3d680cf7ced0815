// Learning-rate warm-up after every architecture change (TrainOptions.warmupSteps): the rebuilt
// optimizer's rate ramps linearly from target/N to the target over N steps. A fresh Adam takes full-size
// steps on moments estimated from one batch, which knocks a just-decomposed model about; the ramp lets the
// moments settle first. The target is the base rate × the learning-rate schedule's factor at the step
// (lr-schedule.ts; 1 without a schedule), so with a decaying schedule the ramp climbs to the decayed rate,
// not back to the base.
import { check } from "../../core/errors.ts";
import type { TrainHook } from "./hook.ts";
import { learningRateOf, setLearningRate } from "./lr-schedule.ts";

/**
 * The warm-up hook over `steps` steps (0: a hook that does nothing); `factor(t)` scales the target rate at
 * global step t (the schedule's factor). It must come after the schedule hook in the list, so that its
 * rate wins during the ramp.
 */
export function warmupHook(steps: number, factor: (step: number) => number = () => 1): TrainHook {
  check(Number.isInteger(steps) && steps >= 0, "train", () => `warmupSteps = ${steps}; expected an integer ≥ 0`);
  // The step of the last architecture change (-1: none, or the ramp is over) and the rebuilt optimizer's base rate.
  let changedAt = -1, baseRate = NaN;
  return {
    name: "warmup",
    architectureChange(ctx) {
      if (steps === 0) return;
      baseRate = learningRateOf(ctx.optimizer, `warmupSteps = ${steps}`);
      changedAt = ctx.step;
    },
    beforeStep(ctx) {
      if (changedAt < 0) return;
      const t = ctx.step - changedAt, target = baseRate * factor(ctx.step);
      setLearningRate(ctx.optimizer, t < steps ? target * (t + 1) / steps : target);
      if (t >= steps) changedAt = -1;
    },
  };
}
