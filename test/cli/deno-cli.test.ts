// Defect 15: the README's Deno commands, run exactly as documented
// (`deno run -A src/cli/main.ts …`, default threads), offline from node_modules/deno.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saved, tinyCnn, tmp } from "./helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules/.bin/deno");

/** One README command line: `deno run -A src/cli/main.ts …` (the words after `deno`). */
function denoCmd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(deno, args, {
      cwd: root, timeout: 120_000, maxBuffer: 16 << 20,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" },
    }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

let model: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  model = await saved(tinyCnn());
});

describe("README Deno commands (deno run -A src/cli/main.ts …)", () => {
  it("the README documents the form tested here", () => {
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain("deno run -A src/cli/main.ts");
  });

  it("compress with the default threads writes the model; reconstruct and inspect work", async () => {
    const small = join(tmp(), "small"), folded = join(tmp(), "folded");
    const c = await denoCmd(["run", "-A", "src/cli/main.ts", "compress", join(model, "model.json"), "--out", small, "--budget", "0.25"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/wrote .*small\/model\.json/);
    expect(readdirSync(small).sort()).toEqual(["model.json", "plan.json", "plan.txt", "weights.bin"]);
    const r = await denoCmd(["run", "-A", "src/cli/main.ts", "reconstruct", join(small, "model.json"), "--out", folded]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(folded, "model.json"))).toBe(true);
    const i = await denoCmd(["run", "-A", "src/cli/main.ts", "inspect", join(model, "model.json"), "--json"]);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout).command).toBe("inspect");
    // quantized out and back in under Deno: float16 written, then read (dequantized) by the next compress
    const half = join(tmp(), "half"), again = join(tmp(), "again");
    expect((await denoCmd(["run", "-A", "src/cli/main.ts", "compress", join(model, "model.json"), "--out", half, "--rank-rule", "full", "--quantize", "float16"])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(half, "model.json"), "utf8")).weightsManifest[0].weights[0].quantization.dtype).toBe("float16");
    const q = await denoCmd(["run", "-A", "src/cli/main.ts", "compress", join(half, "model.json"), "--out", again, "--budget", "0.5", "--json"]);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).quantization.dtype).toBe("float16");
    const bad = await denoCmd(["run", "-A", "src/cli/main.ts", "compress", join(model, "model.json"), "--out", join(tmp(), "x"), "--budget", "9"]);
    expect(bad.code).toBe(2);
  }, 240_000);
});
