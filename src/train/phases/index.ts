// The phase kinds of a schedule: one runner per kind, one line each. The kind list, validation and
// dispatch of `train()` all come from this table; adding a kind = its runner file, its member of the
// `Phase` union (src/train/schedule.ts) and one line here (the mapped type makes a missing line a
// type error).
import { fail } from "../../core/errors.ts";
import type { Phase, PhaseKind } from "../schedule.ts";
import { autoPhase } from "./auto.ts";
import { decomposePhase } from "./decompose.ts";
import { factorizePhase } from "./factorize.ts";
import { predictRankPhase } from "./predict-rank.ts";
import { reconstructPhase } from "./reconstruct.ts";
import { where, type PhaseRunner } from "./run.ts";
import { trainPhase } from "./train.ts";
import { truncatePhase } from "./truncate.ts";

export const phaseRunners: { readonly [K in PhaseKind]: PhaseRunner<K> } = {
  train: trainPhase,
  factorize: factorizePhase,
  truncate: truncatePhase,
  predictRank: predictRankPhase,
  decompose: decomposePhase,
  reconstruct: reconstructPhase,
  auto: autoPhase,
};

/** Every phase kind, in the table's order. */
export const phaseKinds = Object.keys(phaseRunners) as PhaseKind[];

/** The runner of `phase`, after checking its fields; `i` is its index in the schedule (for messages). */
export function phaseRunner(phase: Phase, i: number): PhaseRunner {
  const kind = (phase as { kind: string }).kind;
  const at = `phase ${i} (${kind})`;
  if (!Object.hasOwn(phaseRunners, kind)) fail(where, `${at}: unknown phase kind; expected one of ${phaseKinds.join(", ")}`);
  const runner = phaseRunners[kind as PhaseKind] as PhaseRunner;
  runner.validate(phase, at);
  return runner;
}
