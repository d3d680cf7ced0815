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
import type { RankSelection } from "../src/compress/plan.ts";
import { compressOptions } from "../src/cli/commands.ts";

export type AutoCost = "measured" | "flops";

/**
 * The rank rule of the benches' `--auto-rank`: "budget" (the planner's FLOP budget at the auto budget: the rule
 * spends the same FLOPs as decompose-at), or any `--rank-rule` of the CLI (stable, stable:S, evbmf, energy:T, …),
 * parsed by the CLI's own flag parser.
 */
export function autoRankFlag(v: string, budget: number): RankSelection {
  try {
    return (v === "budget" ? compressOptions({ budget: String(budget), metric: "flops" }) : compressOptions({ rankRule: v })).select!;
  } catch (e) {
    throw new Error(`--auto-rank=${v}: ${(e as Error).message}`);
  }
}

export function benchAutoSchedule(o: { epochs: number; autoAt: number; budget: number; cost?: AutoCost; rankMultiple?: number; select?: RankSelection }): Schedule {
  return auto({
    epochs: o.epochs,
    convergence: { maxEpochs: o.autoAt, minEpochs: Math.min(1, o.autoAt) },
    plan: { select: o.select ?? { kind: "stable" }, budget: o.budget, rankMultiple: o.rankMultiple ?? TRAINING_RANK_MULTIPLE, timer: o.cost === "flops" ? flopsTimer : fittedTimer(new CachedTimer(tfjsTimer())) },
  });
}
