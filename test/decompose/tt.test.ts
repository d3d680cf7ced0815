import { beforeAll, describe, expect, it } from "vitest";
import { ready, tt, TTTensor } from "../../src/index.ts";
import { addNoise, randTensor } from "../helpers/tensors.ts";
import { randn } from "../helpers/random.ts";

beforeAll(() => ready());

const plantedTT = (shape: number[], ranks: number[], seed: number) =>
  new TTTensor(shape.map((d, k) => ({ data: randn(ranks[k] * d * ranks[k + 1], seed + k), shape: [ranks[k], d, ranks[k + 1]] }))).toDense();

describe("tt", () => {
  it("recovers a planted TT tensor (16,16,16,16) rank 8 to ≤ 1e-4", () => {
    const x = plantedTT([16, 16, 16, 16], [1, 8, 8, 8, 1], 1);
    const d = tt(x, { rank: 8 });
    expect(d.ranks).toEqual([1, 8, 8, 8, 1]);
    expect(d.relativeError(x)).toBeLessThan(1e-4);
    expect(d.nParams()).toBe(16 * 8 + 8 * 16 * 8 * 2 + 8 * 16);
  });

  it("finds the ranks from a tolerance, including bonds wider than the remainder", () => {
    const x = plantedTT([3, 5, 7, 4, 2], [1, 3, 6, 5, 2, 1], 2);
    const d = tt(x, { tol: 1e-2 });
    expect(d.ranks).toEqual([1, 3, 6, 5, 2, 1]);
    expect(d.relativeError(x)).toBeLessThan(1e-4);
    const capped = tt(x, { tol: 1e-2, rank: [3, 4, 4, 2] });
    expect(capped.ranks).toEqual([1, 3, 4, 4, 2, 1]);
  });

  it("with noise the error tracks the noise level and respects tol", () => {
    const clean = plantedTT([8, 9, 10], [1, 4, 5, 1], 3);
    const noisy = addNoise(clean, 0.05, 4);
    const d = tt(noisy, { rank: [4, 5] });
    expect(d.relativeError(noisy)).toBeLessThan(0.05);
    expect(d.relativeError(noisy)).toBeGreaterThan(0.03);
    const r = randTensor([6, 7, 8], 5);
    for (const tol of [0.3, 0.6]) expect(tt(r, { tol }).relativeError(r)).toBeLessThanOrEqual(tol);
  });

  it("is exact at full rank on small odd sizes (1, 3, 5, 7)", () => {
    for (const shape of [[1, 3], [3, 1, 5], [5, 7, 3], [7, 5, 1, 3]]) {
      const t = randTensor(shape, 6);
      const d = tt(t, { rank: 1000 });
      expect(d.relativeError(t)).toBeLessThan(1e-5);
    }
  });

  it("rejects bad options", () => {
    const t = randTensor([4, 5, 3], 7);
    expect(() => tt(t, {})).toThrow(/expected a rank .* or a tolerance/);
    expect(() => tt(t, { rank: 0 })).toThrow(/rank 0 is invalid; expected an integer ≥ 1/);
    expect(() => tt(t, { rank: [2] })).toThrow(/rank \[2\] has 1 entries; expected 2 inner ranks/);
    expect(() => tt(t, { rank: [5, 2] })).toThrow(/rank 5 for bond 1 is invalid; expected an integer in 1…4/);
    expect(() => tt(t, { tol: 2 })).toThrow(/tol must be a finite number in \[0, 1\], got 2/);
  });
});
