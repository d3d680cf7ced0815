// Vitest reporter that ends the run with one plain line the CI reads:
//   `N passed, N failed, N skipped`
// Collection errors (a test file that fails to import), hook errors
// (beforeAll/afterAll) and unhandled errors count as failures, so the line
// never says "0 failed" for a run that vitest itself reports as failed.
// Skipped suites are named above the line (e.g. Chromium missing).
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0, failed = 0, skipped = 0;
    const skippedSuites: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.errors().length) failed++;
      for (const suite of mod.children.allSuites()) {
        if (suite.errors().length) failed++;
        if (suite.state() === "skipped" && suite.parent.type === "module") skippedSuites.push(`${mod.relativeModuleId} > ${suite.name}`);
      }
    }
    failed += unhandledErrors.length;
    const lines = skippedSuites.map((s) => `skipped suite: ${s}`);
    lines.push(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
    process.stdout.write("\n" + lines.join("\n") + "\n");
  }
}
