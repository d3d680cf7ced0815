// FLOP counts of the kept layer kinds equal hand counts, and reach the plan totals.
import { beforeAll, describe, expect, it } from "vitest";
import { layerFlops } from "../../src/layers/flops.ts";
import { planCompression } from "../../src/models/index.ts";
import { rnd, setup, tfl } from "../models/helpers.ts";

beforeAll(setup);

const z = (shape: number[]) => rnd(shape, 1);

describe("layerFlops hand counts", () => {
  it("DepthwiseConv2D 3×3, multiplier 2, stride 2 'same' on 9×8×5", () => {
    // out 5×4; per output pixel 3·3·5·2 MACs
    expect(layerFlops("DepthwiseConv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "same" }, { depthwise_kernel: z([3, 3, 5, 2]) }, [9, 8, 5])).toBe(2 * 5 * 4 * 9 * 5 * 2);
  });
  it("SeparableConv2D 3×3 'valid' on 7×7×4, multiplier 1, 6 filters", () => {
    // out 5×5; depthwise 9·4 + pointwise 4·6 MACs per pixel
    expect(layerFlops("SeparableConv2D", { kernel_size: [3, 3], padding: "valid" }, { depthwise_kernel: z([3, 3, 4, 1]), pointwise_kernel: z([1, 1, 4, 6]) }, [7, 7, 4])).toBe(2 * 25 * (36 + 24));
  });
  it("Conv1D k=3, stride 2, 'valid' and 'causal' on 10×4 → 8 filters", () => {
    // valid: (10 − 3 + 1)/2 → 4 outputs; causal keeps ⌈10/2⌉ = 5
    expect(layerFlops("Conv1D", { kernel_size: [3], strides: [2], padding: "valid" }, { kernel: z([3, 4, 8]) }, [10, 4])).toBe(2 * 4 * 3 * 4 * 8);
    expect(layerFlops("Conv1D", { kernel_size: 3, strides: 2, padding: "causal" }, { kernel: z([3, 4, 8]) }, [10, 4])).toBe(2 * 5 * 3 * 4 * 8);
  });
  it("Conv2DTranspose 3×3 stride 2 on 4×5×6 → 3 filters (kernel [kh, kw, T, C])", () => {
    // each of the 4·5 input pixels scatters 3·3·3 outputs per input channel
    expect(layerFlops("Conv2DTranspose", { kernel_size: [3, 3], strides: [2, 2], padding: "same" }, { kernel: z([3, 3, 3, 6]) }, [4, 5, 6])).toBe(2 * 20 * 9 * 3 * 6);
  });
  it("Conv2D channels_first: input [C, H, W]", () => {
    const cf = layerFlops("Conv2D", { kernel_size: [3, 3], padding: "same", data_format: "channels_first" }, { kernel: z([3, 3, 4, 7]) }, [4, 6, 5]);
    const cl = layerFlops("Conv2D", { kernel_size: [3, 3], padding: "same" }, { kernel: z([3, 3, 4, 7]) }, [6, 5, 4]);
    expect(cf).toBe(2 * 30 * 9 * 4 * 7);
    expect(cl).toBe(cf);
  });
  it("unknown kinds, missing weights and wrong input ranks count 0", () => {
    expect(layerFlops("LSTM", {}, { kernel: z([4, 16]) }, [5, 4])).toBe(0);
    expect(layerFlops("DepthwiseConv2D", { kernel_size: 3 }, {}, [5, 5, 2])).toBe(0);
    expect(layerFlops("Conv2D", { kernel_size: 3 }, { kernel: z([3, 3, 2, 2]) }, [5, 2])).toBe(0);
  });
});

describe("plan totals count kept kinds", () => {
  it("a model with SeparableConv2D, DepthwiseConv2D, Conv2DTranspose and Conv1D reports their FLOPs", async () => {
    const m = tfl.sequential({ layers: [
      tfl.layers.separableConv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: "same" }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: "valid", depthMultiplier: 2 }),
      tfl.layers.conv2dTranspose({ filters: 5, kernelSize: 2, strides: 2, padding: "same" }),
      tfl.layers.reshape({ targetShape: [12 * 12, 5] }),
      tfl.layers.conv1d({ filters: 3, kernelSize: 3 }),
    ] });
    const { plan } = await planCompression(m, { select: { kind: "full" } });
    const byName = Object.fromEntries(plan.entries.map((e) => [e.kind, e.flopsBefore]));
    expect(byName.SeparableConv2D).toBe(2 * 64 * (9 * 3 + 3 * 4));
    expect(byName.DepthwiseConv2D).toBe(2 * 36 * 9 * 4 * 2);
    expect(byName.Conv2DTranspose).toBe(2 * 36 * 4 * 5 * 8);
    expect(byName.Conv1D).toBe(2 * 142 * 3 * 5 * 3);
    expect(plan.totals.flopsBefore).toBe(Object.values(byName).reduce((a, b) => a + b, 0));
    // tfjs agrees on the output shapes the counts assume
    expect(m.layers.map((l) => (l.outputShape as number[]).slice(1))).toEqual([[8, 8, 4], [6, 6, 8], [12, 12, 5], [144, 5], [142, 3]]);
    m.dispose();
  });
});
