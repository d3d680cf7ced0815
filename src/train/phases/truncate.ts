// Truncate phase: cut the factorized pairs (default: all of them) to `rank`.
import { check } from "../../core/errors.ts";
import { findSvdPairs } from "../factorize.ts";
import { truncatePairs } from "../fading.ts";
import { where, type PhaseRunner } from "./run.ts";

export const truncatePhase: PhaseRunner<"truncate"> = {
  validate(p, at) {
    check(Number.isInteger(p.rank) && p.rank >= 1, where, () => `${at}: rank = ${p.rank}; expected a positive integer`);
  },
  async run(phase, run) {
    const pairs = phase.pairs ?? findSvdPairs(run.model);
    check(pairs.length > 0, where, () => `phase ${run.phaseIndex} (truncate): model '${run.model.name}' has no factorized pairs; expected a factorize phase first or pairs`);
    return run.changeArchitecture((model) => truncatePairs(model, pairs, phase.rank));
  },
};
