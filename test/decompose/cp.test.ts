import { beforeAll, describe, expect, it } from "vitest";
import { cp, CPTensor, ready, tt, wasmMemoryBytes } from "../../src/index.ts";
import { addNoise, plantedCP, randTensor } from "../helpers/tensors.ts";

beforeAll(() => ready());

const nonIncreasing = (h: number[]) => h.every((e, i) => i === 0 || e <= h[i - 1] + 1e-5);

describe("cp", () => {
  it("recovers a planted rank-5 tensor to ≤ 1e-4 with a non-increasing error history", () => {
    const x = plantedCP([9, 7, 5], 5, 1);
    const d = cp(x, { rank: 5, maxIter: 300 });
    expect(d).toBeInstanceOf(CPTensor);
    expect(d.relativeError(x)).toBeLessThan(1e-4);
    expect(d.errorHistory.length).toBe(d.iterations);
    expect(nonIncreasing(d.errorHistory)).toBe(true);
    expect(Math.abs(d.errorHistory[d.iterations - 1] - d.relativeError(x))).toBeLessThan(1e-5);
    // unit-norm columns, weights carry the scale
    for (const f of d.factors) {
      for (let r = 0; r < 5; r++) {
        let s = 0;
        for (let i = 0; i < f.shape[0]; i++) s += f.data[i * 5 + r] ** 2;
        expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-5);
      }
    }
    expect(d.nParams()).toBe(5 * (9 + 7 + 5 + 1));
  });

  it("recovers a planted rank-32 (64,64,3,3) tensor to ≤ 1e-3 (where plain ALS stalls)", () => {
    const x = plantedCP([64, 64, 3, 3], 32, 2);
    const d = cp(x, { rank: 32, maxIter: 300 });
    expect(d.relativeError(x)).toBeLessThan(1e-3);
    expect(nonIncreasing(d.errorHistory)).toBe(true);
    // without extrapolation the same budget of 100 sweeps stays far higher
    const plain = cp(x, { rank: 32, maxIter: 100, lineSearch: false, proximal: 0, restarts: 0 });
    expect(plain.relativeError(x)).toBeGreaterThan(1e-2);
  });

  it("with noise the error is about the noise level", () => {
    const clean = plantedCP([20, 15, 3, 3], 6, 3);
    const noisy = addNoise(clean, 0.05, 4);
    const d = cp(noisy, { rank: 6, maxIter: 300 });
    expect(d.relativeError(noisy)).toBeLessThan(0.05);
    expect(d.relativeError(noisy)).toBeGreaterThan(0.04);
    expect(d.relativeError(clean)).toBeLessThan(0.03);
  });

  it("random init works and results are deterministic for a seed", () => {
    const x = plantedCP([8, 6, 5], 3, 5);
    const a = cp(x, { rank: 3, init: "random", seed: 4, maxIter: 500 });
    expect(a.relativeError(x)).toBeLessThan(1e-4);
    const b = cp(x, { rank: 3, init: "random", seed: 4, maxIter: 500 });
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expect(b.errorHistory).toEqual(a.errorHistory);
    const c = cp(x, { rank: 3, init: "random", seed: 5, maxIter: 2 });
    expect(Array.from(c.factors[0].data)).not.toEqual(Array.from(cp(x, { rank: 3, init: "random", seed: 4, maxIter: 2 }).factors[0].data));
  });

  it("tol stops early; rank budgets are honoured", () => {
    const x = plantedCP([10, 10, 10], 4, 6);
    const d = cp(x, { rank: 4, tol: 1e-2 });
    expect(d.iterations).toBeLessThan(100);
    const t = randTensor([16, 12, 3, 3], 7);
    for (const f of [0.1, 0.5, 1]) {
      const e = cp(t, { rank: { fraction: f }, maxIter: 2 });
      expect(e.nParams()).toBeLessThanOrEqual(Math.floor(f * t.data.length));
      expect(cp(t, { rank: e.rank + 1, maxIter: 1 }).nParams()).toBeGreaterThan(Math.floor(f * t.data.length));
    }
  });

  it("rejects bad options with the value and what is allowed", () => {
    const t = randTensor([4, 5, 3], 8);
    expect(() => cp(t, { rank: 2, init: "svdd" as never })).toThrow(/unknown init "svdd"; expected one of 'svd', 'random'/);
    expect(() => cp(t, { rank: 0 })).toThrow(/rank 0 is invalid; expected a positive integer/);
    expect(() => cp(t, { rank: 1.5 })).toThrow(/rank 1.5 is invalid/);
    expect(() => cp(t, { rank: 2, tol: -1 })).toThrow(/tol must be a finite number in \[0, Infinity\], got -1/);
    expect(() => cp(t, { rank: { fraction: 0.01 } })).toThrow(/allows 0 parameters but rank 1 needs 13/);
    const bad = randTensor([3, 3, 3], 1);
    bad.data[0] = NaN;
    expect(() => cp(bad, { rank: 2 })).toThrow(/non-finite value \(NaN\) at flat index 0/);
  });

  it("does not grow wasm memory over repeated calls (CP and TT)", () => {
    const t = randTensor([12, 10, 3, 3], 9);
    cp(t, { rank: 4, maxIter: 5 });
    tt(t, { rank: 3 });
    const before = wasmMemoryBytes();
    for (let i = 0; i < 5; i++) { cp(t, { rank: 4, maxIter: 5 }); tt(t, { rank: 3 }); }
    expect(wasmMemoryBytes()).toBe(before);
  });
});
