// odecomp train --schedule auto end to end: JSON record of the switch and the per-layer decisions,
// report.html with the auto section; --rank-rule stable[:scale] usage errors.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run, tmp } from "./helpers.ts";
import { buildSchedule } from "../../src/cli/train.ts";
import { mlp } from "../../src/train/models.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

describe("odecomp train --schedule auto", () => {
  it("switches at --at, records per-layer decisions in --json, writes report.html", async () => {
    const out = join(tmp(), "auto");
    const r = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "auto", "--epochs", "3", "--at", "1", "--rank-rule", "stable:0.5", "--cost", "flops",
      "--train-per-class", "4", "--test-per-class", "2", "--backend", "cpu", "--json", "--out", out);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.auto.switchEpoch).toBe(1);
    expect(j.auto.reason).toBe("switchAt = 1");
    expect(j.auto.plan.decisions.map((d: { layer: string }) => d.layer)).toEqual(["fc1", "fc2"]);
    expect(j.auto.plan.timer).toBe("flops");
    expect(j.epochs.map((e: { label: string }) => e.label)).toEqual(["full-rank", "low-rank", "low-rank"]);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("Automatic schedule");
    expect(html).toContain("Training time per epoch");
    expect(html).toContain("Stable rank per layer");
    expect(html).toContain("<svg");
  }, 120000);
  it("takes a fractional --at: switches mid-epoch; --at out of range is a usage error", async () => {
    const r = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "auto", "--epochs", "2", "--at", "0.5", "--cost", "flops",
      "--train-per-class", "20", "--test-per-class", "2", "--batch-size", "50", "--backend", "cpu", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.auto.switchStep).toBe(2); // 200 images, 4 steps per epoch: after 2
    expect(j.auto.switchEpoch).toBe(0.5);
    expect(j.epochs.map((e: { label: string }) => e.label)).toEqual(["switch", "low-rank"]);
    const bad = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "auto", "--epochs", "2", "--at", "1.5", "--backend", "cpu");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--at is '1.5'; expected a number in \[0, 1\]/);
  }, 120000);
  it("--method <a Conv2D method> and --tucker reach the auto schedule's plan; --method auto leaves auto's own default", () => {
    const model = mlp({ hidden: 8, seed: 1 });
    const plan = (f: Record<string, string>) => {
      const p = buildSchedule({ schedule: "auto", epochs: "3", ...f } as never, model).phases[0];
      return p.kind === "auto" ? p.plan : undefined;
    };
    expect(plan({ method: "tucker2", tucker: "hooi", budget: "0.4", metric: "flops" })).toMatchObject({ convMethod: "tucker2", decomposition: { tucker: { method: "hooi" } }, select: { kind: "budget", keep: 0.4, metric: "flops" } });
    expect(plan({ method: "channel-svd" })?.convMethod).toBe("channel-svd");
    const dflt = plan({ method: "auto" });
    expect(dflt?.convMethod).toBeUndefined();
    expect(dflt?.decomposition).toBeUndefined();
    model.dispose();
  });
  it("usage errors: bad stable scale, too few epochs", async () => {
    const a = await run("train", "--schedule", "auto", "--rank-rule", "stable:x");
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--rank-rule stable:<scale> is 'x'/);
    const c = await run("train", "--schedule", "auto", "--epochs", "2", "--cost", "time");
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--cost is 'time'; expected one of measured, flops/);
    const b = await run("train", "--schedule", "auto", "--epochs", "1");
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/needs --epochs ≥ 2/);
  });
});

describe("odecomp main --schedule auto", () => {
  it("runs baseline vs auto on a tiny subset; the report has the auto section; results.json the auto record", async () => {
    const out = join(tmp(), "main-auto");
    const r = await run("main", "--out", out, "--schedule", "auto", "--model", "mlp", "--epochs", "3", "--train-per-class", "3", "--test-per-class", "2", "--backend", "cpu", "--quiet");
    expect(r.code, r.err).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    const a = results.accelerated.auto;
    expect(results.accelerated.phases.map((p: { kind: string }) => p.kind)).toEqual(["auto"]);
    // the default switch, after half of the first epoch, falls at its end here: 30 images are one step
    expect(a.switchEpoch).toBe(1);
    expect(a.switchStep).toBe(1);
    // the main job's auto: the 33 % FLOP budget's ranks, kept within that budget in FLOPs
    expect(a.plan.budget).toMatchObject({ keep: 0.33, timer: "flops" });
    if (a.plan.budget.met) expect(a.plan.budget.after).toBeLessThanOrEqual(0.33 * a.plan.budget.before * (1 + 1e-9));
    expect(a.plan.timer).toMatch(/^tfjs-cpu.*a \+ b·FLOPs fitted/); // the measured cost model by default
    const fact = a.plan.decisions.filter((d: { action: string }) => d.action === "factorize");
    for (const d of fact) expect(d.factorizedCost).toBeLessThan(d.denseCost);
    for (const d of fact) expect(d.ranks[0]).toBeLessThan(d.maxRanks[0]);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("Automatic schedule");
    expect(html).toContain("decomposed after epoch 1");
    for (const d of a.plan.decisions) expect(html).toContain(`<td>${d.layer}</td>`);
  }, 180000);
});
