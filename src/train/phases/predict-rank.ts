// predictRank phase: truncate the factorized pairs to the rank the accuracy-over-rank predictor picks
// from this run's (rank, accuracy) points (see the Phase type for the rules).
import { check } from "../../core/errors.ts";
import { findSvdPairs, pairRank } from "../factorize.ts";
import { truncatePairs } from "../fading.ts";
import { nextRank } from "../predictor.ts";
import type { PhaseRecord } from "../schedule.ts";
import { where, type PhaseRunner } from "./run.ts";

export const predictRankPhase: PhaseRunner<"predictRank"> = {
  validate(p, at) {
    check(Number.isFinite(p.target) && p.target > 0 && p.target <= 1, where, () => `${at}: target = ${p.target}; expected an accuracy in (0, 1]`);
    check(p.minRank === undefined || (Number.isInteger(p.minRank) && p.minRank >= 1), where, () => `${at}: minRank = ${p.minRank}; expected a positive integer`);
    check(p.minKeep === undefined || (p.minKeep > 0 && p.minKeep < 1), where, () => `${at}: minKeep = ${p.minKeep}; expected a fraction in (0, 1)`);
  },
  async run(phase, run) {
    const pairs = phase.pairs ?? findSvdPairs(run.model);
    check(pairs.length > 0, where, () => `phase ${run.phaseIndex} (predictRank): model '${run.model.name}' has no factorized pairs; expected a factorize phase first or pairs`);
    const now = run.commonRank(pairs);
    check(now !== null, where, () => `phase ${run.phaseIndex} (predictRank): the factorized pairs have different ranks (${pairs.map((p) => `${p.u}: ${pairRank(run.model, p)}`).join(", ")}); expected one common rank`);
    const minRank = Math.min(phase.minRank ?? 1, now!);
    const points = run.rankPoints.map((p) => ({ ...p }));
    let rankChoice: NonNullable<PhaseRecord["rankChoice"]>;
    if (now! <= minRank) rankChoice = { rank: null, predicted: null, rule: "at minRank", points };
    else if (points.length < 3) rankChoice = { rank: Math.max(minRank, Math.ceil(now! / 2)), predicted: null, rule: "halve", points };
    else {
      const lower = Math.min(now! - 1, Math.max(minRank, Math.ceil(now! * (phase.minKeep ?? 0.5))));
      const c = nextRank(points, { target: phase.target, minRank: lower, maxRank: now! - 1 });
      rankChoice = { rank: c.rank, predicted: c.predicted, rule: "predictor", points };
    }
    const rank = rankChoice.rank;
    const { accuracyBefore, accuracy } = await run.changeArchitecture(async (model) => rank === null ? null : truncatePairs(model, pairs, rank));
    return { accuracyBefore, accuracy, rankChoice };
  },
};
