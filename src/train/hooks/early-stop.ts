// Early stopping of a train phase with `earlyStop`: after each epoch (from `minEpochs` on, never after
// the last) the learning-curve predictor (src/train/predictor.ts) judges the phase's accuracy history.
import type { EarlyStopSpec } from "../schedule.ts";
import { shouldStop } from "../predictor.ts";
import type { TrainHook } from "./hook.ts";

/** The early-stopping hook: active in train phases that have an `earlyStop` spec, idle elsewhere. */
export function earlyStopHook(): TrainHook {
  let spec: EarlyStopSpec | undefined, epochs = 0;
  let history: number[] = [];
  return {
    name: "earlyStop",
    phaseBegin({ phase }) {
      spec = phase.kind === "train" ? phase.earlyStop : undefined;
      epochs = phase.kind === "train" ? phase.epochs : 0;
      history = [];
    },
    epochEnd(record, { phaseEpoch }) {
      if (!spec) return;
      history.push(record.accuracy);
      if (history.length < Math.max(3, spec.minEpochs ?? 3) || phaseEpoch >= epochs - 1) return;
      record.prediction = shouldStop(history, { threshold: spec.threshold, horizon: spec.horizon ?? Math.max(1, epochs - (phaseEpoch + 1)) });
      return record.prediction.stop;
    },
    phaseEnd(record) { if (spec) record.stoppedEarly ??= false; },
  };
}
