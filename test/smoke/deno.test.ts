// Runs the shared kernel test vectors under Deno (the npm `deno` package's
// binary), offline: no remote imports, no npm resolution, no config lookup,
// no update check, no permissions. Asserts each case passed and the build picked.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { vectors, type VectorReport } from "../vectors/index.ts";
import type { ThreadsReport } from "./threads-check.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const deno = join(root, "node_modules/.bin/deno");

function runDeno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(deno, args, {
      cwd: root,
      timeout: 90_000,
      maxBuffer: 16 << 20,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("Deno smoke suite (shared kernel test vectors)", () => {
  it("finds the deno binary from the npm package", () => {
    expect(existsSync(deno), `missing ${deno}: run npm install`).toBe(true);
  });

  it("runs every vector under Deno with the relaxed-SIMD build", async () => {
    const { code, stdout, stderr } = await runDeno([
      "run", "--no-remote", "--no-npm", "--no-config", "--no-lock", "--no-prompt", "test/smoke/deno-smoke.ts",
    ]);
    expect(code, `deno exited ${code}\n${stderr}`).toBe(0);
    const line = stdout.split("\n").find((l) => l.startsWith("ODECOMP_VECTORS "));
    expect(line, `no report line in Deno output:\n${stdout}\n${stderr}`).toBeDefined();
    const report = JSON.parse(line!.slice("ODECOMP_VECTORS ".length)) as VectorReport;
    expect(report.runtime).toMatch(/^deno 2\./);
    const failed = report.results.filter((r) => !r.pass);
    expect(failed.map((r) => `${r.name}: ${r.error ?? r.note ?? ""} ${JSON.stringify(r.figures)}`)).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual(vectors.map((v) => v.name));
    // Deno 2 validates relaxed SIMD, so the loader must pick that build there.
    expect(report.info.features.relaxedSimd).toBe(true);
    expect(report.info.build).toBe("relaxed");
    // then the threaded kernels: 2 threads (worker_threads, which Deno can unref) equal 1 thread bitwise
    const tline = stdout.split("\n").find((l) => l.startsWith("ODECOMP_THREADS "));
    expect(tline, `no threads line in Deno output:\n${stdout}\n${stderr}`).toBeDefined();
    const threads = JSON.parse(tline!.slice("ODECOMP_THREADS ".length)) as ThreadsReport;
    expect(report.info.sharedMemory).toBe(true);
    expect(threads.info).toMatchObject({ threads: 2, reason: null, api: "worker_threads", blockingWait: true });
    expect(threads.cases.filter((c) => c.differing !== 0).map((c) => `${c.name}: ${c.differing} differ`)).toEqual([]);
    expect(threads.cases.find((c) => c.name === "svd 300×200")!.jobs).toBeGreaterThan(0);
  });

  it("runs odecomp/worker under Deno (module Web Worker on the TypeScript entry): a decomposition, an error, compressArtifacts with progress", async () => {
    const { code, stdout, stderr } = await runDeno(["run", "--no-remote", "--no-lock", "--no-prompt", "--allow-read", "test/smoke/deno-worker.ts"]);
    expect(code, `deno exited ${code}\n${stderr}`).toBe(0);
    const line = stdout.split("\n").find((l) => l.startsWith("ODECOMP_WORKER "));
    expect(line, `no report line in Deno output:\n${stdout}\n${stderr}`).toBeDefined();
    const r = JSON.parse(line!.slice("ODECOMP_WORKER ".length));
    expect(r.kind).toBe("web");
    expect(r.build).toBe("relaxed");
    expect(r.ranks).toEqual([2, 2, 2]);
    expect(r.cls).toBe("TuckerTensor");
    expect(r.err).toMatch(/^svd: a has a non-finite value \(NaN\) at flat index 0/);
    expect(new Set(r.fractions).size).toBeGreaterThanOrEqual(6);
    expect(r.fractions.at(-1)).toBe(1);
    expect(r.kept).toBeLessThan(0.35);
  });
});
