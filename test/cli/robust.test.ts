// Robustness of the CLI: bad inputs get a clear message and exit 1 (or 2 for a
// bad --out), no output folder or temporary folder is left behind, inputs are
// never modified, and Ctrl-C while writing removes the partial output.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tfl from "@tensorflow/tfjs-layers";
import { editJSON, loadStock, predictClose, run, saved, tinyCnn, tmp, variant as copyOf } from "./helpers.ts";

let good: string;
let model: ReturnType<typeof tinyCnn>;
const root = fileURLToPath(new URL("../../", import.meta.url));

beforeAll(async () => {
  await tf.setBackend("cpu");
  model = tinyCnn();
  good = await saved(model);
});

const variant = (edit: (dir: string) => void): string => copyOf(good, edit);


/** Compress `input` into a fresh out folder; asserts nothing was written there or next to it. */
async function failing(input: string, code: number, msg: RegExp, extra: string[] = []) {
  const parent = tmp();
  const out = join(parent, "out");
  const r = await run("compress", input, "--out", out, ...extra);
  expect(r.code, r.out).toBe(code);
  expect(r.err).toMatch(msg);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(parent)).toEqual([]);
}

describe("bad inputs", () => {
  it("missing model.json", async () => {
    await failing(join(tmp(), "nope", "model.json"), 1, /does not exist; expected a model\.json/);
    await failing(tmp(), 1, /cannot read .*model\.json \(ENOENT\)/);
  });
  it("malformed model.json", async () => {
    await failing(variant((d) => writeFileSync(join(d, "model.json"), "{ not json")), 1, /is not valid JSON/);
    await failing(variant((d) => writeFileSync(join(d, "model.json"), JSON.stringify({ hello: 1 }))), 1, /has no modelTopology/);
    await failing(variant((d) => editJSON(d, (j) => { delete j.weightsManifest; })), 1, /no weightsManifest/);
  });
  it("truncated weight shard", async () => {
    await failing(variant((d) => truncateSync(join(d, "weights.bin"), 1000)), 1, /hold 1000 bytes but its manifest needs \d+: a shard is truncated/);
  });
  it("missing weight shard", async () => {
    await failing(variant((d) => unlinkSync(join(d, "weights.bin"))), 1, /weight shard 'weights\.bin' listed in .* is missing/);
  });
  it("unsupported layer", async () => {
    await failing(variant((d) => editJSON(d, (j) => { j.modelTopology.config.layers[1].class_name = "FancyLayer"; })), 1, /FancyLayer/);
  });
});

describe("shards with or without .bin", () => {
  it.each([["manifest without .bin, file with .bin", "weights", "weights.bin"], ["manifest with .bin, file without", "weights.bin", "weights"], ["both without", "group1-shard1of1", "group1-shard1of1"]])("%s", async (_n, listed, file) => {
    const dir = variant((d) => {
      renameSync(join(d, "weights.bin"), join(d, file));
      editJSON(d, (j) => { j.weightsManifest[0].paths = [listed]; });
    });
    const out = join(tmp(), "c");
    const r = await run("compress", dir, "--out", out, "--rank-rule", "full");
    expect(r.code, r.err).toBe(0);
    const c = await loadStock(out);
    expect(predictClose(model, c, [2, 8, 8, 1])).toBeLessThan(1e-4);
    c.dispose();
  });
});

describe("--out", () => {
  const hashes = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, createHash("sha256").update(readFileSync(join(dir, f))).digest("hex")]));
  it("equal to the input folder → usage error, input untouched", async () => {
    const dir = variant(() => {});
    const before = hashes(dir);
    for (const out of [dir, dirname(dir)]) {
      const r = await run("compress", join(dir, "model.json"), "--out", out, "--budget", "0.5");
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is the input's folder/);
    }
    const r2 = await run("reconstruct", dir, "--out", dir);
    expect(r2.code).toBe(2);
    expect(hashes(dir)).toEqual(before);
  });
  it("existing non-empty folder → usage error unless --force", async () => {
    const out = tmp();
    writeFileSync(join(out, "keep.txt"), "mine");
    const r = await run("compress", good, "--out", out, "--budget", "0.5");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exists and is not empty/);
    expect(readdirSync(out)).toEqual(["keep.txt"]);
    const r2 = await run("compress", good, "--out", out, "--budget", "0.5", "--force");
    expect(r2.code, r2.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["model.json", "plan.json", "plan.txt", "weights.bin"]);
  });
});

describe("Ctrl-C", () => {
  it("SIGINT while writing removes the temporary output and exits 130", async () => {
    const parent = tmp();
    mkdirSync(join(parent, "in"));
    await saved(model, join(parent, "in"));
    const out = join(parent, "out");
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "compress", join(parent, "in"), "--out", out, "--budget", "0.5"], {
      cwd: root, env: { ...process.env, ODECOMP_WRITE_DELAY_MS: "1500" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (b) => { err += b; });
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    // Wait for the temporary folder to appear, then interrupt.
    const t0 = Date.now();
    while (!readdirSync(parent).some((f) => f.includes(".tmp-")) && Date.now() - t0 < 40000) await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(parent).some((f) => f.includes(".tmp-"))).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(err).toMatch(/interrupted by SIGINT; removed the partial output/);
    expect(readdirSync(parent)).toEqual(["in"]);
  }, 60000);
});
