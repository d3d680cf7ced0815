// The tfjs timer (no speed asserted here: it returns positive times, builds the right layers and leaks
// no tensors), whole-model timing, and the JSON disk cache.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CachedTimer, requestLayers, type TimingRequest } from "../../src/compress/timecost.ts";
import { loadTimingCache, noise, saveTimingCache, tfjsTimer, timeModel } from "../../src/models/timing.ts";
import type { FactorizableLayer } from "../../src/layers/types.ts";
import { convModel, rnd, setup, tf } from "./helpers.ts";

beforeAll(setup);

const layer: FactorizableLayer = {
  className: "Conv2D", name: "c", kernel: rnd([3, 3, 8, 12], 1), bias: rnd([12], 2),
  config: { name: "c", filters: 12, kernel_size: [3, 3], strides: [2, 2], padding: "same", activation: "relu" },
};

describe("noise (the timer's inputs)", () => {
  it("is deterministic per seed, fills [−scale, scale) with neither zeros nor denormals to speak of, and is centred", () => {
    for (const n of [1, 3, 17, 129, 100_000]) {
      const a = noise([n], 7), b = noise([n], 7), c = noise([n], 8);
      const va = a.dataSync(), vb = b.dataSync(), vc = c.dataSync();
      expect(Array.from(va)).toEqual(Array.from(vb));
      if (n > 1) expect(Array.from(va)).not.toEqual(Array.from(vc));
      let sum = 0, tiny = 0;
      for (const v of va) {
        expect(v).toBeGreaterThanOrEqual(-1);
        expect(v).toBeLessThan(1);
        if (Math.abs(v) < 1e-6) tiny++;
        sum += v;
      }
      if (n === 100_000) {
        expect(Math.abs(sum / n)).toBeLessThan(0.01);
        expect(tiny).toBeLessThan(5);
        // spread over the whole range, not a short cycle
        expect(new Set(va).size).toBeGreaterThan(99_000);
      }
      tf.dispose([a, b, c]);
    }
    const s = noise([2, 3, 4], 0, 0.05);
    expect(s.shape).toEqual([2, 3, 4]);
    expect(Math.max(...Array.from(s.dataSync()).map(Math.abs))).toBeLessThanOrEqual(0.05);
    s.dispose();
  });
});

describe("tfjsTimer", () => {
  it("times the layer and every method's chain, inference and training, without leaking tensors", () => {
    const timer = tfjsTimer({ warmup: 1, repeats: 2, minSeconds: 0 });
    expect(timer.id).toMatch(/^tfjs-cpu@/);
    const before = tf.memory().numTensors;
    const reqs: TimingRequest[] = [
      { layer, method: null, ranks: [], inShape: [9, 7, 8], batch: 2, mode: "inference" },
      { layer, method: "tucker2", ranks: [4, 4], inShape: [9, 7, 8], batch: 2, mode: "training" },
      { layer, method: "cp", ranks: [5], inShape: [9, 7, 8], batch: 1, mode: "inference" },
      { layer, method: "spatial-svd", ranks: [3], inShape: [9, 7, 8], batch: 1, mode: "training" },
      { layer, method: "channel-svd", ranks: [6], inShape: [9, 7, 8], batch: 3, mode: "inference" },
    ];
    for (const r of reqs) {
      const t = timer.time(r);
      expect(t).toBeGreaterThan(0);
      expect(Number.isFinite(t)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(requestLayers(reqs[2]).map((s) => s.className)).toEqual(["Conv2D", "DepthwiseConv2D", "DepthwiseConv2D", "Conv2D"]);
    expect(() => timer.time({ ...reqs[0], batch: 0 })).toThrow(/batch is 0/);
  });

  it("reads nothing back on a synchronous backend (readBack: the old way, for the bench, does)", () => {
    // dataSync's copies and the sum loss's ones tensor made fresh timers disagree up to 35× (bench timer)
    const req: TimingRequest = { layer, method: "tucker2", ranks: [4, 4], inShape: [9, 7, 8], batch: 2, mode: "training" };
    const proto = tf.Tensor.prototype as unknown as { dataSync: () => unknown };
    const orig = proto.dataSync;
    let reads = 0;
    proto.dataSync = function (this: unknown) { reads++; return orig.call(this); };
    try {
      const before = tf.memory().numTensors;
      expect(tfjsTimer({ warmup: 1, repeats: 2, minSeconds: 0 }).time(req)).toBeGreaterThan(0);
      expect(tfjsTimer({ warmup: 1, repeats: 2, minSeconds: 0 }).time({ ...req, mode: "inference" })).toBeGreaterThan(0);
      expect(reads).toBe(0);
      const old = tfjsTimer({ warmup: 1, repeats: 2, minSeconds: 0, readBack: true });
      expect(old.time(req)).toBeGreaterThan(0);
      expect(reads).toBeGreaterThan(0);
      expect(old.id).not.toBe(tfjsTimer().id); // the two never share a timing cache
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      proto.dataSync = orig;
    }
  });

  it("times a whole model without leaking tensors", () => {
    const m = convModel({ h: 6, w: 6, s: 3, t: 4, k: [3, 3] });
    const before = tf.memory().numTensors;
    expect(timeModel(m, 2, "inference", { warmup: 1, repeats: 2, minSeconds: 0 })).toBeGreaterThan(0);
    expect(timeModel(m, 2, "training", { warmup: 1, repeats: 2, minSeconds: 0 })).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe("timing cache on disk", () => {
  it("round-trips the measurements, writes atomically, and a missing file is an empty cache", async () => {
    const dir = mkdtempSync(join(tmpdir(), "odecomp-timing-"));
    const file = join(dir, "timing.json");
    expect((await loadTimingCache(file)).size).toBe(0);
    const fake = { id: "fake", time: () => 1e-3 };
    const c = new CachedTimer(fake);
    c.time({ layer, method: "tucker2", ranks: [4, 8], inShape: [9, 7, 8], batch: 1, mode: "inference" });
    await saveTimingCache(file, c.entries);
    expect(readdirSync(dir)).toEqual(["timing.json"]); // no temporary left behind
    const back = await loadTimingCache(file);
    expect([...back]).toEqual([...c.entries]);
  });
  it("a malformed file is a clear error naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "odecomp-timing-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, "{not json");
    await expect(loadTimingCache(file)).rejects.toThrow(/timing cache .*bad\.json is not JSON/);
    writeFileSync(file, "{}");
    await expect(loadTimingCache(file)).rejects.toThrow(/has no 'entries' object/);
  });
});

describe("runSeconds stops early once the minimum is settled", () => {
  const busy = (ms: number) => { const t0 = performance.now(); while (performance.now() - t0 < ms) { /* spin */ } };
  it("min: past the repeats, no more runs once the two fastest agree; median: runs until minSeconds", async () => {
    const { runSeconds } = await import("../../src/models/timing.ts");
    let n = 0;
    runSeconds(() => { n++; busy(0.5); }, { warmup: 0, repeats: 5, minSeconds: 10 });
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThan(50); // would be 50 (the cap) without the early stop, as minSeconds is never reached
    let m = 0;
    runSeconds(() => { m++; busy(0.05); }, { warmup: 0, repeats: 5, minSeconds: 10, statistic: "median" });
    expect(m).toBe(50);
  });
});
