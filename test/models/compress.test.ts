// compress / planCompression / reconstruct end to end with the real decompositions.
import { beforeAll, describe, expect, it } from "vitest";
import { compress, planCompression, reconstruct, formatPlan } from "../../src/models/index.ts";
import type { ConvMethod } from "../../src/layers/types.ts";
import { cpFold } from "../../src/layers/layout.ts";
import { convModel, plantedKernels, predictionError, randomInput, setup, tf, tfl } from "./helpers.ts";
import { randn } from "../helpers/random.ts";

beforeAll(setup);

const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

const geos = [
  { k: [3, 3] as [number, number], strides: [1, 1] as [number, number], padding: "same" as const, h: 6, w: 5, act: "linear", bias: true },
  { k: [3, 3] as [number, number], strides: [2, 2] as [number, number], padding: "same" as const, h: 7, w: 6, act: "relu", bias: false },
  { k: [2, 4] as [number, number], strides: [1, 2] as [number, number], padding: "valid" as const, h: 6, w: 9, act: "tanh", bias: true },
  { k: [3, 3] as [number, number], dilation: [2, 2] as [number, number], padding: "same" as const, h: 8, w: 8, act: "linear", bias: true },
];

describe("full rank reproduces the model", () => {
  const methods: ConvMethod[] = ["tucker2", "tucker1", "channel-svd", "spatial-svd"];
  for (const method of methods) {
    for (const [i, g] of geos.entries()) {
      it(`${method}, k=${g.k} strides=${g.strides ?? 1} dilation=${g.dilation ?? 1} ${g.padding} ${g.act} bias=${g.bias}`, async () => {
        const m = convModel({ h: g.h, w: g.w, s: 5, t: 7, k: g.k, strides: g.strides, padding: g.padding, dilation: g.dilation, activation: g.act, useBias: g.bias, seed: i });
        const before = weightsOf(m);
        const r = await compress(m, { select: { kind: "full" }, convMethod: method });
        expect(r.plan.entries[0].action).toBe("factorize");
        expect(r.plan.entries[0].method).toBe(method);
        expect(r.plan.entries[0].relError!).toBeLessThan(1e-5);
        const x = randomInput([2, g.h, g.w, 5], i);
        expect(predictionError(m, r.model, x)).toBeLessThan(1e-4);
        const back = await reconstruct(r.model);
        expect(back.model.layers.map((l) => l.getClassName())).toEqual(["Conv2D"]);
        expect(predictionError(m, back.model, x)).toBeLessThan(1e-4);
        expect(weightsOf(m)).toEqual(before); // input untouched
        x.dispose();
        r.model.dispose();
        back.model.dispose();
        m.dispose();
      });
    }
  }

  for (const [i, g] of geos.entries()) {
    if (g.dilation) continue; // CP refuses dilated convs (tfjs DepthwiseConv2D ignores dilation)
    it(`CP recovers a planted CP-rank-3 kernel: k=${g.k} strides=${g.strides} ${g.padding} ${g.act} bias=${g.bias}`, async () => {
      const m = convModel({ h: g.h, w: g.w, s: 5, t: 7, k: g.k, strides: g.strides, padding: g.padding, activation: g.act, useBias: g.bias, seed: i });
      const layer = { className: "Conv2D" as const, name: "conv", config: {}, kernel: { data: new Float32Array(g.k[0] * g.k[1] * 35), shape: [g.k[0], g.k[1], 5, 7] }, bias: null };
      const k = plantedKernels(layer, "cp", [3], 10 + i);
      if (k.method !== "cp") throw new Error("unreachable");
      const kernel = cpFold(k.first, k.vertical, k.horizontal, k.last);
      m.layers[0].setWeights([tf.tensor(kernel.data, kernel.shape), ...m.layers[0].getWeights().slice(1)]);
      const r = await compress(m, { methods: { conv: "cp" }, ranks: { conv: 3 }, decomposition: { cp: { maxIter: 500 } } });
      expect(r.plan.entries[0].relError!).toBeLessThan(1e-4);
      expect(r.model.layers.map((l) => l.getClassName())).toEqual(["Conv2D", "DepthwiseConv2D", "DepthwiseConv2D", "Conv2D"]);
      const x = randomInput([2, g.h, g.w, 5], i);
      expect(predictionError(m, r.model, x)).toBeLessThan(1e-4);
      const back = await reconstruct(r.model);
      expect(predictionError(m, back.model, x)).toBeLessThan(1e-4);
      x.dispose();
      for (const mm of [m, r.model, back.model]) mm.dispose();
    });
  }

  it("Dense SVD at full rank, in an MLP", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [9], units: 13, activation: "relu" }), tfl.layers.dense({ units: 4, activation: "softmax" })] });
    const r = await compress(m, { select: { kind: "full" } });
    expect(r.plan.entries.map((e) => e.action)).toEqual(["factorize", "factorize"]);
    const x = randomInput([6, 9], 3);
    expect(predictionError(m, r.model, x)).toBeLessThan(1e-4);
    const back = await reconstruct(r.model);
    expect(predictionError(m, back.model, x)).toBeLessThan(1e-4);
    x.dispose();
  });
});

describe("ranks, budgets and rules", () => {
  it("output error falls as the rank rises (Dense SVD and Tucker-2)", async () => {
    const d = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [24], units: 20, name: "fc" })] });
    const c = convModel({ h: 8, w: 8, s: 12, t: 16, k: [3, 3], padding: "same" });
    const xd = randomInput([16, 24], 1), xc = randomInput([2, 8, 8, 12], 2);
    const ed: number[] = [], ec: number[] = [];
    for (const r of [2, 5, 10, 20]) {
      const out = await compress(d, { ranks: { fc: r }, select: { kind: "full" } });
      ed.push(predictionError(d, out.model, xd));
      out.model.dispose();
    }
    for (const r of [[2, 3], [4, 6], [8, 10], [12, 16]]) {
      const out = await compress(c, { ranks: { conv: r }, select: { kind: "full" } });
      ec.push(predictionError(c, out.model, xc));
      out.model.dispose();
    }
    const ecp: number[] = [];
    for (const r of [2, 8, 32]) {
      const out = await compress(c, { ranks: { conv: r }, methods: { conv: "cp" } });
      ecp.push(predictionError(c, out.model, xc));
      out.model.dispose();
    }
    for (let i = 1; i < ecp.length; i++) expect(ecp[i]).toBeLessThan(ecp[i - 1]);
    for (const e of [ed, ec]) {
      for (let i = 1; i < e.length; i++) expect(e[i]).toBeLessThan(e[i - 1]);
      expect(e[e.length - 1]).toBeLessThan(1e-4);
      expect(e[0]).toBeGreaterThan(0.05);
    }
    tf.dispose([xd, xc]);
  });

  it("a global parameter budget is met across layers, and a FLOP budget too", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: "relu" }),
      tfl.layers.dense({ units: 10 }),
    ] });
    for (const metric of ["params", "flops"] as const) {
      const r = await compress(m, { select: { kind: "budget", keep: 0.25, metric } });
      const t = r.plan.totals;
      const kept = metric === "params" ? t.paramsAfter / t.paramsBefore : t.flopsAfter / t.flopsBefore;
      expect(kept).toBeLessThanOrEqual(0.25 + 1e-9);
      expect(kept).toBeGreaterThan(0.15);
      // the compressed model really has that many parameters
      if (metric === "params") expect(r.model.countParams()).toBe(t.paramsAfter);
      expect(r.report).toContain("% kept");
      r.model.dispose();
    }
  });

  it("EVBMF finds a planted rank; weakened EVBMF keeps more; energy follows its threshold", async () => {
    // Dense kernel = rank-4 signal + small noise
    const n = 40, mm = 30, rank = 4;
    const a = randn(n * rank, 5), b = randn(rank * mm, 6), noise = randn(n * mm, 7);
    const w = new Float32Array(n * mm);
    for (let i = 0; i < n; i++) for (let j = 0; j < mm; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += a[i * rank + k] * b[k * mm + j];
      w[i * mm + j] = s + 0.01 * noise[i * mm + j];
    }
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [n], units: mm, name: "fc" })] });
    m.getLayer("fc").setWeights([tf.tensor2d(w, [n, mm]), tf.zeros([mm])]);
    const p1 = await planCompression(m, { select: { kind: "evbmf" } });
    expect(p1.plan.entries[0].ranks).toEqual([4]);
    const p2 = await planCompression(m, { select: { kind: "evbmf", weaken: 0.5 } });
    expect(p2.plan.entries[0].ranks).toEqual([Math.round(30 - 0.5 * (30 - 4))]);
    const p3 = await planCompression(m, { select: { kind: "energy", threshold: 0.5 } });
    expect(p3.plan.entries[0].ranks[0]).toBeLessThanOrEqual(4);
    // and the dry-run error estimate (exact for SVD) matches the measured one
    const r = await compress(m, { select: { kind: "evbmf" } });
    expect(Math.abs(r.plan.entries[0].relError! - p1.plan.entries[0].relError!)).toBeLessThan(1e-4);
    r.model.dispose();
  });

  it("kept depthwise convolutions count in the FLOP totals (a FLOP budget is a share of the whole model)", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.depthwiseConv2d({ inputShape: [10, 12, 4], kernelSize: 3, depthMultiplier: 2, strides: 2, padding: "same", name: "dw" }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, name: "c" }),
    ] });
    const { plan } = await planCompression(m, { select: { kind: "full" } });
    const dw = plan.entries.find((e) => e.layer === "dw")!;
    expect(dw.action).toBe("keep");
    expect(dw.flopsBefore).toBe(2 * 5 * 6 * 3 * 3 * 4 * 2); // out 5×6, 3×3 taps, 4 channels × multiplier 2
    expect(dw.flopsAfter).toBe(dw.flopsBefore);
    const c = plan.entries.find((e) => e.layer === "c")!;
    expect(plan.totals.flopsBefore).toBe(dw.flopsBefore + c.flopsBefore);
    m.dispose();
  });

  it("auto methods: 1×1 → channel SVD, few input channels → Tucker-1, else Tucker-2; explicit per-layer methods", async () => {
    const inp = tfl.input({ shape: [8, 8, 3] });
    const c1 = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", name: "first" }).apply(inp) as tfl.SymbolicTensor;
    const c2 = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", name: "mid" }).apply(c1) as tfl.SymbolicTensor;
    const c3 = tfl.layers.conv2d({ filters: 16, kernelSize: 1, name: "point" }).apply(c2) as tfl.SymbolicTensor;
    const c4 = tfl.layers.conv2d({ filters: 16, kernelSize: 3, name: "spat" }).apply(c3) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: inp, outputs: c4 });
    const { plan } = await planCompression(m, { select: { kind: "full" }, methods: { spat: "spatial-svd" } });
    expect(Object.fromEntries(plan.entries.map((e) => [e.layer, e.method]))).toEqual({ first: "tucker1", mid: "tucker2", point: "channel-svd", spat: "spatial-svd" });
    expect(formatPlan(plan)).toMatch(/\| first +\| Conv2D +\| tucker1/);
  });
});

describe("bad input and edge cases", () => {
  const mlp = () => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 8, name: "a" }), tfl.layers.dense({ units: 3, name: "b" })] });

  it("budgets outside (0, 1], bad thresholds and unknown methods are rejected with the value", async () => {
    const m = mlp();
    await expect(compress(m, { select: { kind: "budget", keep: 0 } })).rejects.toThrow("budget keep is 0; expected a fraction in (0, 1]");
    await expect(compress(m, { select: { kind: "budget", keep: 1.5 } })).rejects.toThrow("budget keep is 1.5; expected a fraction in (0, 1]");
    await expect(compress(m, { select: { kind: "energy", threshold: -1 } })).rejects.toThrow("energy threshold is -1");
    await expect(compress(m, { select: { kind: "evbmf", weaken: 2 } })).rejects.toThrow("evbmf weaken is 2");
    await expect(compress(m, { convMethod: "svd" as never })).rejects.toThrow("convMethod is 'svd'");
    await expect(compress(m, { methods: { a: "tucker2" } })).rejects.toThrow("methods['a'] is 'tucker2', which applies to Conv2D, but 'a' is Dense");
    await expect(compress(m, { select: { kind: "budget", keep: 0.01 } })).rejects.toThrow(/cannot be met: rank 1 everywhere keeps/);
  });

  it("ranks out of range and unknown layer names are rejected", async () => {
    const m = mlp();
    await expect(compress(m, { ranks: { a: 7 } })).rejects.toThrow("rank 7 is out of range for svd; expected an integer in [1, 6]");
    await expect(compress(m, { ranks: { a: 0 } })).rejects.toThrow("rank 0 is out of range for svd");
    await expect(compress(m, { ranks: { a: [2, 2] } })).rejects.toThrow("method 'svd' takes 1 rank(s), got [2,2]");
    await expect(compress(m, { ranks: { nope: 2 } })).rejects.toThrow("ranks names layer 'nope', which is not a factorizable layer of the model; expected one of: a, b");
    await expect(compress({} as never)).rejects.toThrow("expected a tfjs LayersModel");
  });

  it("a model with no factorizable layer: clear report, same model", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.depthwiseConv2d({ inputShape: [6, 6, 3], kernelSize: 3, name: "dw" }),
      tfl.layers.batchNormalization({ name: "bn" }),
      tfl.layers.flatten(),
    ] });
    const before = weightsOf(m);
    const r = await compress(m, { select: { kind: "budget", keep: 0.5 } });
    expect(r.plan.entries.every((e) => e.action === "keep")).toBe(true);
    expect(r.report).toContain("no layer was factorized");
    expect(r.report).toContain("dw: unsupported layer kind DepthwiseConv2D: left untouched");
    expect(r.report).toContain("bn: unsupported layer kind BatchNormalization: left untouched");
    const x = randomInput([2, 6, 6, 3], 1);
    expect(predictionError(m, r.model, x)).toBe(0);
    expect(weightsOf(m)).toEqual(before);
    x.dispose();
  });

  it("layers that would not shrink are left alone and the plan says why; skip is honoured", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, name: "tiny" }), tfl.layers.dense({ units: 40, name: "wide" }), tfl.layers.dense({ units: 40, name: "big" })] });
    const { plan, report } = await planCompression(m, { select: { kind: "energy", threshold: 0.999 }, skip: ["wide"] });
    const e = Object.fromEntries(plan.entries.map((x) => [x.layer, x]));
    expect(e.tiny.action).toBe("keep");
    expect(e.tiny.note).toMatch(/would not save parameters/);
    expect(e.wide.note).toBe("skipped by options");
    expect(report).toContain("tiny: left alone: would not save parameters");
  });

  it("a chain name that collides with an existing layer is refused; an incomplete chain is left alone by reconstruct", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 8, name: "d" }), tfl.layers.dense({ units: 5, name: "d__odc_svd_0" })] });
    await expect(compress(m, { ranks: { d: 2 } })).rejects.toThrow("new layer name 'd__odc_svd_0' (for 'd') already exists in the model; rename that layer");
    const r = await reconstruct(m);
    expect(r.folded).toEqual([]);
    expect(r.notes).toEqual(["d: chain of svd is incomplete (1/2 layers); left alone"]);
    const x = randomInput([2, 6], 1);
    expect(predictionError(m, r.model, x)).toBe(0);
    x.dispose();
  });

  it("does not leak tensors", async () => {
    const m = convModel({ h: 6, w: 6, s: 4, t: 8, k: [3, 3], padding: "same" });
    const warm = await compress(m, { ranks: { conv: [2, 3] }, methods: { conv: "tucker2" } });
    warm.model.dispose();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = await compress(m, { ranks: { conv: [2, 3] }, methods: { conv: "tucker2" } });
      const back = await reconstruct(r.model);
      r.model.dispose();
      back.model.dispose();
      await planCompression(m, { select: { kind: "budget", keep: 0.5 } });
    }
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });
});
