// Factorize phase: the named Dense layers become factorized pairs at `rank`, from initialisation
// (random, seeded by TrainOptions.seed) or from their SVD.
import { check } from "../../core/errors.ts";
import { factorizeDense } from "../factorize.ts";
import { where, type PhaseRunner } from "./run.ts";

export const factorizePhase: PhaseRunner<"factorize"> = {
  validate(p, at) {
    check(Number.isInteger(p.rank) && p.rank >= 1, where, () => `${at}: rank = ${p.rank}; expected a positive integer`);
  },
  async run(phase, run) {
    return run.changeArchitecture((model) => factorizeDense(model, { layers: phase.layers, rank: phase.rank, init: phase.init, seed: run.seed }));
  },
};
