// The --json output of `odecomp inspect` and `odecomp compress`: one schema, documented in
// docs/cli-json.md. Both carry the plan compress follows (`plan`, the same PlanJSON type), so a
// script reads either the same way; inspect adds its per-layer preview, compress what it wrote.
import type { Plan } from "../models/index.ts";
import type { QuantizeReport } from "../compress/artifacts.ts";
import type { QuantizeDtype } from "../compress/quantize.ts";

/** The plan as JSON: Plan's fields, `timing` and `foldedBatchNorm` only when they apply. */
export type PlanJSON = Pick<Plan, "select" | "totals" | "entries" | "timing" | "foldedBatchNorm">;

/** Fields both commands print. */
export interface CommonJSON {
  command: "inspect" | "compress";
  /** The model.json read. */
  input: string;
  /** Keras 3 → tfjs normalisations applied on reading (empty when none). */
  normalized: string[];
  /** The plan compress follows with these options (inspect: the one it would follow). */
  plan: PlanJSON;
}

/** One budget preview column of inspect: what compress would do per layer at keep × metric. */
export interface BudgetJSON {
  keep: number;
  metric: "params" | "flops" | "time";
  /** null when the budget cannot be met (then `error` says why). */
  totals: Plan["totals"] | null;
  error?: string;
  /** Per layer (model order, factorizable layers only): the method and ranks chosen, or null when kept. */
  layers: { layer: string; method: string | null; ranks: number[] }[];
}

export interface InspectLayerJSON {
  layer: string;
  kind: string;
  params: number;
  /** FLOPs per sample. */
  flops: number;
  /** Measured seconds per batch, and its share of the model's measured time; null when not measured. */
  time: number | null;
  timeShare: number | null;
  /** Parameters each conv method would leave under the rule (Dense layers use SVD in every column). */
  paramsAfter: Record<string, number>;
}

export interface InspectJSON extends CommonJSON {
  command: "inspect";
  quantization: QuantizeDtype | null;
  model: { name: string; params: number; layers: number };
  /** The rule's selection (same as plan.select). */
  select: Plan["select"];
  layers: InspectLayerJSON[];
  /** Totals per conv method under the rule. */
  totals: Record<string, Plan["totals"]>;
  budgets: BudgetJSON[];
}

export interface CompressJSON extends CommonJSON {
  command: "compress";
  out: string;
  quantization: QuantizeReport | null;
}

export const planJSON = (p: Plan): PlanJSON => ({ select: p.select, totals: p.totals, entries: p.entries, ...(p.timing ? { timing: p.timing } : {}), ...(p.foldedBatchNorm ? { foldedBatchNorm: p.foldedBatchNorm } : {}) });

const ENTRY_KEYS = ["layer", "kind", "method", "ranks", "maxRanks", "action", "note", "paramsBefore", "paramsAfter", "flopsBefore", "flopsAfter", "relError", "relErrorKind"] as const;

/**
 * Check a parsed --json output against the schema (the keys and their types, not every value);
 * returns the problems found, empty when it conforms. Used by the tests on both commands' output.
 */
export function schemaProblems(x: unknown): string[] {
  const bad: string[] = [];
  const o = x as Record<string, unknown>;
  const want = (cond: boolean, what: string) => { if (!cond) bad.push(what); };
  want(typeof o === "object" && o !== null, "output is an object");
  if (bad.length) return bad;
  want(o.command === "inspect" || o.command === "compress", "command is inspect or compress");
  want(typeof o.input === "string", "input is a string");
  want(Array.isArray(o.normalized), "normalized is an array");
  const p = o.plan as Record<string, unknown> | undefined;
  want(typeof p === "object" && p !== null, "plan is an object");
  if (p) {
    want(typeof p.select === "object" && p.select !== null, "plan.select is an object");
    const t = p.totals as Record<string, unknown> | undefined;
    for (const k of ["paramsBefore", "paramsAfter", "flopsBefore", "flopsAfter"]) want(typeof t?.[k] === "number", `plan.totals.${k} is a number`);
    want(Array.isArray(p.entries), "plan.entries is an array");
    for (const [i, e] of ((p.entries as Record<string, unknown>[]) ?? []).entries()) {
      for (const k of ENTRY_KEYS) want(k in e, `plan.entries[${i}].${k} present`);
      want(e.action === "factorize" || e.action === "keep", `plan.entries[${i}].action is factorize or keep`);
    }
  }
  if (o.command === "inspect") {
    want(Array.isArray(o.layers), "layers is an array");
    for (const [i, l] of ((o.layers as Record<string, unknown>[]) ?? []).entries()) {
      for (const k of ["layer", "kind", "params", "flops", "time", "timeShare", "paramsAfter"]) want(k in l, `layers[${i}].${k} present`);
    }
    want(Array.isArray(o.budgets), "budgets is an array");
    for (const [i, b] of ((o.budgets as Record<string, unknown>[]) ?? []).entries()) {
      want(typeof b.keep === "number" && typeof b.metric === "string" && Array.isArray(b.layers), `budgets[${i}] has keep, metric, layers`);
    }
  } else if (o.command === "compress") {
    want(typeof o.out === "string", "out is a string");
    want("quantization" in o, "quantization present");
  }
  return bad;
}
