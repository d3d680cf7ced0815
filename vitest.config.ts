import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The default output, then one plain `N passed, N failed[, N skipped]` line for CI.
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
