// The FactorizedTensor base: one rank getter, the shared parameter / error answers, and the
// encode/decode pair the worker relies on (through the class table in src/decompose/registry.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { CPTensor, FactorizedTensor, TTTensor, TuckerTensor, cp, ready, tt, tucker } from "../../src/index.ts";
import { FACTORIZED_CLASSES, decodeFactorized, encodeFactorized } from "../../src/decompose/registry.ts";
import { CORE_FUNCTIONS, decodeResult, encodeResult } from "../../src/worker/protocol.ts";
import type { Tensor } from "../../src/core/tensor.ts";

const rand = (shape: number[], seed = 1): Tensor => {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = s / 2 ** 32 - 0.5; }
  return { data, shape };
};

describe("FactorizedTensor", () => {
  beforeAll(() => ready());
  const x = rand([6, 5, 4]);
  const all = () => [tucker(x, { rank: [3, 2, 2] }), cp(x, { rank: 3, maxIter: 5 }), tt(x, { rank: 3 })];

  it("is the base of every decomposition result, with one rank getter", () => {
    const [t, c, r] = all();
    for (const d of [t, c, r]) expect(d).toBeInstanceOf(FactorizedTensor);
    expect(t.ranks).toEqual([3, 2, 2]);
    expect(c.ranks).toEqual([3]);
    expect((c as CPTensor).rank).toBe(3); // deprecated alias
    expect(r.ranks).toEqual([1, 3, 3, 1]);
  });

  it("answers nParams, increasesParams and relativeError the same way for every class", () => {
    for (const d of all()) {
      const dense = d.toDense();
      expect(dense.shape).toEqual(x.shape);
      expect(d.increasesParams).toBe(d.nParams() > 120);
      const err = d.relativeError(x);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(1);
      expect(d.relativeError(dense)).toBeLessThan(1e-6);
      expect(() => d.relativeError(rand([6, 5]))).toThrow(new RegExp(`${d.kind}\\.relativeError: original has shape \\[6,5\\]`));
    }
  });

  it("round-trips through the encoded form, bit for bit, for every class in the table", () => {
    const made = all();
    expect(new Set(made.map((d) => d.kind))).toEqual(new Set(Object.keys(FACTORIZED_CLASSES)));
    for (const d of made) {
      const e = encodeResult(d) as { $class: string };
      expect(e.$class).toBe(d.kind);
      expect(Object.getPrototypeOf(e)).toBe(Object.prototype); // plain data: survives structured clone
      const back = decodeResult(structuredClone(e)) as FactorizedTensor;
      expect(back).toBeInstanceOf(FACTORIZED_CLASSES[d.kind as keyof typeof FACTORIZED_CLASSES]);
      expect(back.ranks).toEqual(d.ranks);
      expect(back.toDense().data).toEqual(d.toDense().data);
    }
    expect(decodeFactorized({ $class: "Nope", x: 1 })).toEqual({ $class: "Nope", x: 1 });
    expect(encodeFactorized(3)).toBe(3);
    expect([TuckerTensor, CPTensor, TTTensor].every((c) => typeof c.decode === "function")).toBe(true);
  });

  it("the worker proxies one list of functions, each a function of the root export", async () => {
    const root = (await import("../../src/index.ts")) as unknown as Record<string, unknown>;
    expect(CORE_FUNCTIONS).toEqual(["matmul", "lowRankMatmul", "qr", "eigh", "svd", "singularValues", "tucker", "cp", "tt"]);
    for (const name of CORE_FUNCTIONS) expect(typeof root[name], name).toBe("function");
  });
});
