import { beforeAll, describe, expect, it } from "vitest";
import { lowRankMatmul, matmul, ready, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { randn } from "../helpers/random.ts";
import { relErr } from "../helpers/reference.ts";

beforeAll(() => ready());

const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });

/** float64 reference: (x·u)·v + bias. */
function refLowRank(x: Tensor, u: Tensor, v: Tensor, bias?: Tensor): Float64Array {
  const [m, k] = x.shape, r = u.shape[1], n = v.shape[1];
  const t = new Float64Array(m * r);
  for (let i = 0; i < m; i++) for (let q = 0; q < r; q++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += x.data[i * k + p] * u.data[p * r + q];
    t[i * r + q] = s;
  }
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = bias ? bias.data[j] : 0;
    for (let q = 0; q < r; q++) s += t[i * r + q] * v.data[q * n + j];
    y[i * n + j] = s;
  }
  return y;
}

describe("lowRankMatmul", () => {
  it("agrees with the float64 reference with and without bias over SIMD and tile edges", () => {
    const cases: [number, number, number, number][] = [
      // m, k, r, n
      [1, 1, 1, 1], [2, 3, 1, 5], [3, 4, 2, 7], [4, 5, 3, 8], [5, 7, 4, 17], [7, 8, 5, 33], [8, 17, 7, 64],
      [17, 33, 8, 65], [33, 64, 17, 129], [65, 129, 33, 64], [129, 65, 64, 33], [64, 257, 17, 257], [257, 300, 65, 9],
    ];
    let seed = 1;
    for (const [m, k, r, n] of cases) {
      const x = mk(m, k, seed++), u = mk(k, r, seed++), v = mk(r, n, seed++);
      const bias: Tensor = { data: randn(n, seed++), shape: [n] };
      for (const b of [undefined, bias]) {
        const y = lowRankMatmul(x, u, v, b);
        expect(y.shape).toEqual([m, n]);
        const err = relErr(y.data, refLowRank(x, u, v, b));
        if (!(err < 1e-5)) throw new Error(`m=${m} k=${k} r=${r} n=${n} bias=${!!b}: relErr ${err}`);
      }
    }
  });

  it("equals the dense product with W = U·V, and bias is added once per row", () => {
    const x = mk(40, 96, 1), u = mk(96, 12, 2), v = mk(12, 50, 3);
    const dense = matmul(x, matmul(u, v));
    expect(relErr(lowRankMatmul(x, u, v).data, dense.data)).toBeLessThan(1e-5);
    const ones: Tensor = { data: new Float32Array(50).fill(1), shape: [50] };
    const y = lowRankMatmul(x, u, v, ones), y0 = lowRankMatmul(x, u, v);
    for (let i = 0; i < y.data.length; i++) expect(y.data[i] - y0.data[i]).toBeCloseTo(1, 4);
  });

  it("gives exactly the bias for a zero input", () => {
    const bias: Tensor = { data: new Float32Array([1, -2, 3, 0.5, 7]), shape: [5] };
    const y = lowRankMatmul({ data: new Float32Array(3 * 6), shape: [3, 6] }, mk(6, 2, 1), mk(2, 5, 2), bias);
    for (let i = 0; i < 3; i++) expect(Array.from(y.data.slice(i * 5, i * 5 + 5))).toEqual(Array.from(bias.data));
  });

  it("rejects mismatched shapes, naming the shapes and what was expected", () => {
    expect(() => lowRankMatmul(mk(4, 6, 1), mk(5, 2, 2), mk(2, 3, 3))).toThrow(/u has shape \[5,2\] but x \[4,6\] needs u of shape \[6, r\]/);
    expect(() => lowRankMatmul(mk(4, 6, 1), mk(6, 2, 2), mk(3, 3, 3))).toThrow(/v has shape \[3,3\] but u \[6,2\] needs v of shape \[2, n\]/);
    const bias = { data: new Float32Array(4), shape: [4] };
    expect(() => lowRankMatmul(mk(4, 6, 1), mk(6, 2, 2), mk(2, 3, 3), bias)).toThrow(/bias has shape \[4\] but v \[2,3\] needs a bias of shape \[3\]/);
    expect(() => lowRankMatmul(mk(4, 6, 1), mk(6, 2, 2), mk(2, 3, 3), mk(1, 3, 4))).toThrow(/bias has shape \[1,3\].*shape \[3\]/);
    expect(() => lowRankMatmul({ data: new Float32Array(6), shape: [6] }, mk(6, 2, 2), mk(2, 3, 3))).toThrow(/x must have 2 axes, got shape \[6\]/);
    expect(() => lowRankMatmul(mk(4, 6, 1), { data: new Float32Array(0), shape: [6, 0] }, mk(2, 3, 3))).toThrow(/u.shape \[6,0\] has dimension 0/);
  });

  it("rejects NaN and Inf in any input, naming which and where", () => {
    const x = mk(3, 4, 1), u = mk(4, 2, 2), v = mk(2, 5, 3);
    const bad = (t: Tensor, i: number, val: number): Tensor => { const c = { data: t.data.slice(), shape: t.shape }; c.data[i] = val; return c; };
    expect(() => lowRankMatmul(bad(x, 5, NaN), u, v)).toThrow(/x has a non-finite value \(NaN\) at flat index 5/);
    expect(() => lowRankMatmul(x, bad(u, 7, Infinity), v)).toThrow(/u has a non-finite value \(Infinity\) at flat index 7/);
    expect(() => lowRankMatmul(x, u, bad(v, 0, -Infinity))).toThrow(/v has a non-finite value \(-Infinity\) at flat index 0/);
    expect(() => lowRankMatmul(x, u, v, { data: new Float32Array([0, 0, NaN, 0, 0]), shape: [5] })).toThrow(/bias has a non-finite value \(NaN\) at flat index 2/);
  });

  it("does not grow memory across repeated calls", () => {
    const x = mk(128, 256, 1), u = mk(256, 32, 2), v = mk(32, 256, 3);
    const bias: Tensor = { data: randn(256, 4), shape: [256] };
    lowRankMatmul(x, u, v, bias);
    const before = wasmMemoryBytes();
    for (let i = 0; i < 10; i++) lowRankMatmul(x, u, v, i % 2 ? bias : undefined);
    expect(wasmMemoryBytes()).toBe(before);
  });
});
