// The measured cost model and the time planner, with fake timers whose times are known exactly.
import { beforeAll, describe, expect, it } from "vitest";
import { ready } from "../../src/index.ts";
import { CachedTimer, fitTimeModel, requestFeatures, requestLayers, timingKey, type Timer, type TimingRequest } from "../../src/compress/timecost.ts";
import { roundRank } from "../../src/compress/timeplan.ts";
import { type Candidate, type CompressOptions, makePlan } from "../../src/compress/plan.ts";
import type { FactorizableLayer } from "../../src/layers/types.ts";
import { randn } from "../helpers/random.ts";

beforeAll(() => ready());

const rnd = (shape: number[], seed: number) => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed), shape });

function conv(name: string, kh: number, s: number, t: number, seed: number): FactorizableLayer {
  return { className: "Conv2D", name, kernel: rnd([kh, kh, s, t], seed), bias: rnd([t], seed + 1), config: { name, filters: t, kernel_size: [kh, kh], strides: [1, 1], padding: "same", activation: "relu" } };
}
const dense = (name: string, n: number, m: number, seed: number): FactorizableLayer => ({ className: "Dense", name, kernel: rnd([n, m], seed), bias: null, config: { name, units: m } });

/** A small CNN's candidates: 3×3 convs of various widths, a 1×1 conv, a Dense. */
function candidates(): Candidate[] {
  return [
    { layer: conv("c1", 3, 16, 32, 1), inShape: [16, 16, 16], calls: 1 },
    { layer: conv("c2", 3, 32, 64, 3), inShape: [8, 8, 32], calls: 1 },
    { layer: conv("c3", 1, 64, 64, 5), inShape: [8, 8, 64], calls: 1 },
    { layer: conv("c4", 3, 64, 48, 7), inShape: [8, 8, 64], calls: 2 },
    { layer: dense("fc", 256, 100, 9), inShape: [256], calls: 1 },
  ];
}
const totalParams = (cs: Candidate[]) => cs.reduce((a, c) => a + c.layer.kernel.data.length + (c.layer.bias?.data.length ?? 0), 0);

/** Time = fixed cost per stock layer + FLOPs and bytes at known rates (optionally a per-method factor). */
function fakeTimer(perLayer: number, factor: (req: TimingRequest) => number = () => 1): Timer & { calls: number } {
  const t = {
    id: "fake", calls: 0,
    time(req: TimingRequest) {
      t.calls++;
      const f = requestFeatures(req);
      return factor(req) * (perLayer * requestLayers(req).length + 1e-9 * f.flops + 2e-10 * f.bytes);
    },
  };
  return t;
}
const truth = (timer: Timer, c: Candidate, method: string | null, ranks: number[], batch = 1) =>
  c.calls * timer.time({ layer: c.layer, method: method as never, ranks, inShape: c.inShape, batch, mode: "inference" });

describe("time model", () => {
  it("recovers a + b·FLOPs + c·bytes exactly from three or more points", () => {
    const pts = [[1e6, 3e5], [4e6, 5e5], [9e6, 2e6], [2e7, 1e6]].map(([flops, bytes]) => ({ flops, bytes, time: 2e-4 + 3e-11 * flops + 5e-10 * bytes }));
    const m = fitTimeModel(pts);
    expect(m.coef[0]).toBeCloseTo(2e-4, 9);
    expect(m.coef[1] / 3e-11).toBeCloseTo(1, 6);
    expect(m.coef[2] / 5e-10).toBeCloseTo(1, 6);
    expect(m.fitError).toBeLessThan(1e-9);
    expect(m.predict({ flops: 5e6, bytes: 7e5 })).toBeCloseTo(2e-4 + 3e-11 * 5e6 + 5e-10 * 7e5, 12);
  });
  it("drops a term whose coefficient comes out negative, so predictions grow with work", () => {
    // time falls with bytes here (noise); the fit must not extrapolate a negative slope
    const pts = [{ flops: 1e6, bytes: 4e5, time: 1.1e-3 }, { flops: 2e6, bytes: 3e5, time: 2.0e-3 }, { flops: 4e6, bytes: 2e5, time: 4.1e-3 }];
    const m = fitTimeModel(pts);
    expect(m.coef.every((x) => x >= 0)).toBe(true);
    expect(m.predict({ flops: 8e6, bytes: 1e5 })).toBeGreaterThan(m.predict({ flops: 4e6, bytes: 1e5 }));
  });
  it("one point: time proportional to FLOPs", () => {
    const m = fitTimeModel([{ flops: 1e6, bytes: 1e3, time: 2e-3 }]);
    expect(m.predict({ flops: 3e6, bytes: 0 })).toBeCloseTo(6e-3, 12);
  });
  it("the cache times each distinct request once; batch, mode and ranks are in the key", () => {
    const inner = fakeTimer(1e-4);
    const cached = new CachedTimer(inner);
    const c = candidates()[0];
    const req: TimingRequest = { layer: c.layer, method: "tucker2", ranks: [8, 8], inShape: c.inShape, batch: 1, mode: "inference" };
    const a = cached.time(req);
    expect(cached.time({ ...req })).toBe(a);
    expect(inner.calls).toBe(1);
    for (const r of [{ ...req, batch: 2 }, { ...req, mode: "training" as const }, { ...req, ranks: [8, 12] }]) {
      expect(timingKey("fake", r)).not.toBe(timingKey("fake", req));
      cached.time(r);
    }
    expect(inner.calls).toBe(4);
    expect([cached.hits, cached.misses]).toEqual([1, 4]);
    const seeded = new CachedTimer(inner, cached.entries); // e.g. loaded from disk
    seeded.time(req);
    expect(inner.calls).toBe(4);
  });
});

describe("planner with a fake timer", () => {
  it("never chooses a chain that measures slower, at every metric (explicit ranks stay, with a note)", () => {
    // 5 ms per stock layer dominates: every chain (2–4 layers) is slower than its one layer
    const timer = fakeTimer(5e-3);
    const cs = candidates();
    for (const select of [{ kind: "budget", keep: 0.5, metric: "params" }, { kind: "budget", keep: 0.5, metric: "flops" }, { kind: "energy", threshold: 0.8 }, { kind: "budget", keep: 0.9, metric: "time" }] as const) {
      const o: CompressOptions = { select, timing: { timer }, ranks: { c2: [8, 8] } };
      if (select.kind === "budget" && select.metric !== "time") {
        // params/flops budgets still plan by params/FLOPs; the guard then drops the slower chains
        const p = makePlan(cs, [], totalParams(cs), { ...o, select: { ...select, keep: 0.9 } });
        check(p);
      } else check(makePlan(cs, [], totalParams(cs), o));
    }
    function check(p: ReturnType<typeof makePlan>) {
      for (const e of p.entries) {
        if (e.layer === "c2") {
          expect(e.action).toBe("factorize");
          expect(e.note).toMatch(/explicit ranks honoured, but the chain measures/);
          expect(e.timeAfter!).toBeGreaterThan(e.timeBefore!);
        } else {
          expect(e.action).toBe("keep");
          expect(e.timeAfter).toBe(e.timeBefore);
        }
      }
    }
  });

  it("allocates a time budget: measured total within keep × model time, and uses it", () => {
    const timer = fakeTimer(2e-6, (r) => (r.method === "cp" ? 3 : 1)); // CP's depthwise pair runs slowly per FLOP
    const cs = candidates();
    for (const keep of [0.3, 0.5, 0.7]) {
      const p = makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep, metric: "time" }, timing: { timer } });
      const before = cs.reduce((a, c) => a + truth(timer, c, null, []), 0);
      // the plan's times are the timer's, recomputed independently here
      const after = p.entries.reduce((a, e, i) => a + (e.action === "factorize" ? truth(timer, cs[i], e.method, e.ranks) : truth(timer, cs[i], null, [])), 0);
      expect(p.totals.timeBefore!).toBeCloseTo(before, 12);
      expect(p.totals.timeAfter!).toBeCloseTo(after, 12);
      expect(after).toBeLessThanOrEqual(keep * before * (1 + 1e-9));
      expect(after).toBeGreaterThan((keep - 0.15) * before); // not far below: the budget is spent
      expect(p.timing!.target!).toBeCloseTo(keep * before, 12);
      for (const e of p.entries) if (e.action === "factorize") expect(e.timeAfter!).toBeLessThan(e.timeBefore!);
    }
  });

  it("the time budget's base is the whole model's measured time when given (other layers count as fixed)", () => {
    const timer = fakeTimer(2e-6);
    const cs = candidates();
    const layers = cs.reduce((a, c) => a + truth(timer, c, null, []), 0);
    const modelTime = layers * 1.25; // pooling, BN, activations…
    const p = makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep: 0.6, metric: "time" }, timing: { timer, modelTime } });
    expect(p.totals.timeBefore!).toBeCloseTo(modelTime, 12);
    expect(p.totals.timeAfter!).toBeLessThanOrEqual(0.6 * modelTime * (1 + 1e-9));
  });

  it("rank rounding: multiples of 4 (or the largest rank), and the budget still holds", () => {
    const timer = fakeTimer(2e-6);
    const cs = candidates();
    for (const select of [{ kind: "budget", keep: 0.4, metric: "time" }, { kind: "budget", keep: 0.4, metric: "params" }, { kind: "budget", keep: 0.4, metric: "flops" }] as const) {
      const p = makePlan(cs, [], totalParams(cs), { select, timing: { timer } });
      const f = p.entries.filter((e) => e.action === "factorize");
      expect(f.length).toBeGreaterThan(0);
      for (const e of f) e.ranks.forEach((r, i) => expect(r % 4 === 0 || r === e.maxRanks[i]).toBe(true));
      if (select.metric === "time") expect(p.totals.timeAfter!).toBeLessThanOrEqual(0.4 * p.totals.timeBefore! * (1 + 1e-9));
      if (select.metric === "params") expect(p.totals.paramsAfter).toBeLessThanOrEqual(0.4 * p.totals.paramsBefore);
      if (select.metric === "flops") expect(p.totals.flopsAfter).toBeLessThanOrEqual(0.4 * p.totals.flopsBefore);
    }
    expect([roundRank(5, 64, 4), roundRank(6, 64, 4), roundRank(1, 64, 4), roundRank(63, 62, 4), roundRank(3, 3, 4)]).toEqual([4, 8, 4, 62, 3]);
  });

  it("--method auto picks per layer the method that measures fastest", () => {
    const cs = candidates().slice(0, 2);
    const slowTucker = fakeTimer(2e-6, (r) => (r.method === "tucker2" || r.method === "spatial-svd" ? 3 : r.method === "cp" ? 5 : 1));
    const slowChannel = fakeTimer(2e-6, (r) => (r.method === "channel-svd" || r.method === "tucker1" || r.method === "spatial-svd" || r.method === "cp" ? 4 : 1));
    const a = makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep: 0.6, metric: "time" }, timing: { timer: slowTucker } });
    const b = makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep: 0.6, metric: "time" }, timing: { timer: slowChannel } });
    expect(a.entries.map((e) => e.method)).toEqual(["channel-svd", "channel-svd"]);
    expect(b.entries.map((e) => e.method)).toEqual(["tucker2", "tucker2"]);
    // an explicit method is kept
    const c = makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep: 0.6, metric: "time" }, timing: { timer: slowTucker }, convMethod: "tucker2" });
    expect(c.entries.filter((e) => e.action === "factorize").every((e) => e.method === "tucker2")).toBe(true);
  });

  it("times only what the search needs: a few ranks per layer and method, each once", () => {
    const timer = fakeTimer(2e-6);
    const cs = candidates();
    makePlan(cs, [], totalParams(cs), { select: { kind: "budget", keep: 0.5, metric: "time" }, timing: { timer } });
    // per conv layer (4 methods × 3 anchors + a few verifications) — far below the ranks a search visits
    expect(timer.calls).toBeLessThan(cs.length * 22);
  });

  it("metric time without timing, and a bad batch, are clear errors", () => {
    const cs = candidates();
    expect(() => makePlan(cs, [], 1, { select: { kind: "budget", keep: 0.5, metric: "time" } })).toThrow(/needs options.timing/);
    expect(() => makePlan(cs, [], 1, { select: { kind: "budget", keep: 0.5, metric: "time", batch: 0 }, timing: { timer: fakeTimer(1e-6) } })).toThrow(/batch is 0/);
  });
});
