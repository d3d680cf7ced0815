// The auto schedule as the schedule benches run it (workloads, elhoushi-seeds --variant=auto): switch when
// the stable ranks have converged, by epoch `autoAt` at the latest (not before epoch 1); scaled stable ranks
// under a `budget` fraction of the factorizable layers' cost, by the measured forward + backward time
// (as `npm start -- --schedule auto`) or by FLOPs (deterministic: the plan cannot move with the load); ranks
// rounded to multiples of 8 as the CLI's training commands round them (`rankMultiple`).
import { auto, LOW_RANK_LR_SCALE, type Schedule } from "../src/train/schedule.ts";
import { fittedTimer, flopsTimer, type AutoPlanOptions } from "../src/train/auto.ts";
import { convMethodNames } from "../src/layers/methods/index.ts";
import { tfjsTimer } from "../src/models/timing.ts";
import { CachedTimer } from "../src/compress/timecost.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";
import type { RankSelection } from "../src/compress/plan.ts";
import { compressOptions } from "../src/cli/commands.ts";
import { autoConv } from "../src/cli/train.ts";

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

/**
 * The benches' `--auto-conv`: auto's Conv2D method (default channel-svd, the planner's own), parsed as the CLI
 * parses `--method`; "tucker2" is solved by HOOI (`--tucker hooi`), as the benches' decompose-at runs solve it,
 * so the two differ only in auto's decisions.
 */
export function autoConvFlag(v: string): Pick<AutoPlanOptions, "convMethod" | "decomposition"> {
  if (v === "") return {};
  let conv: Pick<AutoPlanOptions, "convMethod" | "decomposition">;
  try {
    conv = autoConv(compressOptions({ method: v, ...(v === "tucker2" ? { tucker: "hooi" } : {}) }));
  } catch (e) {
    throw new Error(`--auto-conv=${v}: ${(e as Error).message}`);
  }
  if (!conv.convMethod) throw new Error(`--auto-conv=${v}: expected a Conv2D method (${convMethodNames().join(", ")})`);
  return conv;
}

/** The setup line's words for auto's conv chains. */
export const autoConvText = (conv: Pick<AutoPlanOptions, "convMethod" | "decomposition">): string =>
  conv.convMethod ? `${conv.convMethod}${conv.decomposition?.tucker?.method === "hooi" ? " (HOOI)" : ""}` : "channel-svd";

/**
 * The benches' `--auto-skip=fc1,…` (layers auto keeps dense), `--auto-decay-every=N` (Frobenius decay every N steps
 * at N·λ; "" = the default 4) and `--auto-lr-scale=S` (the low-rank part's rate as a multiple of --lr; "" = auto()'s
 * default, LOW_RANK_LR_SCALE).
 */
export function autoExtrasFlags(skip: string, decayEvery: string, lrScale = ""): { skip: string[]; decayEvery?: number; lrScale: number } {
  const s = lrScale === "" ? LOW_RANK_LR_SCALE : Number(lrScale);
  if (!(Number.isFinite(s) && s > 0)) throw new Error(`--auto-lr-scale=${lrScale}: expected a number > 0`);
  return { skip: skip.split(",").filter((n) => n !== ""), ...(decayEvery === "" ? {} : { decayEvery: Number(decayEvery) }), lrScale: s };
}

/** The setup line's words for them. */
export const autoExtrasText = (x: { skip: string[]; decayEvery?: number; lrScale: number }): string =>
  `${x.skip.length ? `, ${x.skip.join(", ")} kept dense` : ""}${x.decayEvery !== undefined ? `, Frobenius decay every ${x.decayEvery} steps` : ""}, low-rank rate ×${x.lrScale}`;

export function benchAutoSchedule(o: { epochs: number; autoAt: number; budget: number; cost?: AutoCost; rankMultiple?: number; select?: RankSelection; conv?: Pick<AutoPlanOptions, "convMethod" | "decomposition">; skip?: string[]; decayEvery?: number; lrScale?: number }): Schedule {
  return auto({
    epochs: o.epochs,
    ...(o.lrScale !== undefined ? { lowRankLrScale: o.lrScale } : {}),
    ...(o.decayEvery !== undefined ? { frobeniusDecayEvery: o.decayEvery } : {}),
    // a fractional autoAt switches there (mid-epoch), with no convergence test before it
    ...(Number.isInteger(o.autoAt) ? { convergence: { maxEpochs: o.autoAt, minEpochs: Math.min(1, o.autoAt) } } : { switchAt: o.autoAt }),
    plan: { select: o.select ?? { kind: "stable" }, budget: o.budget, rankMultiple: o.rankMultiple ?? TRAINING_RANK_MULTIPLE, timer: o.cost === "flops" ? flopsTimer : fittedTimer(new CachedTimer(tfjsTimer())), ...o.conv, ...(o.skip?.length ? { skip: o.skip } : {}) },
  });
}
