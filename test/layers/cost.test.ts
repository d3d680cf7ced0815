// Parameter and FLOP counts: closed forms equal counts over the built chains,
// equal hand counts, and the parameter counts equal what tfjs reports.
import { beforeAll, describe, expect, it } from "vitest";
import { buildChain } from "../../src/layers/chain.ts";
import { chainCost, layerCost, methodCost, convOutLength } from "../../src/layers/cost.ts";
import type { FactorizableLayer, Method } from "../../src/layers/types.ts";
import { artifactsToModel } from "../../src/models/convert.ts";
import { plantedKernels, rnd, setup } from "../models/helpers.ts";

beforeAll(setup);

const conv = (kh: number, kw: number, s: number, t: number, cfg: Record<string, unknown>, bias = true): FactorizableLayer => ({
  className: "Conv2D", name: "c", kernel: rnd([kh, kw, s, t], 1), bias: bias ? rnd([t], 2) : null,
  config: { name: "c", filters: t, kernel_size: [kh, kw], strides: [1, 1], padding: "valid", dilation_rate: [1, 1], activation: "linear", use_bias: bias, ...cfg },
});

describe("costs", () => {
  it("tfjs output lengths", () => {
    expect(convOutLength(7, 3, 2, 1, "same")).toBe(4);
    expect(convOutLength(7, 3, 2, 1, "valid")).toBe(3);
    expect(convOutLength(8, 3, 1, 2, "valid")).toBe(4);
    expect(convOutLength(10, 4, 3, 1, "same")).toBe(4);
  });

  it("hand counts: Dense 100→50 at rank 10; Conv 3×3 16→32 on 8×8 'same' and its Tucker-2 [4, 8]", () => {
    const d: FactorizableLayer = { className: "Dense", name: "d", kernel: rnd([100, 50], 1), bias: rnd([50], 2), config: { name: "d", units: 50 } };
    expect(layerCost(d, [100])).toMatchObject({ params: 5050, flops: 2 * 5000 });
    expect(methodCost(d, "svd", [10], [100])).toEqual({ params: 10 * 150 + 50, flops: 2 * 1500 });
    expect(methodCost(d, "svd", [10], [7, 100]).flops).toBe(2 * 7 * 1500); // Dense on [7, 100] runs 7 times
    const c = conv(3, 3, 16, 32, { padding: "same" });
    expect(layerCost(c, [8, 8, 16])).toMatchObject({ params: 9 * 16 * 32 + 32, flops: 2 * 64 * 9 * 16 * 32 });
    expect(methodCost(c, "tucker2", [4, 8], [8, 8, 16])).toEqual({
      params: 16 * 4 + 9 * 4 * 8 + 8 * 32 + 32,
      flops: 2 * (64 * 16 * 4 + 64 * 9 * 4 * 8 + 64 * 8 * 32),
    });
    // CP rank 6 with stride 2: 1×1 at 8×8, k×1 → 4×8, 1×k → 4×4, 1×1 at 4×4
    const cs = conv(3, 3, 16, 32, { padding: "same", strides: [2, 2] });
    expect(methodCost(cs, "cp", [6], [8, 8, 16])).toEqual({
      params: 6 * (16 + 3 + 3 + 32) + 32,
      flops: 2 * (64 * 16 * 6 + 32 * 3 * 6 + 16 * 3 * 6 + 16 * 6 * 32),
    });
  });

  const cases: { layer: FactorizableLayer; inShape: number[] }[] = [
    { layer: conv(3, 3, 5, 7, { padding: "same", strides: [2, 1] }), inShape: [9, 8, 5] },
    { layer: conv(4, 2, 6, 3, { padding: "valid", dilation_rate: [2, 1] }, false), inShape: [11, 7, 6] },
    { layer: conv(5, 5, 4, 9, { padding: "same", strides: [3, 2] }), inShape: [13, 10, 4] },
  ];
  const methods: { method: Method; ranks: number[] }[] = [
    { method: "tucker2", ranks: [2, 3] }, { method: "tucker1", ranks: [3] }, { method: "channel-svd", ranks: [2] },
    { method: "spatial-svd", ranks: [4] }, { method: "cp", ranks: [5] },
  ];
  for (const [ci, c] of cases.entries()) {
    for (const { method, ranks } of methods) {
      const dilated = (c.layer.config.dilation_rate as number[])[0] > 1;
      if (method === "cp" && dilated) continue;
      it(`closed form = chain count = tfjs countParams: case ${ci}, ${method}`, async () => {
        const chain = buildChain(c.layer, plantedKernels(c.layer, method, ranks, 3));
        const closed = methodCost(c.layer, method, ranks, c.inShape);
        const counted = chainCost(chain, c.inShape);
        expect(closed.params).toBe(counted.params);
        expect(closed.flops).toBe(counted.flops);
        expect(counted.outShape).toEqual(layerCost(c.layer, c.inShape).outShape);
        // tfjs agrees on parameters and output shape of the chain
        const { encodeWeights } = await import("../../src/compress/artifacts.ts");
        const layers = chain.map((s, i) => ({ class_name: s.className, config: i === 0 ? { ...s.config, batch_input_shape: [null, ...c.inShape] } : s.config }));
        const w = encodeWeights(chain.flatMap((s) => s.weights.map((x) => ({ name: `${s.name}/${x.name}`, value: x.value }))));
        const m = await artifactsToModel({ modelTopology: { class_name: "Sequential", config: { name: "s", layers } }, ...w, format: "layers-model" });
        expect(m.countParams()).toBe(counted.params);
        expect(m.outputs[0].shape.slice(1)).toEqual(counted.outShape);
        m.dispose();
      });
    }
  }
});
