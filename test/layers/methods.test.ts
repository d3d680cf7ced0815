// The method registry: every built-in method's spec is consistent with what
// it builds (chain length, kernel names, closed-form cost = chain cost, fold ∘
// kernels = the kernel at full rank), and a method added from this file (one
// spec object, registered here) is usable through the public API and the CLI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compress, reconstruct } from "../../src/models/index.ts";
import { REGISTRY, cliMethods, convMethodNames, registerMethod, unregisterMethod, type MethodSpec } from "../../src/layers/methods/index.ts";
import { channel } from "../../src/layers/methods/channel.ts";
import { buildChain, chainLayerName, chainLayerNames, parseChainName } from "../../src/layers/chain.ts";
import { chainCost, methodCost } from "../../src/layers/cost.ts";
import { chainKernels } from "../../src/layers/factorize.ts";
import { kernelRelativeError as relativeError } from "../../src/layers/layout.ts";
import type { FactorizableLayer } from "../../src/layers/types.ts";
import { compressOptions } from "../../src/cli/commands.ts";
import { program } from "../../src/cli/main.ts";
import { convModel, predictionError, randomInput, rnd, setup, tf } from "../models/helpers.ts";
import { run, saved, tmp } from "../cli/helpers.ts";

beforeAll(setup);

const dense: FactorizableLayer = { className: "Dense", name: "d", config: { units: 7 }, kernel: rnd([9, 7], 1), bias: rnd([7], 2) };
const conv: FactorizableLayer = {
  className: "Conv2D", name: "c", config: { filters: 6, kernel_size: [3, 3], strides: [2, 1], padding: "same" },
  kernel: rnd([3, 3, 5, 6], 3), bias: null,
};

const separableLayer: FactorizableLayer = {
  className: "SeparableConv2D", name: "sp", config: { filters: 6, kernel_size: [3, 3], strides: [2, 1], padding: "same", depth_multiplier: 2 },
  kernel: rnd([1, 1, 10, 6], 4), depthwise: rnd([3, 3, 5, 2], 5), bias: rnd([6], 6),
};
const transposedLayer: FactorizableLayer = {
  className: "Conv2DTranspose", name: "tc", config: { filters: 4, kernel_size: [3, 3], strides: [2, 1], padding: "same" },
  kernel: rnd([3, 3, 4, 5], 7), bias: null,
};
const layerFor: Record<string, FactorizableLayer> = { Dense: dense, Conv2D: conv, SeparableConv2D: separableLayer, Conv2DTranspose: transposedLayer };

describe("built-in method specs", () => {
  it("lists the eight methods in their historic order, Conv2D ones in the CLI's", () => {
    expect(Object.keys(REGISTRY)).toEqual(["svd", "tucker2", "tucker1", "cp", "spatial-svd", "channel-svd", "separable-svd", "transpose-svd"]);
    expect(convMethodNames()).toEqual(["tucker2", "tucker1", "cp", "spatial-svd", "channel-svd"]);
    const cli = cliMethods();
    expect(cli.help).toBe("Conv2D method: tucker2, cp, svd (channel SVD), spatial, channel, tucker1 or auto");
    expect(cli.listed).toEqual(["tucker2", "cp", "svd", "spatial", "channel", "tucker1", "auto"]);
    expect(cli.aliases).toEqual({
      auto: "auto", tucker2: "tucker2", tucker1: "tucker1", cp: "cp", "spatial-svd": "spatial-svd", spatial: "spatial-svd",
      "channel-svd": "channel-svd", channel: "channel-svd", svd: "channel-svd",
    });
  });

  for (const spec of Object.values(REGISTRY)) {
    it(`${spec.name}: chain of ${spec.chainLength}, names parse back, cost = chain cost, exact at full rank`, () => {
      const layer = layerFor[spec.appliesTo];
      const inShape = spec.appliesTo === "Dense" ? [9] : [7, 6, 5];
      const max = spec.maxRanks(layer);
      expect(max.length).toBe(spec.ranks);
      const k = chainKernels(layer, spec.name, max);
      expect(Object.keys(k).filter((x) => x !== "method")).toEqual(spec.kernelNames);
      const chain = buildChain(layer, k);
      expect(chain.length).toBe(spec.chainLength);
      expect(chain.map((c) => c.name)).toEqual(chainLayerNames(layer.name, spec.name));
      for (const [i, c] of chain.entries()) expect(parseChainName(c.name)).toEqual({ original: layer.name, method: spec.name, index: i });
      expect(methodCost(layer, spec.name, max, inShape)).toEqual({ params: chainCost(chain, inShape).params, flops: chainCost(chain, inShape).flops });
      const folded = spec.fold(chain.map((c) => c.weights[0].value));
      // CP-ALS at its bounding rank is not exact; the others reproduce the kernel.
      expect(relativeError(folded, layer.kernel)).toBeLessThan(spec.name === "cp" ? 0.5 : 1e-4);
      expect(spec.spectra(layer).spectra.length).toBe(spec.rankRule === "pooled" ? 2 : spec.ranks);
    });
  }

  it("rejects clashing registrations with messages that name the clash", () => {
    expect(() => registerMethod({ ...channel })).toThrow("method 'channel-svd' is already registered");
    expect(() => registerMethod({ ...channel, name: "x" })).toThrow("method 'x' has token 'channel', already used by 'channel-svd'");
    expect(() => registerMethod({ ...channel, name: "x", token: "x_1" })).toThrow("has token 'x_1'; expected lower-case letters and digits");
    expect(() => registerMethod({ ...channel, name: "x", token: "xx", cli: { aliases: ["spatial"], shown: [] } })).toThrow("CLI name 'spatial' is already taken");
    expect(() => unregisterMethod("svd")).toThrow("method 'svd' is built in");
    expect(Object.keys(REGISTRY)).toHaveLength(8);
  });
});

// ---- a throwaway method, added from this file only --------------------------------------------

/**
 * "scaled-channel": the channel-SVD chain with the spatial kernel doubled and the pointwise one halved
 * (same product, different chain weights), so the test can tell its kernels from channel-svd's.
 */
const scaledChannel: MethodSpec = {
  ...channel,
  name: "scaled-channel", token: "scaledch", chain: "k×k S→R (×2) → 1×1 R→T (×½)",
  cli: { aliases: ["sch"], shown: [{ name: "scaled-channel", at: 10, note: "test method" }] },
  kernels(layer, ranks, o) {
    const k = channel.kernels(layer, ranks, o);
    const twice = (t: typeof k.spatial, f: number) => ({ data: t.data.map((x) => x * f), shape: t.shape });
    return { spatial: twice(k.spatial, 2), pointwise: twice(k.pointwise, 0.5) };
  },
};

describe("a method registered from a test file", () => {
  beforeAll(() => { registerMethod(scaledChannel); });
  afterAll(() => unregisterMethod("scaled-channel"));

  it("compresses a model through compress() and reconstructs it by its chain names", async () => {
    const m = convModel({ h: 6, w: 6, s: 4, t: 5, k: [3, 3], padding: "same", activation: "relu", useBias: true, seed: 3 });
    const r = await compress(m, { convMethod: "scaled-channel", select: { kind: "full" } });
    expect(r.plan.entries.map((e) => [e.method, e.action])).toEqual([["scaled-channel", "factorize"]]);
    expect(r.model.layers.map((l) => l.name)).toEqual([chainLayerName("conv", "scaled-channel", 0), chainLayerName("conv", "scaled-channel", 1)]);
    expect(r.model.layers[0].name).toBe("conv__odc_scaledch_0");
    const plain = await compress(m, { convMethod: "channel-svd", select: { kind: "full" } });
    const w = (x: typeof m) => x.layers[0].getWeights()[0].dataSync();
    expect(Array.from(w(r.model))).toEqual(Array.from(w(plain.model), (v) => Math.fround(v * 2)));
    const x = randomInput([2, 6, 6, 4], 7);
    expect(predictionError(m, r.model, x)).toBeLessThan(1e-4);
    const back = await reconstruct(r.model);
    expect(back.folded).toEqual([{ layer: "conv", method: "scaled-channel", chain: ["conv__odc_scaledch_0", "conv__odc_scaledch_1"] }]);
    expect(predictionError(m, back.model, x)).toBeLessThan(1e-4);
    tf.dispose(x);
    for (const mm of [m, r.model, plain.model, back.model]) mm.dispose();
  });

  it("is listed and accepted by the CLI", async () => {
    const help = program({ out: () => {}, err: () => {} }).commands.find((c) => c.name() === "compress")!.helpInformation();
    expect(help.replace(/\s+/g, " ")).toContain("Conv2D method: tucker2, cp, svd (channel SVD), spatial, channel, tucker1, scaled-channel (test method) or auto");
    expect(compressOptions({ method: "sch" }).convMethod).toBe("scaled-channel");
    const bad = await run("inspect", "nowhere", "--method", "nope");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("expected one of tucker2, cp, svd, spatial, channel, tucker1, scaled-channel, auto");
    const m = convModel({ h: 6, w: 6, s: 4, t: 5, k: [3, 3], padding: "same", activation: "linear", useBias: true, seed: 4 });
    const dir = await saved(m);
    const out = join(tmp(), "c");
    const r = await run("compress", dir, "--out", out, "--method", "scaled-channel", "--rank-rule", "full");
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, "plan.json"), "utf8"));
    expect(plan.entries[0].method).toBe("scaled-channel");
    const ins = await run("inspect", dir, "--json");
    expect(ins.code, ins.err).toBe(0);
    expect(Object.keys(JSON.parse(ins.out).totals)).toEqual(["auto", "tucker2", "tucker1", "cp", "spatial-svd", "channel-svd", "scaled-channel"]);
    m.dispose();
  });
});
