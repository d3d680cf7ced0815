// The registry of layer compression methods and what is derived from it. Everything
// per-method elsewhere (chain names, the planner, costs, reconstruct, the CLI's
// --method names and help) is looked up here at call time, so a method added
// with registerMethod() is usable everywhere at once.
import { fail } from "../../core/errors.ts";
import type { MethodSpec } from "./spec.ts";

/** Every method by name, in registration order (the order of plans, inspect columns and lists). */
export const REGISTRY: Record<string, MethodSpec> = {};

/** Add a method (or fail naming the clash); it is then known everywhere. Returns the spec. */
export function registerMethod(spec: MethodSpec): MethodSpec {
  const where = "registerMethod";
  if (!/^[a-z][a-z0-9-]*$/.test(spec.name)) fail(where, `method name '${spec.name}' is not lower-case letters, digits and '-'`);
  if (!/^[a-z][a-z0-9]*$/.test(spec.token)) fail(where, `method '${spec.name}' has token '${spec.token}'; expected lower-case letters and digits (it goes into layer names)`);
  if (REGISTRY[spec.name]) fail(where, `method '${spec.name}' is already registered`);
  const clash = Object.values(REGISTRY).find((m) => m.token === spec.token);
  if (clash) fail(where, `method '${spec.name}' has token '${spec.token}', already used by '${clash.name}'`);
  if (spec.kernelNames.length !== spec.chainLength) fail(where, `method '${spec.name}' names ${spec.kernelNames.length} kernels for a chain of ${spec.chainLength} layers`);
  const taken = new Set(cliMethods().accepted);
  for (const a of spec.cli ? [spec.name, ...spec.cli.aliases, ...spec.cli.shown.map((x) => x.name)] : []) if (taken.has(a)) fail(where, `method '${spec.name}' CLI name '${a}' is already taken`);
  REGISTRY[spec.name] = spec;
  return spec;
}

/** Remove a method added by registerMethod (tests); built-in methods stay. */
export function unregisterMethod(name: string): void {
  if (BUILTIN.includes(name)) fail("unregisterMethod", `method '${name}' is built in`);
  delete REGISTRY[name];
}

let BUILTIN: string[] = [];

/** Called once by index.ts after the built-in methods' files have registered them. */
export function markBuiltins(): void {
  if (BUILTIN.length === 0) BUILTIN = Object.keys(REGISTRY);
}

/** The spec of a method, or a failure at `where` listing the known ones. */
export function methodSpec(name: string, where: string): MethodSpec {
  return REGISTRY[name] ?? fail(where, `unknown method '${String(name)}'; expected one of ${Object.keys(REGISTRY).join(", ")}`);
}

/** Names of the methods that apply to Conv2D layers, in registration order. */
export const convMethodNames = (): string[] => Object.values(REGISTRY).filter((m) => m.appliesTo === "Conv2D").map((m) => m.name);

/** Chain layer name matcher: `L__odc_<token>_<i>` for every registered token. */
export function chainNamePattern(): RegExp {
  return new RegExp(`^(.+)__odc_(${Object.values(REGISTRY).map((m) => m.token).join("|")})_(\\d+)$`);
}

/**
 * The CLI's `--method` vocabulary: value → method (plus "auto"), the names listed in error messages,
 * and the help text. Methods without `cli` names (Dense ones) are not offered.
 */
export function cliMethods(): { aliases: Record<string, string>; accepted: string[]; listed: string[]; help: string } {
  const aliases: Record<string, string> = { auto: "auto" };
  const shown: { name: string; at: number; note?: string; i: number }[] = [];
  Object.values(REGISTRY).forEach((m, i) => {
    if (!m.cli) return;
    aliases[m.name] = m.name;
    for (const a of [...m.cli.aliases, ...m.cli.shown.map((x) => x.name)]) aliases[a] = m.name;
    for (const s of m.cli.shown) shown.push({ ...s, i });
  });
  shown.sort((a, b) => a.at - b.at || a.i - b.i);
  const listed = [...shown.map((s) => s.name), "auto"];
  const help = `Conv2D method: ${shown.map((s) => (s.note ? `${s.name} (${s.note})` : s.name)).join(", ")} or auto`;
  return { aliases, accepted: Object.keys(aliases), listed, help };
}
