// The relaxed-SIMD build (what Deno and Chromium load) runs the same GEMM with fused
// multiply-add; Node 20 accepts it only with a flag, so it is checked in a child process.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../helpers/relaxed-gemm-check.ts", import.meta.url));

describe("matmul with the relaxed-SIMD build", () => {
  it("agrees with the scalar reference for all transposes and block edges", () => {
    const res = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--import", "tsx", script], { encoding: "utf8", timeout: 60_000 });
    const line = res.stdout.trim().split("\n").pop() ?? "";
    expect(res.stderr.includes("rejects relaxed SIMD") ? "runtime rejects relaxed" : line).toMatch(/"build":"relaxed"/);
    const { worst } = JSON.parse(line) as { worst: number };
    expect(worst).toBeLessThan(1e-5);
    expect(res.status).toBe(0);
  });
});
