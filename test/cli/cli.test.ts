// odecomp CLI end to end (in-process main(argv) with captured output; the exit
// code is the one the command line gets): compress → stock tfjs, reconstruct,
// inspect, --help, usage errors, --json, train.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadStock, plantLowRank, predictClose, run, saved, tinyCnn, tinyFunctional, tmp } from "./helpers.ts";

let seqDir: string, funcDir: string;
let seq: ReturnType<typeof tinyCnn>, func: ReturnType<typeof tinyFunctional>;

beforeAll(async () => {
  await tf.setBackend("cpu");
  seq = tinyCnn(); plantLowRank(seq, 3);
  func = tinyFunctional(); plantLowRank(func, 3);
  seqDir = await saved(seq);
  funcDir = await saved(func);
});

describe("odecomp compress", () => {
  it.each([["Sequential", () => seqDir, () => seq, [2, 8, 8, 1]], ["functional (residual add, nested Sequential)", () => funcDir, () => func, [2, 8, 8, 2]]] as const)(
    "%s: writes model.json + weights + plan; stock tfjs loads it and predicts like the original", async (_n, dir, model, shape) => {
      const out = join(tmp(), "c");
      const r = await run("compress", dir(), "--out", out, "--rank-rule", "energy:0.9999");
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("params:");
      expect(readdirSync(out).sort()).toEqual(["model.json", "plan.json", "plan.txt", "weights.bin"]);
      const plan = JSON.parse(readFileSync(join(out, "plan.json"), "utf8"));
      expect(plan.entries.some((e: { action: string }) => e.action === "factorize")).toBe(true);
      const c = await loadStock(out);
      expect(c.layers.some((l) => l.name.includes("__odc_")) || c.layers.some((l) => l.getClassName() === "Sequential")).toBe(true);
      expect(c.countParams()).toBe(plan.totals.paramsAfter);
      expect(c.countParams()).toBeLessThan(model().countParams());
      expect(predictClose(model(), c, [...shape])).toBeLessThan(1e-3);
      c.dispose();
    });

  it("at a budget, --json gives the plan, and the method applies to every conv", async () => {
    const out = join(tmp(), "c");
    const r = await run("compress", seqDir, "--out", out, "--budget", "0.5", "--method", "cp", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.command).toBe("compress");
    expect(j.plan.totals.paramsAfter).toBeLessThanOrEqual(0.5 * j.plan.totals.paramsBefore + 1);
    const convs = j.plan.entries.filter((e: { kind: string; action: string }) => e.kind === "Conv2D" && e.action === "factorize");
    for (const e of convs) expect(e.method).toBe("cp");
    const c = await loadStock(out);
    expect(c.layers.some((l) => l.getClassName() === "DepthwiseConv2D")).toBe(convs.length > 0);
    c.dispose();
  });
});

describe("odecomp reconstruct", () => {
  it("folds the chains back: original layer kinds, same outputs as the compressed model", async () => {
    const base = tmp();
    const r1 = await run("compress", seqDir, "--out", join(base, "c"), "--budget", "0.4", "--method", "tucker2");
    expect(r1.code, r1.err).toBe(0);
    const r2 = await run("reconstruct", join(base, "c", "model.json"), "--out", join(base, "r"));
    expect(r2.code, r2.err).toBe(0);
    expect(r2.out).toMatch(/folded [1-9]\d* chain/);
    const c = await loadStock(join(base, "c")), rec = await loadStock(join(base, "r"));
    expect(rec.layers.map((l) => l.getClassName())).toEqual(seq.layers.map((l) => l.getClassName()));
    expect(rec.layers.some((l) => l.name.includes("__odc_"))).toBe(false);
    expect(predictClose(c, rec, [2, 8, 8, 1])).toBeLessThan(1e-4);
    c.dispose(); rec.dispose();
  });
});

describe("odecomp inspect", () => {
  it("lists every layer with params, FLOPs and each method's result", async () => {
    const r = await run("inspect", funcDir);
    expect(r.code, r.err).toBe(0);
    for (const s of ["c1", "c2", "h1", "h2", "tucker2", "cp", "spatial-svd", "channel-svd", "FLOPs/sample"]) expect(r.out).toContain(s);
    const j = JSON.parse((await run("inspect", funcDir, "--json", "--budget", "0.3")).out);
    expect(j.layers.map((l: { layer: string }) => l.layer)).toEqual(["c1", "c2", "h1", "h2"]);
    expect(j.layers[1].params).toBe(3 * 3 * 8 * 8 + 8);
    expect(j.totals.tucker2.paramsAfter).toBeLessThan(j.totals.tucker2.paramsBefore);
  });
});

describe("--help and usage errors", () => {
  it("--help for the program and each command exits 0", async () => {
    for (const cmd of [[], ["compress"], ["reconstruct"], ["inspect"], ["train"], ["main"], ["bench"]]) {
      const r = await run(...cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: odecomp${cmd.length ? " " + cmd[0] : ""}`);
    }
  });

  it.each([
    [["compress", "x/model.json"], /required option '--out/],
    [["compress", "m.json", "--out", "o", "--method", "foo"], /--method is 'foo'/],
    [["compress", "m.json", "--out", "o", "--budget", "1.5"], /--budget is '1.5'/],
    [["compress", "m.json", "--out", "o", "--budget", "0.5", "--rank-rule", "evbmf"], /both given/],
    [["compress", "m.json", "--out", "o", "--rank-rule", "energy"], /needs a threshold/],
    [["compress", "m.json", "--out", "o", "--ranks", "fc=a"], /malformed/],
    [["compress", "m.json", "--out", "o", "--budget", "0.5", "--rank-multiple", "0"], /--rank-multiple is '0'; expected an integer in \[1, 1024\]/],
    [["compress", "m.json", "--out", "o", "--rank-rule", "evbmf", "--rank-multiple", "8"], /--rank-multiple rounds the ranks a budget picks/],
    [["compress", "m.json", "--out", "o", "--frobnicate"], /unknown option/],
    [["frobnicate"], /unknown command/],
    [["train", "--dataset", "cifar"], /--dataset is 'cifar'/],
    [["train", "--schedule", "magic"], /--schedule is 'magic'/],
    [["train", "--epochs", "0"], /--epochs is '0'/],
    [["train", "--warmup", "-3"], /--warmup is '-3'; expected an integer in \[0, 1000000\]/],
    [["train", "--schedule", "decompose-at", "--tucker", "svd"], /--tucker is 'svd'; expected hosvd or hooi/],
    [["inspect", "m.json", "--threads", "0"], /--threads is '0'; expected an integer 1–64 or auto/],
    [["compress", "m.json", "--out", "o", "--threads", "two"], /--threads is 'two'/],
  ] as const)("%j → exit 2", async (argv, msg) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });
});

describe("odecomp bench", () => {
  it("runs bench/run.ts in a child process and passes its exit code on (unknown area → 2)", async () => {
    const r = await run("bench", "no-such-area");
    expect(r.code).toBe(2);
  }, 60000);
});

describe("odecomp train", () => {
  it("runs decompose-at on a tiny MNIST subset and reports phases as JSON; --out saves the model", async () => {
    const out = join(tmp(), "t");
    const r = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "decompose-at", "--epochs", "2", "--at", "1", "--budget", "0.3",
      "--train-per-class", "4", "--test-per-class", "2", "--backend", "cpu", "--json", "--out", out);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.phases.map((p: { kind: string }) => p.kind)).toEqual(["train", "decompose", "train"]);
    expect(j.epochs).toHaveLength(2);
    expect(j.final.params).toBeLessThan(j.phases[0].paramsAfter);
    expect(j.plan.entries.length).toBeGreaterThan(0);
    const m = await loadStock(out);
    expect(m.countParams()).toBe(j.final.params);
    m.dispose();
    expect(existsSync(join(out, "plan.txt"))).toBe(true);
    // training rounds a budget's ranks to multiples of 8 by default (fc1 784→64: largest rank 64)
    expect(j.plan.rankMultiple).toBe(8);
    for (const e of j.plan.entries.filter((x: { action: string }) => x.action === "factorize")) {
      e.ranks.forEach((r: number, i: number) => expect(e.maxRanks[i] <= 8 || r % 8 === 0 || r === e.maxRanks[i], `${e.layer} ${r}`).toBe(true));
    }
    const one = await run("train", "--dataset", "mnist", "--model", "mlp", "--schedule", "decompose-at", "--epochs", "2", "--at", "1", "--budget", "0.3", "--rank-multiple", "1",
      "--train-per-class", "4", "--test-per-class", "2", "--backend", "cpu", "--json");
    expect(one.code, one.err).toBe(0);
    expect(JSON.parse(one.out).plan.rankMultiple).toBe(1);
  });
});
