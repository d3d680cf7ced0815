// The shape of a shared kernel test vector. A vector builds seeded inputs,
// calls the public API, checks the answer against a scalar reference computed
// in the same runtime, and returns pass/fail with its error figures.
// Vectors import only src/index.ts and test/helpers — no vitest, no node: —
// so the same list runs under Node (vitest), Deno and Chromium (page + worker).

export interface VectorOutcome {
  pass: boolean;
  /** Error figures and sizes worth reporting (relative errors, worst size...). */
  figures: Record<string, number>;
  /** Human-readable detail, shown when the case fails. */
  note?: string;
}

export interface VectorCase {
  /** Unique, stable name, e.g. "matmul NT" or "svd 65×17 residual". */
  name: string;
  run(): VectorOutcome | Promise<VectorOutcome>;
}

export interface VectorResult extends VectorOutcome {
  name: string;
  ms: number;
  /** Set when run() threw instead of returning an outcome. */
  error?: string;
}

/** pass = every figure named in `limits` is finite and ≤ its limit. */
export function withinLimits(figures: Record<string, number>, limits: Record<string, number>): VectorOutcome {
  const over = Object.entries(limits).filter(([k, lim]) => !(Number.isFinite(figures[k]) && figures[k] <= lim));
  return {
    pass: over.length === 0,
    figures,
    note: over.length ? over.map(([k, lim]) => `${k} = ${figures[k]} exceeds ${lim}`).join("; ") : undefined,
  };
}

/** pass = fn throws an Error whose message matches `pattern`. */
export function expectThrows(fn: () => unknown, pattern: RegExp): VectorOutcome {
  try {
    fn();
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { pass: pattern.test(msg), figures: {}, note: pattern.test(msg) ? undefined : `threw "${msg}", expected ${pattern}` };
  }
  return { pass: false, figures: {}, note: `did not throw; expected an error matching ${pattern}` };
}

/** pass = the promise rejects with an Error whose message matches `pattern`. */
export async function expectRejects(p: () => Promise<unknown>, pattern: RegExp): Promise<VectorOutcome> {
  try {
    await p();
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { pass: pattern.test(msg), figures: {}, note: pattern.test(msg) ? undefined : `rejected with "${msg}", expected ${pattern}` };
  }
  return { pass: false, figures: {}, note: `did not reject; expected an error matching ${pattern}` };
}
