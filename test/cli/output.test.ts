// inspect and compress output for people (issue 15 item 4): one --json schema for both, inspect's
// per-layer view (time share when measured, FLOPs, params, best method at a few budgets), other layer
// kinds in one line per kind, notes in words, no tfjs-node banner, and the lazy progress bar.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PassThrough } from "node:stream";
import * as tfl from "@tensorflow/tfjs-layers";
import { run, saved, tmp } from "./helpers.ts";
import { schemaProblems, type CompressJSON, type InspectJSON } from "../../src/cli/schema.ts";
import { lazyProgress } from "../../src/cli/progress.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** conv → BN → ReLU → depthwise → BN → conv 1×1 → GAP → dense: several kinds odecomp does not factorize. */
function mixed(): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  return tfl.sequential({ name: "mixed", layers: [
    tfl.layers.conv2d({ name: "c1", inputShape: [12, 12, 3], filters: 16, kernelSize: 3, padding: "same", kernelInitializer: init(1) }),
    tfl.layers.batchNormalization({ name: "bn1" }),
    tfl.layers.reLU({ name: "r1" }),
    tfl.layers.depthwiseConv2d({ name: "dw", kernelSize: 3, padding: "same", depthwiseInitializer: init(2) }),
    tfl.layers.batchNormalization({ name: "bn2" }),
    tfl.layers.conv2d({ name: "pw", filters: 24, kernelSize: 1, kernelInitializer: init(3) }),
    tfl.layers.globalAveragePooling2d({ name: "gap" }),
    tfl.layers.dense({ name: "fc", units: 10, kernelInitializer: init(4) }),
  ] });
}

describe("--json: one schema for inspect and compress", () => {
  it("both outputs validate against the same schema and carry the same plan keys", async () => {
    const dir = await saved(mixed());
    const i = await run("inspect", dir, "--json", "--no-fold-bn");
    const c = await run("compress", dir, "--out", join(tmp(), "o"), "--json", "--no-fold-bn");
    expect(i.code, i.err).toBe(0);
    expect(c.code, c.err).toBe(0);
    const ij = JSON.parse(i.out) as InspectJSON, cj = JSON.parse(c.out) as CompressJSON;
    expect(schemaProblems(ij)).toEqual([]);
    expect(schemaProblems(cj)).toEqual([]);
    expect(Object.keys(ij.plan).sort()).toEqual(Object.keys(cj.plan).sort());
    expect(ij.plan.entries.map((e) => e.layer)).toEqual(cj.plan.entries.map((e) => e.layer));
    // the plan inspect shows is the plan compress followed (same rule, same choices)
    expect(ij.plan.entries.map((e) => [e.action, e.ranks])).toEqual(cj.plan.entries.map((e) => [e.action, e.ranks]));
    // model order, with the BN and depthwise layers in place
    expect(ij.plan.entries.map((e) => e.layer)).toEqual(["c1", "bn1", "dw", "bn2", "pw", "fc"]);
    // the checker is not vacuous
    expect(schemaProblems({ ...cj, plan: { ...cj.plan, entries: [{ layer: "x" }] } })).not.toEqual([]);
    expect(schemaProblems({ ...ij, budgets: undefined })).toContain("budgets is an array");
  }, 120_000);
});

describe("inspect for people", () => {
  it("per layer in model order: FLOPs, params, the method at three budgets; time said to be unmeasured; kinds in one line", async () => {
    const dir = await saved(mixed());
    const r = await run("inspect", dir, "--no-fold-bn");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/time: not measured \(pass --timing/);
    expect(r.out).toMatch(/keep 0\.75 flops .*keep 0\.5 flops .*keep 0\.25 flops/);
    expect(r.out).toContain("- BatchNormalization × 2");
    expect(r.out).toContain("- DepthwiseConv2D × 1");
    expect(r.out).not.toMatch(/\| bn1 /);
    const order = ["c1", "pw", "fc"].map((n) => r.out.indexOf(`| ${n} `));
    expect(order.every((x, k) => x > 0 && (k === 0 || x > order[k - 1]))).toBe(true);
    const j = JSON.parse((await run("inspect", dir, "--json", "--no-fold-bn")).out) as InspectJSON;
    expect(j.budgets.map((b) => [b.keep, b.metric])).toEqual([[0.75, "flops"], [0.5, "flops"], [0.25, "flops"]]);
    // the budget is over the factorizable layers' FLOPs; the totals count every layer, so they fall with keep
    const after = j.budgets.map((b) => b.totals?.flopsAfter ?? 0);
    expect(after[0]).toBeLessThan(j.plan.totals.flopsBefore);
    expect(after[1]).toBeLessThan(after[0]);
    expect(j.budgets[1].layers.some((l) => l.method !== null)).toBe(true);
    expect(j.layers.every((l) => l.time === null && l.timeShare === null)).toBe(true);
  }, 120_000);

  it("--timing: each layer's share of the measured time, and budgets by time", async () => {
    const dir = await saved(mixed());
    const j = JSON.parse((await run("inspect", dir, "--json", "--timing")).out) as InspectJSON;
    expect(j.budgets.every((b) => b.metric === "time")).toBe(true);
    const timed = j.layers.filter((l) => l.timeShare !== null);
    expect(timed.length).toBeGreaterThan(0);
    const sum = timed.reduce((a, l) => a + l.timeShare!, 0);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThanOrEqual(1.0001);
  }, 120_000);
});

describe("the CLI process", () => {
  it("does not print tfjs' 'install tfjs-node' banner", async () => {
    const dir = await saved(mixed());
    const r = await new Promise<{ code: number | null; err: string }>((res) => {
      const child = spawn(process.execPath, ["bin/odecomp.mjs", "inspect", dir], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => res({ code, err }));
    });
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/tfjs-node|looks like you are running TensorFlow\.js/);
  }, 120_000);
});

describe("lazyProgress", () => {
  const tty = () => { const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo(): boolean; clearLine(): boolean; moveCursor(): boolean }; s.isTTY = true; s.columns = 80; s.cursorTo = s.clearLine = s.moveCursor = () => true; let text = ""; s.on("data", (d) => (text += d)); return { s, text: () => text }; };
  it("shows nothing for work under the delay, a bar once the work runs longer, and nothing off a TTY", () => {
    let now = 0;
    const a = tty();
    const p = lazyProgress("plan", { stream: a.s as unknown as NodeJS.WriteStream, now: () => now, afterMs: 1000 });
    p.update(1, 10, "quick");
    expect(a.text()).toBe("");
    now = 1500;
    p.update(2, 10, "slow layer");
    p.text("timing 'c1' (3 measured)");
    p.stop();
    expect(a.text()).toContain("plan");
    expect(a.text()).toContain("timing 'c1'");
    const pipe = new PassThrough() as PassThrough & { isTTY?: boolean };
    let piped = "";
    pipe.on("data", (d) => (piped += d));
    const q = lazyProgress("plan", { stream: pipe as unknown as NodeJS.WriteStream, now: () => now, afterMs: 0 });
    q.update(5, 10, "x");
    q.stop();
    expect(piped).toBe("");
  });
});
