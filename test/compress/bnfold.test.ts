// BatchNormalization folding: the folded model computes the same outputs (inference form), in
// Sequential and functional graphs, after Conv2D / DepthwiseConv2D / Dense, with and without bias;
// BNs that cannot be folded exactly are kept with a reason.
import { beforeAll, describe, expect, it } from "vitest";
import { foldBatchNorm } from "../../src/compress/bnfold.ts";
import { artifactsToModel, modelToArtifacts } from "../../src/models/convert.ts";
import { predictionError, randomInput, setup, tf, tfl } from "../models/helpers.ts";
import { randn } from "../helpers/random.ts";

beforeAll(setup);

/** Give every BN non-trivial γ, β, moving mean and variance (a fresh BN is the identity). */
function randomizeBN(m: tfl.LayersModel, seed: number) {
  for (const l of m.layers) {
    if (l.getClassName() !== "BatchNormalization") continue;
    l.setWeights(l.weights.map((w) => {
      const r = randn(w.shape.reduce((a, b) => a! * b!, 1)!, seed++);
      const v = /variance/.test(w.name) ? r.map((x) => 0.2 + x * x) : /gamma/.test(w.name) ? r.map((x) => 1 + 0.5 * x) : r;
      return tf.tensor(v, w.shape as number[]);
    }));
  }
}

async function check(m: tfl.LayersModel, inShape: number[], expectFolded: number) {
  randomizeBN(m, 5);
  const a = await modelToArtifacts(m);
  const before = JSON.stringify(a.modelTopology);
  const r = foldBatchNorm(a);
  expect(JSON.stringify(a.modelTopology)).toBe(before); // input untouched
  expect(r.folded.length).toBe(expectFolded);
  const f = await artifactsToModel(r.artifacts);
  const bnLeft = f.layers.filter((l) => l.getClassName() === "BatchNormalization").length;
  expect(bnLeft).toBe(m.layers.filter((l) => l.getClassName() === "BatchNormalization").length - expectFolded);
  const x = randomInput([3, ...inShape], 7);
  expect(predictionError(m, f, x)).toBeLessThan(1e-5);
  x.dispose();
  f.dispose();
  m.dispose();
  return r;
}

describe("foldBatchNorm, Sequential", () => {
  for (const useBias of [true, false]) {
    it(`Conv2D → BN → ReLU, DepthwiseConv2D (multiplier 2) → BN, Dense → BN; bias=${useBias}`, async () => {
      const m = tfl.sequential({ layers: [
        tfl.layers.conv2d({ inputShape: [6, 5, 3], filters: 4, kernelSize: 3, padding: "same", useBias, name: "c1", biasInitializer: "randomNormal" }),
        tfl.layers.batchNormalization({ name: "bn1", epsilon: 1e-3 }),
        tfl.layers.reLU(),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, useBias, name: "dw", biasInitializer: "randomNormal" }),
        tfl.layers.batchNormalization({ name: "bn2", epsilon: 0.01 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5, useBias, name: "fc", biasInitializer: "randomNormal" }),
        tfl.layers.batchNormalization({ name: "bn3", center: false }),
      ] });
      const r = await check(m, [6, 5, 3], 3);
      expect(r.folded.map((f) => [f.batchNorm, f.into, f.biasCreated])).toEqual([["bn1", "c1", !useBias], ["bn2", "dw", !useBias], ["bn3", "fc", !useBias]]);
    });
  }

  it("keeps a BN after an activation, after a non-foldable layer, and first in the model", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.batchNormalization({ inputShape: [4, 4, 2], name: "bn0" }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 1, activation: "relu", name: "c" }),
      tfl.layers.batchNormalization({ name: "bn1" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.batchNormalization({ name: "bn2" }),
    ] });
    const r = await check(m, [4, 4, 2], 0);
    expect(r.kept.map((k) => k.batchNorm)).toEqual(["bn0", "bn1", "bn2"]);
    expect(r.kept[1].reason).toMatch(/activation 'relu'/);
    expect(r.kept[2].reason).toMatch(/MaxPooling2D/);
  });
});

describe("foldBatchNorm, functional", () => {
  for (const useBias of [true, false]) {
    it(`residual block: conv → BN → add, depthwise → BN, BN sole consumer; bias=${useBias}`, async () => {
      const inp = tfl.input({ shape: [6, 6, 4] });
      const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias, name: "c1" }).apply(inp) as tfl.SymbolicTensor;
      const b1 = tfl.layers.batchNormalization({ name: "bn1" }).apply(c1) as tfl.SymbolicTensor;
      const r1 = tfl.layers.reLU().apply(b1) as tfl.SymbolicTensor;
      const dw = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias, name: "dw" }).apply(r1) as tfl.SymbolicTensor;
      const b2 = tfl.layers.batchNormalization({ name: "bn2" }).apply(dw) as tfl.SymbolicTensor;
      const add = tfl.layers.add().apply([b2, inp]) as tfl.SymbolicTensor;
      const flat = tfl.layers.globalAveragePooling2d({}).apply(add) as tfl.SymbolicTensor;
      const d = tfl.layers.dense({ units: 3, useBias, name: "fc" }).apply(flat) as tfl.SymbolicTensor;
      const b3 = tfl.layers.batchNormalization({ name: "bn3" }).apply(d) as tfl.SymbolicTensor;
      const m = tfl.model({ inputs: inp, outputs: b3 });
      const r = await check(m, [6, 6, 4], 3);
      expect(r.folded.map((f) => f.into)).toEqual(["c1", "dw", "fc"]);
    });
  }

  it("keeps a BN whose conv output has another consumer or is a model output", async () => {
    const inp = tfl.input({ shape: [5, 5, 2] });
    const c1 = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: "c1" }).apply(inp) as tfl.SymbolicTensor;
    const b1 = tfl.layers.batchNormalization({ name: "bn1" }).apply(c1) as tfl.SymbolicTensor;
    const add = tfl.layers.add().apply([b1, c1]) as tfl.SymbolicTensor; // c1 used twice
    const c2 = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: "c2" }).apply(add) as tfl.SymbolicTensor;
    const b2 = tfl.layers.batchNormalization({ name: "bn2" }).apply(c2) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: inp, outputs: [b2, c2] }); // c2 is an output too
    const r = await check(m, [5, 5, 2], 0);
    expect(r.kept.map((k) => k.reason)).toEqual([expect.stringMatching(/also used by/), expect.stringMatching(/model output/)]);
  });
});
