// Every FactorizedTensor class by the name in its encoded form: the worker's result decoding
// reads this table, so a new decomposition class is carried by the worker once it is listed here.
import { type EncodedFactorized, FactorizedTensor } from "./factorized.ts";
import { TuckerTensor } from "./tucker.ts";
import { CPTensor } from "./cp.ts";
import { TTTensor } from "./tt.ts";

export const FACTORIZED_CLASSES = { TuckerTensor, CPTensor, TTTensor } as const;

/** A class's encoded form → the instance again; anything else is returned as it is. */
export function decodeFactorized(v: unknown): unknown {
  if (v === null || typeof v !== "object" || !("$class" in v)) return v;
  const name = (v as EncodedFactorized).$class;
  if (!Object.hasOwn(FACTORIZED_CLASSES, name)) return v;
  const cls = FACTORIZED_CLASSES[name as keyof typeof FACTORIZED_CLASSES];
  return (cls.decode as (e: never) => FactorizedTensor)(v as never);
}

/** A FactorizedTensor → its plain-data form; anything else is returned as it is. */
export function encodeFactorized(v: unknown): unknown {
  return v instanceof FactorizedTensor ? v.encode() : v;
}
