// Reconstruct phase: fold every factorized chain back into its original layer (odecomp/models `reconstruct`).
import { reconstruct } from "../../models/compress.ts";
import type { PhaseRunner } from "./run.ts";

export const reconstructPhase: PhaseRunner<"reconstruct"> = {
  validate() {},
  async run(_phase, run) {
    let report = "";
    const o = await run.changeArchitecture(async (model) => {
      const c = await reconstruct(model);
      report = [`folded ${c.folded.length} chain(s)`, ...c.notes].join("\n");
      return c.model;
    });
    return { ...o, report };
  },
};
