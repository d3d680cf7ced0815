// The auto schedule as the schedule benches run it (workloads, elhoushi-seeds --variant=auto): switch when
// the stable ranks have converged, by epoch `autoAt` at the latest (not before epoch 1); scaled stable ranks
// under a `budget` fraction of the factorizable layers' cost, by the measured forward + backward time
// (as `npm start -- --schedule auto`) or by FLOPs (deterministic: the plan cannot move with the load); ranks
// rounded to multiples of 8 as the CLI's training commands round them (`rankMultiple`).
import { auto, type Schedule } from "../src/train/schedule.ts";
import { fittedTimer, flopsTimer } from "../src/train/auto.ts";
import { tfjsTimer } from "../src/models/timing.ts";
import { CachedTimer } from "../src/compress/timecost.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";

export type AutoCost = "measured" | "flops";

export function benchAutoSchedule(o: { epochs: number; autoAt: number; budget: number; cost?: AutoCost; rankMultiple?: number }): Schedule {
  return auto({
    epochs: o.epochs,
    convergence: { maxEpochs: o.autoAt, minEpochs: Math.min(1, o.autoAt) },
    plan: { select: { kind: "stable" }, budget: o.budget, rankMultiple: o.rankMultiple ?? TRAINING_RANK_MULTIPLE, timer: o.cost === "flops" ? flopsTimer : fittedTimer(new CachedTimer(tfjsTimer())) },
  });
}
