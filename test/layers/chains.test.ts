// Equivalence of every chain with the layer it replaces, from planted exact-rank
// factors (no decomposition involved): strides, padding (incl. asymmetric 'same'
// splits), dilation, activation, bias; Sequential, residual, Concatenate,
// multi-input/output and nested models; and reconstruct() folding them back.
import { beforeAll, describe, expect, it } from "vitest";
import { reconstruct } from "../../src/models/index.ts";
import type { Method } from "../../src/layers/types.ts";
import { convModel, plant, predictionError, randomInput, setup, tf, tfl } from "../models/helpers.ts";

beforeAll(setup);

const geos = [
  { k: [3, 3], strides: [1, 1], padding: "same", h: 6, w: 5 },
  { k: [3, 3], strides: [2, 2], padding: "same", h: 7, w: 6 }, // W: pad total 1 → asymmetric split
  { k: [4, 2], strides: [2, 1], padding: "valid", h: 9, w: 5 },
  { k: [3, 3], dilation: [2, 1], padding: "same", h: 8, w: 7 },
  { k: [2, 4], strides: [1, 2], padding: "same", h: 5, w: 8 }, // even kernels: asymmetric on both axes
  { k: [1, 1], strides: [2, 2], padding: "valid", h: 5, w: 5 },
  { k: [5, 3], dilation: [2, 2], padding: "valid", h: 11, w: 9 },
  { k: [4, 4], strides: [3, 3], padding: "same", h: 10, w: 8 },
] as const;

const convMethods: { method: Method; ranks: number[] }[] = [
  { method: "tucker2", ranks: [3, 4] },
  { method: "tucker1", ranks: [3] },
  { method: "channel-svd", ranks: [4] },
  { method: "spatial-svd", ranks: [3] },
  { method: "cp", ranks: [5] },
];

describe("conv chains match the conv they replace", () => {
  let seed = 10;
  for (const { method, ranks } of convMethods) {
    for (const [gi, g] of geos.entries()) {
      const act = gi % 2 ? "relu" : "linear";
      const useBias = gi % 3 !== 1;
      if (method === "cp" && "dilation" in g) continue; // tfjs DepthwiseConv2D ignores dilation: tested below as an error
      it(`${method} on k=${g.k} strides=${"strides" in g ? g.strides : 1} dilation=${"dilation" in g ? g.dilation : 1} ${g.padding} ${act} bias=${useBias}`, async () => {
        const s = seed++;
        const m = convModel({ h: g.h, w: g.w, s: 5, t: 6, k: [...g.k], strides: "strides" in g ? [...g.strides] : undefined, padding: g.padding, dilation: "dilation" in g ? [...g.dilation] : undefined, activation: act, useBias, seed: s });
        const p = await plant(m, { conv: { method, ranks } }, s);
        const x = randomInput([2, g.h, g.w, 5], s);
        const y = p.original.predict(x) as tf.Tensor;
        const yc = p.chained.predict(x) as tf.Tensor;
        expect(yc.shape).toEqual(y.shape);
        expect(predictionError(p.original, p.chained, x)).toBeLessThan(1e-5);
        // Stock layers only, and the expected chain structure.
        const kinds = p.chained.layers.map((l) => l.getClassName());
        expect(kinds.every((k) => k === "Conv2D" || k === "DepthwiseConv2D")).toBe(true);
        expect(kinds.length).toBe(method === "tucker2" ? 3 : method === "cp" ? 4 : 2);
        // reconstruct folds the chain back into one Conv2D with the original geometry.
        const r = await reconstruct(p.chained);
        expect(r.folded.map((f) => f.layer)).toEqual(["conv"]);
        expect(r.model.layers.map((l) => l.name)).toEqual(["conv"]);
        const cfg = r.model.layers[0].getConfig();
        const oc = m.layers[0].getConfig();
        for (const k of ["kernelSize", "strides", "padding", "dilationRate", "activation", "useBias", "filters"]) expect(cfg[k]).toEqual(oc[k]);
        expect(predictionError(p.original, r.model, x)).toBeLessThan(1e-5);
        tf.dispose([x, y, yc]);
        for (const mm of [m, p.original, p.chained, r.model]) mm.dispose();
      });
    }
  }
});

describe("CP on a dilated conv", () => {
  it("is refused with a clear error (tfjs DepthwiseConv2D ignores dilation)", async () => {
    const m = convModel({ h: 8, w: 8, s: 3, t: 4, k: [3, 3], dilation: [2, 1] });
    await expect(plant(m, { conv: { method: "cp", ranks: [2] } })).rejects.toThrow(/CP needs DepthwiseConv2D with dilation \[2,1\], which tfjs-layers ignores/);
    m.dispose();
  });
});

describe("model structures", () => {
  it("Sequential MLP: Dense chains keep bias/activation, other layers untouched", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [12], units: 10, activation: "relu", name: "d1" }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 7, activation: "tanh", name: "d2" }),
      tfl.layers.dense({ units: 3, activation: "softmax", name: "d3" }),
    ] });
    const p = await plant(m, { d1: { method: "svd", ranks: [4] }, d2: { method: "svd", ranks: [2] } });
    const x = randomInput([5, 12], 4);
    expect(predictionError(p.original, p.chained, x)).toBeLessThan(1e-5);
    expect(p.chained.layers.map((l) => l.name)).toEqual(["d1__odc_svd_0", "d1__odc_svd_1", p.chained.layers[2].name, "d2__odc_svd_0", "d2__odc_svd_1", "d3"]);
    expect(p.chained.getLayer("d1__odc_svd_0").getConfig().useBias).toBe(false);
    expect(p.chained.getLayer("d1__odc_svd_1").getConfig().activation).toBe("relu");
    // untouched layer keeps its weights
    const w3 = p.original.getLayer("d3").getWeights().map((t) => Array.from(t.dataSync()));
    expect(p.chained.getLayer("d3").getWeights().map((t) => Array.from(t.dataSync()))).toEqual(w3);
    const r = await reconstruct(p.chained);
    expect(r.model.layers.map((l) => l.getClassName())).toEqual(p.original.layers.map((l) => l.getClassName()));
    expect(predictionError(p.original, r.model, x)).toBeLessThan(1e-5);
    x.dispose();
  });

  it("functional ResNet-style block with residual Add, and a Concatenate skip", async () => {
    const inp = tfl.input({ shape: [8, 8, 4] });
    const c1 = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu", name: "c1" }).apply(inp) as tfl.SymbolicTensor;
    const c2 = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", name: "c2" }).apply(c1) as tfl.SymbolicTensor;
    const add = tfl.layers.add().apply([c1, c2]) as tfl.SymbolicTensor;
    const c3 = tfl.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: "same", name: "c3" }).apply(add) as tfl.SymbolicTensor;
    const pool = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: "same" }).apply(add) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate().apply([c3, pool]) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(cat) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 4, name: "fc" }).apply(flat) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: inp, outputs: out });
    const p = await plant(m, { c1: { method: "tucker2", ranks: [2, 3] }, c2: { method: "cp", ranks: [4] }, c3: { method: "spatial-svd", ranks: [3] }, fc: { method: "svd", ranks: [5] } });
    const x = randomInput([2, 8, 8, 4], 7);
    expect(predictionError(p.original, p.chained, x)).toBeLessThan(1e-5);
    const r = await reconstruct(p.chained);
    expect(r.folded.map((f) => f.layer).sort()).toEqual(["c1", "c2", "c3", "fc"]);
    expect(r.model.layers.map((l) => l.name).sort()).toEqual(p.original.layers.map((l) => l.name).sort());
    expect(predictionError(p.original, r.model, x)).toBeLessThan(1e-5);
    x.dispose();
  });

  it("multiple inputs and outputs, a shared layer, and a nested Sequential", async () => {
    const a = tfl.input({ shape: [6], name: "a" });
    const b = tfl.input({ shape: [6], name: "b" });
    const shared = tfl.layers.dense({ units: 5, activation: "relu", name: "shared" });
    const ha = shared.apply(a) as tfl.SymbolicTensor;
    const hb = shared.apply(b) as tfl.SymbolicTensor;
    const inner = tfl.sequential({ name: "inner", layers: [tfl.layers.dense({ inputShape: [5], units: 4, name: "in1" }), tfl.layers.dense({ units: 3, name: "in2" })] });
    const oa = inner.apply(ha) as tfl.SymbolicTensor;
    const ob = tfl.layers.dense({ units: 2, name: "headb" }).apply(tfl.layers.concatenate().apply([ha, hb]) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [a, b], outputs: [oa, ob] });
    const p = await plant(m, { shared: { method: "svd", ranks: [3] }, in1: { method: "svd", ranks: [2] }, headb: { method: "svd", ranks: [1] } });
    const xs = [randomInput([3, 6], 1), randomInput([3, 6], 2)];
    expect(predictionError(p.original, p.chained, xs)).toBeLessThan(1e-5);
    const r = await reconstruct(p.chained);
    expect(r.folded.map((f) => f.layer).sort()).toEqual(["headb", "in1", "shared"]);
    expect(predictionError(p.original, r.model, xs)).toBeLessThan(1e-5);
    tf.dispose(xs);
  });
});
