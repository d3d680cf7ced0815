// The CLI's time budget end to end (measured on the wasm backend), BN folding by default, the shared
// default rule of inspect and compress, and --metric's usage errors.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tfl from "@tensorflow/tfjs-layers";
import { run, saved, tmp } from "./helpers.ts";

/** conv 3×3 4→32 → BN → ReLU → conv 3×3 32→32 → BN → GAP → dense 10, on 16×16×4. */
function bnCnn(): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  return tfl.sequential({ name: "bn_cnn", layers: [
    tfl.layers.conv2d({ name: "c1", inputShape: [16, 16, 4], filters: 32, kernelSize: 3, padding: "same", useBias: false, kernelInitializer: init(1) }),
    tfl.layers.batchNormalization({ name: "bn1" }),
    tfl.layers.reLU({ name: "r1" }),
    tfl.layers.conv2d({ name: "c2", filters: 32, kernelSize: 3, padding: "same", kernelInitializer: init(2) }),
    tfl.layers.batchNormalization({ name: "bn2" }),
    tfl.layers.globalAveragePooling2d({ name: "gap" }),
    tfl.layers.dense({ name: "fc", units: 10, kernelInitializer: init(3) }),
  ] });
}

describe("odecomp compress --metric time", () => {
  it("plans by measured time on wasm, never keeps a slower chain, folds BN, and writes a loadable model", async () => {
    const dir = await saved(bnCnn());
    const out = join(tmp(), "o");
    const r = await run("compress", dir, "--out", out, "--metric", "time", "--budget", "0.6", "--batch", "2", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out).plan;
    expect(plan.select).toEqual({ kind: "budget", keep: 0.6, metric: "time", batch: 2 });
    expect(plan.timing.timer).toMatch(/^tfjs-wasm@/);
    expect(plan.timing.batch).toBe(2);
    expect(plan.foldedBatchNorm).toEqual([{ batchNorm: "bn1", into: "c1" }, { batchNorm: "bn2", into: "c2" }]);
    for (const e of plan.entries.filter((x: { action: string }) => x.action === "factorize")) {
      // multiples of 4, or the full rank; a mode of at most 4 (c1's 4 input channels) keeps any rank (roundRank)
      expect(e.ranks.every((x: number, i: number) => x % 4 === 0 || x === e.maxRanks[i] || e.maxRanks[i] <= 4), JSON.stringify(e)).toBe(true);
      expect(e.timeAfter).toBeLessThan(e.timeBefore);
    }
    expect(plan.totals.timeBefore).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(JSON.stringify(json.modelTopology)).not.toContain("BatchNormalization");
    const text = readFileSync(join(out, "plan.txt"), "utf8");
    expect(text).toMatch(/measured time \(tfjs-wasm@[^,]+, batch 2, inference\)/);
    expect(text).toMatch(/BatchNormalization folded: bn1 → c1, bn2 → c2/);
  }, 120_000);

  it("--timing-cache: the second run reuses the measurements saved by the first", async () => {
    const dir = await saved(bnCnn());
    const cache = join(tmp(), "timing.json");
    const r1 = await run("compress", dir, "--out", join(tmp(), "o"), "--budget", "0.5", "--timing", "--timing-cache", cache, "--json");
    expect(r1.code).toBe(0);
    const saved1 = JSON.parse(readFileSync(cache, "utf8"));
    const n = Object.keys(saved1.entries).length;
    expect(n).toBeGreaterThan(0);
    const p1 = JSON.parse(r1.out).plan;
    const r2 = await run("compress", dir, "--out", join(tmp(), "o"), "--budget", "0.5", "--timing", "--timing-cache", cache, "--json");
    const p2 = JSON.parse(r2.out).plan;
    expect(Object.keys(JSON.parse(readFileSync(cache, "utf8")).entries).length).toBe(n); // nothing new to time
    // per-layer times come from the cache, so both plans report the same ones
    expect(p2.entries.map((e: { timeBefore: number }) => e.timeBefore)).toEqual(p1.entries.map((e: { timeBefore: number }) => e.timeBefore));
    const bad = await run("compress", dir, "--out", join(tmp(), "o"), "--budget", "0.5", "--timing-cache", cache);
    expect(bad.code).toBe(2);
  }, 120_000);

  it("--no-fold-bn keeps the BNs", async () => {
    const dir = await saved(bnCnn());
    const out = join(tmp(), "o");
    const r = await run("compress", dir, "--out", out, "--budget", "0.5", "--no-fold-bn", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).plan.foldedBatchNorm).toBeUndefined();
    expect(readFileSync(join(out, "model.json"), "utf8")).toContain("BatchNormalization");
  });

  it("usage errors: --metric without --budget, an unknown metric, --batch without timing", async () => {
    const dir = await saved(bnCnn());
    for (const args of [["--metric", "time"], ["--metric", "flops"], ["--budget", "0.5", "--metric", "speed"], ["--budget", "0.5", "--batch", "4"]]) {
      const r = await run("compress", dir, "--out", join(tmp(), "o"), ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/usage error: --(metric|batch)/);
    }
  });

  it("inspect and compress print the same default rule", async () => {
    const dir = await saved(bnCnn());
    const a = await run("inspect", dir);
    const b = await run("compress", dir, "--out", join(tmp(), "o"));
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const rule = (s: string) => /rank rule: [^;\n]*/.exec(s)?.[0];
    expect(rule(a.out)).toBe('rank rule: {"kind":"evbmf"} (default)');
    expect(rule(b.out)).toBe(rule(a.out));
  });
});
