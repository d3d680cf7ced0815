// The layer compression methods, one line each: each file registers its spec
// when loaded (in this order: plans, inspect columns and lists follow it).
// Adding a method is its file plus one line here (or registerMethod(spec) from
// user code). Import the registry from here, never from registry.ts alone.
export { svd } from "./svd.ts";
export { tucker2 } from "./tucker2.ts";
export { tucker1 } from "./tucker1.ts";
export { cp } from "./cp.ts";
export { spatial } from "./spatial.ts";
export { channel } from "./channel.ts";
export { separable } from "./separable.ts";
export { transpose } from "./transpose.ts";

export { REGISTRY, registerMethod, unregisterMethod, methodSpec, convMethodNames, chainNamePattern, cliMethods } from "./registry.ts";
export type { MethodSpec, Cost, RankSpectra, ErrorEstimate, CliNames } from "./spec.ts";
import { markBuiltins } from "./registry.ts";

markBuiltins();
