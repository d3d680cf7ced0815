// Decompose phase: factorize with odecomp/models `compress` (method and ranks per its options).
import { check } from "../../core/errors.ts";
import type { Plan } from "../../compress/plan.ts";
import { compress } from "../../models/compress.ts";
import { where, type PhaseRunner } from "./run.ts";

export const decomposePhase: PhaseRunner<"decompose"> = {
  validate(p, at) {
    check(p.options === undefined || (typeof p.options === "object" && p.options !== null), where, () => `${at}: options = ${String(p.options)}; expected compress options (an object) or nothing`);
  },
  async run(phase, run) {
    let report = "", plan: Plan | undefined;
    const o = await run.changeArchitecture(async (model) => {
      const c = await compress(model, phase.options ?? {});
      report = c.report;
      plan = c.plan;
      return c.model;
    });
    return { ...o, report, plan };
  },
};
