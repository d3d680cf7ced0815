import { beforeAll, describe, expect, it } from "vitest";
import { matmul, ready, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { randn } from "../helpers/random.ts";
import { refMatmul, relErr } from "../helpers/reference.ts";

beforeAll(() => ready());

const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });

describe("matmul", () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 17, 33, 64, 65];
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      it(`agrees with the scalar reference (transposeA=${ta}, transposeB=${tb})`, () => {
        let seed = 1;
        for (const m of sizes) {
          for (const n of [1, 3, 5, 17, 64]) {
            for (const k of [1, 4, 7, 33]) {
              const a = ta ? mk(k, m, seed++) : mk(m, k, seed++);
              const b = tb ? mk(n, k, seed++) : mk(k, n, seed++);
              const c = matmul(a, b, { transposeA: ta, transposeB: tb });
              expect(c.shape).toEqual([m, n]);
              expect(relErr(c.data, refMatmul(a, b, ta, tb))).toBeLessThan(1e-5);
            }
          }
        }
      });
    }
  }

  it("rejects mismatched inner dimensions, naming both shapes", () => {
    expect(() => matmul(mk(3, 4, 1), mk(5, 2, 2))).toThrow(/inner dimensions differ.*\[3,4\].*\[5,2\]/);
  });

  it("rejects NaN and Inf, naming the index", () => {
    const a = mk(2, 2, 1);
    a.data[3] = NaN;
    expect(() => matmul(a, mk(2, 2, 2))).toThrow(/a has a non-finite value \(NaN\) at flat index 3/);
    const b = mk(2, 2, 2);
    b.data[1] = -Infinity;
    expect(() => matmul(mk(2, 2, 1), b)).toThrow(/b has a non-finite value \(-Infinity\) at flat index 1/);
  });

  it("rejects empty and malformed tensors", () => {
    expect(() => matmul({ data: new Float32Array(0), shape: [0, 3] }, mk(3, 3, 1))).toThrow(/dimension 0/);
    expect(() => matmul({ data: new Float32Array(5), shape: [2, 3] }, mk(3, 3, 1))).toThrow(/5 values but shape \[2,3\] needs 6/);
    expect(() => matmul({ data: [1, 2] as unknown as Float32Array, shape: [1, 2] }, mk(2, 1, 1))).toThrow(/Float32Array/);
    expect(() => matmul(mk(2, 3, 1).data as unknown as Tensor, mk(3, 1, 1))).toThrow(/a.data must be a Float32Array, got undefined/);
  });

  it("does not grow memory across repeated calls", () => {
    const a = mk(128, 128, 1), b = mk(128, 128, 2);
    matmul(a, b);
    const before = wasmMemoryBytes();
    for (let i = 0; i < 20; i++) matmul(a, b);
    expect(wasmMemoryBytes()).toBe(before);
  });
});
