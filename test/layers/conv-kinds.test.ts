// SeparableConv2D (pointwise half) and Conv2DTranspose factorized into stock layers: at full rank the
// chain reproduces the layer, the saved model loads in plain tfjs, reconstruct folds the kernels back,
// the planner picks these layers only where the factorization pays, and the chains' FLOPs are counted.
import { beforeAll, describe, expect, it } from "vitest";
import { compress, compressArtifacts, planCompression, reconstruct } from "../../src/models/index.ts";
import { artifactsToJSON } from "../../src/models/io.ts";
import { modelToArtifacts, layerShapes } from "../../src/models/convert.ts";
import { inspect } from "../../src/compress/compress.ts";
import { type Candidate, makePlan } from "../../src/compress/plan.ts";
import { requestFeatures, requestLayers, type Timer, type TimingRequest } from "../../src/compress/timecost.ts";
import { chainCost, layerCost, methodCost } from "../../src/layers/cost.ts";
import { factorizeLayer } from "../../src/layers/factorize.ts";
import { layerFlops } from "../../src/layers/flops.ts";
import { predictionError, randomInput, setup, tf, tfl } from "../models/helpers.ts";
import { randn } from "../helpers/random.ts";
import { planSwitch } from "../../src/train/index.ts";

beforeAll(setup);

interface Geo { k: [number, number]; strides: [number, number]; padding: "same" | "valid"; h: number; w: number }
const geos: Geo[] = [
  { k: [3, 3], strides: [1, 1], padding: "same", h: 6, w: 5 },
  { k: [3, 3], strides: [2, 2], padding: "same", h: 7, w: 6 },
  { k: [3, 2], strides: [2, 1], padding: "valid", h: 9, w: 5 },
  { k: [2, 2], strides: [1, 1], padding: "valid", h: 5, w: 5 },
];

function separableModel(g: Geo, c: number, t: number, dm: number, useBias: boolean, activation: string): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.separableConv2d({
    inputShape: [g.h, g.w, c], filters: t, kernelSize: g.k, strides: g.strides, padding: g.padding, depthMultiplier: dm, useBias,
    activation: activation as "relu", biasInitializer: "randomNormal", name: "sep",
  }));
  return m;
}

function transposeModel(g: Geo, c: number, t: number, useBias: boolean, activation: string): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2dTranspose({
    inputShape: [g.h, g.w, c], filters: t, kernelSize: g.k, strides: g.strides, padding: g.padding, useBias,
    activation: activation as "relu", biasInitializer: "randomNormal", name: "tconv",
  }));
  return m;
}

/** Relative L2 difference of two weight lists (same shapes). */
function weightsError(a: tf.Tensor[], b: tf.Tensor[]): number {
  expect(a.map((x) => x.shape)).toEqual(b.map((x) => x.shape));
  let num = 0, den = 0;
  a.forEach((x, i) => {
    const p = x.dataSync(), q = b[i].dataSync();
    p.forEach((v, j) => { num += (v - q[j]) ** 2; den += v * v; });
  });
  return Math.sqrt(num / den);
}

/** Load artifacts in stock tfjs only (model.json + bytes, strict), as a user without odecomp would. */
async function stockLoad(a: Parameters<typeof artifactsToJSON>[0]): Promise<tfl.LayersModel> {
  const { modelJSON, weightData } = artifactsToJSON(a);
  const weightSpecs = modelJSON.weightsManifest.flatMap((g) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJSON.modelTopology as object, weightSpecs, weightData }), { strict: true });
}

/**
 * Artifacts of a one-layer model. tfjs's SeparableConv2D.getConfig() leaves out depthMultiplier, so a
 * model tfjs saves with multiplier 2 does not load back (in tfjs either); a Keras model.json has the
 * field, and it is put back here as Keras would write it.
 */
async function artifactsOf(m: tfl.LayersModel, depthMultiplier?: number) {
  const a = await modelToArtifacts(m);
  if (depthMultiplier !== undefined) (a.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[0].config.depth_multiplier = depthMultiplier;
  return a;
}

async function fullRankRoundTrip(m: tfl.LayersModel, x: tf.Tensor, kinds: string[], name: string, depthMultiplier?: number) {
  const before = tf.memory().numTensors;
  const r = await compressArtifacts(await artifactsOf(m, depthMultiplier), { select: { kind: "full" } });
  const e = r.plan.entries.find((p) => p.layer === name)!;
  expect(e.action).toBe("factorize");
  expect(e.relError!).toBeLessThan(1e-5);
  const stock = await stockLoad(r.artifacts);
  expect(stock.layers.map((l) => l.getClassName())).toEqual(kinds);
  expect(stock.layers.every((l) => l.name.startsWith(`${name}__odc_`))).toBe(true);
  expect(predictionError(m, stock, x)).toBeLessThan(1e-4);
  // reconstruct folds the chain back into one layer of the original kind, geometry and kernels
  const back = await reconstruct(stock);
  expect(back.folded.map((f) => f.layer)).toEqual([name]);
  expect(back.model.layers.map((l) => [l.name, l.getClassName()])).toEqual([[name, m.layers[0].getClassName()]]);
  const oc = m.layers[0].getConfig(), bc = back.model.layers[0].getConfig();
  for (const k of ["kernelSize", "strides", "padding", "activation", "useBias", "filters", "depthMultiplier"]) expect(bc[k]).toEqual(oc[k]);
  expect(weightsError(m.layers[0].getWeights(), back.model.layers[0].getWeights())).toBeLessThan(1e-5);
  expect(predictionError(m, back.model, x)).toBeLessThan(1e-4);
  stock.dispose();
  back.model.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

describe("SeparableConv2D: depthwise → 1×1 → 1×1 (SVD of the pointwise half)", () => {
  let seed = 300;
  for (const [gi, g] of geos.entries()) {
    for (const dm of [1, 2]) {
      const useBias = (gi + dm) % 2 === 0, act = gi % 2 ? "relu" : "linear";
      it(`k=${g.k} strides=${g.strides} ${g.padding} dm=${dm} bias=${useBias} ${act}: full rank reproduces the layer, loads in stock tfjs, folds back`, async () => {
        const m = separableModel(g, 3, 5, dm, useBias, act);
        const x = randomInput([2, g.h, g.w, 3], seed++);
        await fullRankRoundTrip(m, x, ["DepthwiseConv2D", "Conv2D", "Conv2D"], "sep", dm);
        x.dispose();
        m.dispose();
      });
    }
  }

  it("the chain keeps the depthwise kernel, takes the bias and activation last, and its cost is what the spec says", async () => {
    const g = geos[1];
    const m = separableModel(g, 4, 6, 2, true, "relu");
    const ins = inspect(await artifactsOf(m, 2), layerShapes(m));
    const layer = ins.candidates[0].layer;
    expect(layer.className).toBe("SeparableConv2D");
    expect(layer.kernel.shape).toEqual([1, 1, 8, 6]);
    const chain = factorizeLayer(layer, "separable-svd", [3]);
    expect(chain.map((s) => s.className)).toEqual(["DepthwiseConv2D", "Conv2D", "Conv2D"]);
    expect(chain[0].weights[0].value.data).toEqual(layer.depthwise!.data);
    expect(chain[0].config.depth_multiplier).toBe(2);
    expect([chain[0].config.use_bias, chain[1].config.use_bias, chain[2].config.use_bias]).toEqual([false, false, true]);
    expect([chain[0].config.activation, chain[1].config.activation, chain[2].config.activation]).toEqual(["linear", "linear", "relu"]);
    const inShape = [g.h, g.w, 4];
    const c = chainCost(chain, inShape), mc = methodCost(layer, "separable-svd", [3], inShape);
    expect(mc).toEqual({ params: c.params, flops: c.flops });
    // ho = wo = 4 (7, 6 with stride 2 'same' → 4, 3): depthwise 3·3·4·2, then 8·3 + 3·6 per output pixel
    expect(c.flops).toBe(2 * 4 * 3 * (3 * 3 * 4 * 2 + 8 * 3 + 3 * 6));
    const orig = layerCost(layer, inShape);
    expect(orig.flops).toBe(layerFlops("SeparableConv2D", layer.config, { depthwise_kernel: layer.depthwise, pointwise_kernel: layer.kernel }, inShape));
    expect(orig.outShape).toEqual(c.outShape);
    m.dispose();
  });
});

describe("Conv2DTranspose: 1×1 C→R → transposed conv (SVD on the input-channel side)", () => {
  let seed = 400;
  for (const [gi, g] of geos.entries()) {
    for (const useBias of [true, false]) {
      const act = gi % 2 ? "linear" : "relu";
      it(`k=${g.k} strides=${g.strides} ${g.padding} bias=${useBias} ${act}: full rank reproduces the layer, loads in stock tfjs, folds back`, async () => {
        const m = transposeModel(g, 6, 3, useBias, act);
        const x = randomInput([2, g.h, g.w, 6], seed++);
        await fullRankRoundTrip(m, x, ["Conv2D", "Conv2DTranspose"], "tconv");
        x.dispose();
        m.dispose();
      });
    }
  }

  it("factors the input-channel side of the [kh, kw, T, C] kernel and counts the chain's FLOPs", async () => {
    const g = geos[1];
    const m = transposeModel(g, 10, 4, true, "linear");
    const ins = inspect(await modelToArtifacts(m), layerShapes(m));
    const layer = ins.candidates[0].layer;
    expect(layer.kernel.shape).toEqual([3, 3, 4, 10]); // tfjs: [kh, kw, filters, in channels]
    const chain = factorizeLayer(layer, "transpose-svd", [5]);
    expect(chain.map((s) => [s.className, s.weights[0].value.shape])).toEqual([["Conv2D", [1, 1, 10, 5]], ["Conv2DTranspose", [3, 3, 4, 5]]]);
    const inShape = [g.h, g.w, 10];
    const c = chainCost(chain, inShape);
    expect(methodCost(layer, "transpose-svd", [5], inShape)).toEqual({ params: c.params, flops: c.flops });
    expect(c.flops).toBe(2 * g.h * g.w * (10 * 5 + 3 * 3 * 4 * 5));
    const orig = layerCost(layer, inShape);
    expect(orig.flops).toBe(layerFlops("Conv2DTranspose", layer.config, { kernel: layer.kernel }, inShape));
    expect(orig.outShape).toEqual([g.h * 2, g.w * 2, 4]);
    expect(c.outShape).toEqual(orig.outShape);
    m.dispose();
  });
});

/** Set a layer's kernel (by weight index) to a planted rank-r matrix of shape rows × cols, reshaped. */
function plantRank(layer: tfl.layers.Layer, index: number, rows: number, cols: number, r: number, seed: number) {
  const ws = layer.getWeights();
  const a = tf.tensor(randn(rows * r, seed), [rows, r]), b = tf.tensor(randn(r * cols, seed + 1), [r, cols]);
  const k = tf.reshape(tf.matMul(a, b), ws[index].shape);
  ws[index] = k;
  layer.setWeights(ws);
  tf.dispose([a, b, k]);
}

describe("the planner picks these layers where it pays", () => {
  it("factorizes a low-rank pointwise half and a low-rank transposed kernel, keeps a full-rank one that would not pay", async () => {
    const input = tfl.input({ shape: [8, 8, 16] });
    const sep = tfl.layers.separableConv2d({ filters: 32, kernelSize: 3, padding: "same", name: "sep" }).apply(input) as tfl.SymbolicTensor;
    const up = tfl.layers.conv2dTranspose({ filters: 16, kernelSize: 3, strides: 2, padding: "same", name: "up" }).apply(sep) as tfl.SymbolicTensor;
    const keep = tfl.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: "same", name: "keep" }).apply(up) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: keep });
    plantRank(m.getLayer("sep"), 1, 16, 32, 2, 11); // pointwise [1, 1, 16, 32] of rank 2
    plantRank(m.getLayer("up"), 0, 3 * 3 * 16, 32, 3, 21); // [3, 3, 16, 32] as (3·3·16) × 32 of rank 3
    const options = { select: { kind: "energy" as const, threshold: 0.999999 } };
    const { plan } = await planCompression(m, options);
    const by = Object.fromEntries(plan.entries.map((e) => [e.layer, e]));
    expect([by.sep.action, by.sep.method, by.sep.ranks]).toEqual(["factorize", "separable-svd", [2]]);
    expect([by.up.action, by.up.method, by.up.ranks]).toEqual(["factorize", "transpose-svd", [3]]);
    expect(by.sep.flopsAfter).toBeLessThan(by.sep.flopsBefore);
    expect(by.up.paramsAfter).toBeLessThan(by.up.paramsBefore);
    expect(by.keep.action).toBe("keep"); // random 16×8 pointwise: full rank 8, 16·8+8·8 > 16·8
    const r = await compress(m, options);
    const x = randomInput([1, 8, 8, 16], 5);
    expect(predictionError(m, r.model, x)).toBeLessThan(1e-4);
    expect(r.model.layers.map((l) => l.name)).toContain("sep__odc_sep_0");
    expect(r.model.layers.map((l) => l.name)).toContain("up__odc_tconv_1");
    expect(r.model.layers.map((l) => l.name)).toContain("keep");
    x.dispose();
    m.dispose();
    r.model.dispose();
  });
});

describe("with timing on, the never-slower guard applies to these layers too", () => {
  const lowRank = (shape: number[], rows: number, cols: number, r: number, seed: number) => {
    const a = randn(rows * r, seed), b = randn(r * cols, seed + 1), out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (let q = 0; q < r; q++) out[i * cols + j] += a[i * r + q] * b[q * cols + j];
    return { data: out, shape };
  };
  const cands = (): Candidate[] => [
    {
      layer: { className: "SeparableConv2D", name: "sep", kernel: lowRank([1, 1, 32, 64], 32, 64, 2, 1), depthwise: { data: randn(3 * 3 * 32, 3), shape: [3, 3, 32, 1] }, bias: null, config: { name: "sep", filters: 64, kernel_size: [3, 3], strides: [1, 1], padding: "same" } },
      inShape: [16, 16, 32], calls: 1,
    },
    {
      layer: { className: "Conv2DTranspose", name: "up", kernel: lowRank([3, 3, 32, 64], 3 * 3 * 32, 64, 2, 5), bias: null, config: { name: "up", filters: 32, kernel_size: [3, 3], strides: [2, 2], padding: "same" } },
      inShape: [8, 8, 64], calls: 1,
    },
  ];
  const params = (cs: Candidate[]) => cs.reduce((a, c) => a + c.layer.kernel.data.length + (c.layer.depthwise?.data.length ?? 0), 0);
  /** Time = a fixed cost per stock layer + FLOPs and bytes at known rates. */
  const fakeTimer = (perLayer: number): Timer => ({
    id: `fake${perLayer}`,
    time: (req: TimingRequest) => perLayer * requestLayers(req).length + 1e-9 * requestFeatures(req).flops + 2e-10 * requestFeatures(req).bytes,
  });
  const select = { kind: "energy" as const, threshold: 0.999999 };

  it("factorizes them when the chains measure faster", () => {
    const cs = cands();
    const p = makePlan(cs, [], params(cs), { select, timing: { timer: fakeTimer(1e-6) } });
    expect(p.entries.map((e) => [e.layer, e.action, e.method, e.ranks])).toEqual([["sep", "factorize", "separable-svd", [2]], ["up", "factorize", "transpose-svd", [2]]]);
    for (const e of p.entries) expect(e.timeAfter!).toBeLessThan(e.timeBefore!);
  });

  it("keeps them when every chain measures slower (a fixed cost per layer dominates)", () => {
    const cs = cands();
    const p = makePlan(cs, [], params(cs), { select, timing: { timer: fakeTimer(5e-3) } });
    expect(p.entries.map((e) => [e.layer, e.action])).toEqual([["sep", "keep"], ["up", "keep"]]);
  });
});

describe("layers the methods leave alone", () => {
  it("a dilated SeparableConv2D is kept with a note (tfjs-layers' DepthwiseConv2D ignores dilation)", () => {
    const layer = {
      className: "SeparableConv2D" as const, name: "sd", kernel: { data: randn(8 * 8, 1), shape: [1, 1, 8, 8] }, depthwise: { data: randn(9 * 8, 2), shape: [3, 3, 8, 1] }, bias: null,
      config: { name: "sd", filters: 8, kernel_size: [3, 3], strides: [1, 1], padding: "same", dilation_rate: [2, 2] },
    };
    const p = makePlan([{ layer, inShape: [9, 9, 8], calls: 1 }], [], 200, { select: { kind: "full" } });
    expect(p.entries[0].action).toBe("keep");
    expect(p.entries[0].note).toMatch(/dilation \[2,2\].*DepthwiseConv2D/);
  });
});

describe("the auto schedule's switch plan", () => {
  it("leaves SeparableConv2D and Conv2DTranspose alone (it tracks Dense and Conv2D only) instead of failing on them", async () => {
    const input = tfl.input({ shape: [8, 8, 8] });
    const a = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", name: "c0" }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: "same", name: "sep" }).apply(a) as tfl.SymbolicTensor;
    const c = tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: "same", name: "up" }).apply(b) as tfl.SymbolicTensor;
    const d = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", name: "c1" }).apply(c) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: d });
    const ins = inspect(await modelToArtifacts(m), layerShapes(m));
    expect(ins.candidates.map((x) => x.layer.name)).toEqual(["c0", "sep", "up", "c1"]);
    const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 4, select: { kind: "stable" } });
    expect(p.decisions.map((x) => x.layer)).toEqual(["c0", "c1"]);
    m.dispose();
  });
});
