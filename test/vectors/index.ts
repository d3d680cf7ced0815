// The shared kernel test vectors: ONE list, run unchanged by
//   - Node:     test/vectors/vectors.test.ts (vitest),
//   - Deno:     test/smoke/deno-smoke.ts     (driven by test/smoke/deno.test.ts),
//   - Chromium: test/smoke/browser-*.ts      (page and dedicated worker, driven by test/smoke/chromium.test.ts).
// Files here import only src/index.ts and npm-free helpers from test/helpers
// (random.ts, reference.ts — NOT a helper that imports ml-matrix or any other
// package), never vitest or node:, so they bundle for the browser and run in
// Deno offline (--no-npm).
//
// Adding cases:
//   - a case for an existing family: one entry in that family's array (e.g. matmulVectors in matmul.ts);
//   - a new family: a file test/vectors/<family>.ts exporting `<family>Vectors: VectorCase[]`
//     (see case.ts: build seeded inputs with test/helpers/random.ts, call the public API, compare with a
//     scalar reference, return withinLimits(figures, limits) or expectThrows(fn, /message/)),
//     then one line in `vectors` below, e.g. `...svdVectors,`.
import { ready, runtimeInfo, type RuntimeInfo } from "../../src/index.ts";
import type { VectorCase, VectorResult } from "./case.ts";
import { loaderVectors } from "./loader.ts";
import { matmulVectors } from "./matmul.ts";
import { validationVectors } from "./validation.ts";
import { linalgVectors } from "./linalg.ts";

export type { VectorCase, VectorOutcome, VectorResult } from "./case.ts";
export { withinLimits, expectThrows, expectRejects } from "./case.ts";

export const vectors: VectorCase[] = [
  ...loaderVectors,
  ...matmulVectors,
  ...validationVectors,
  ...linalgVectors,
];

export interface VectorReport {
  /** e.g. "node v20.20.2", "deno 2.9.6", or the browser's user agent. */
  runtime: string;
  /** Where in the runtime the vectors ran ("main", "worker"). */
  context: string;
  info: RuntimeInfo;
  /** globalThis.crossOriginIsolated where defined (browsers), else null. */
  crossOriginIsolated: boolean | null;
  passed: number;
  failed: number;
  results: VectorResult[];
}

export function describeRuntime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; process?: { versions?: { node?: string } }; navigator?: { userAgent?: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.process?.versions?.node) return `node v${g.process.versions.node}`;
  return g.navigator?.userAgent ?? "unknown";
}

/** Run one case, turning a throw into a failed result. */
export async function runVector(c: VectorCase): Promise<VectorResult> {
  const t0 = performance.now();
  try {
    const out = await c.run();
    return { name: c.name, ...out, ms: performance.now() - t0 };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { name: c.name, pass: false, figures: {}, error, ms: performance.now() - t0 };
  }
}

/** Load the kernels, run every vector (in order), and summarise. */
export async function runVectors(context: string, cases: VectorCase[] = vectors): Promise<VectorReport> {
  await ready();
  const results: VectorResult[] = [];
  for (const c of cases) results.push(await runVector(c));
  const coi = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return {
    runtime: describeRuntime(),
    context,
    info: runtimeInfo(),
    crossOriginIsolated: typeof coi === "boolean" ? coi : null,
    passed: results.filter((r) => r.pass).length,
    failed: results.filter((r) => !r.pass).length,
    results,
  };
}
