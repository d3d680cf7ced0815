// assembly/conv/act_grad.ts (the backward of a conv's bias + relu / linear epilogue, in place) against a
// scalar float64 reference: column counts across the SIMD width and its tails (1, 3, 4, 5, 17, 64, 129),
// 1 and many rows, zero, tiny (1e-40, subnormal), huge (1e30) and mixed-sign values, NaN in y (tfjs's
// Step passes NaN through), exact zeros in y (relu's kink: the mask is 0 there), and no bias.
import { beforeAll, describe, expect, it } from "vitest";
import { ready } from "../../src/index.ts";
import { withScratch } from "../../src/core/heap.ts";
import { rng, gaussian } from "../helpers/random.ts";

beforeAll(() => ready());

const RELU = 1, LINEAR = 0;

/** dz (float32, as the kernel stores it) and db summed in float64 then rounded once. */
function reference(dy: Float32Array, y: Float32Array, rows: number, cols: number, act: number): { dz: Float32Array; db: Float32Array } {
  const dz = new Float32Array(rows * cols), acc = new Float64Array(cols);
  for (let i = 0; i < rows * cols; i++) {
    const s = act === RELU ? (Number.isNaN(y[i]) ? NaN : y[i] > 0 ? 1 : 0) : 1;
    dz[i] = Math.fround(dy[i] * s);
    acc[i % cols] += dz[i];
  }
  return { dz, db: Float32Array.from(acc) };
}

describe("act_bias_grad_f32", () => {
  it("equals the scalar reference on SIMD tails, 1..300 rows, zero / tiny / huge values, NaN and 0 in y", () => {
    const g = gaussian(rng(42));
    let cases = 0;
    withScratch((s) => {
      for (const cols of [1, 3, 4, 5, 17, 64, 129]) for (const rows of [1, 2, 7, 300]) for (const scale of [0, 1e-40, 1, 1e30]) for (const act of [RELU, LINEAR]) {
        const n = rows * cols;
        const dy = Float32Array.from({ length: n }, () => scale * g());
        const y = Float32Array.from({ length: n }, (_, i) => (i % 11 === 3 ? 0 : i % 13 === 5 ? NaN : g()));
        const want = reference(dy, y, rows, cols, act);
        const pdy = s.put(dy), py = s.put(y), pdb = s.f32(cols);
        expect(s.k.act_bias_grad_f32(pdy, py, rows, cols, act, pdb, 0)).toBe(0);
        const dz = s.view(pdy, n), db = s.view(pdb, cols);
        for (let i = 0; i < n; i++) if (!Object.is(dz[i], want.dz[i]) && !(dz[i] === 0 && want.dz[i] === 0)) throw new Error(`dz[${i}] ${dz[i]} vs ${want.dz[i]} (cols ${cols}, rows ${rows}, scale ${scale}, act ${act})`);
        for (let c = 0; c < cols; c++) {
          // f64 sums of the same f32 terms in the same row order: the same double, rounded once
          if (!Object.is(db[c], want.db[c]) && !(db[c] === 0 && want.db[c] === 0)) throw new Error(`db[${c}] ${db[c]} vs ${want.db[c]} (cols ${cols}, rows ${rows}, scale ${scale}, act ${act})`);
        }
        // without a bias (db = 0): dz alone, the same values
        const pdy2 = s.put(dy);
        expect(s.k.act_bias_grad_f32(pdy2, py, rows, cols, act, 0, 0)).toBe(0);
        expect(Array.from(s.view(pdy2, n))).toEqual(Array.from(dz));
        // out of place (dz given): relu's dz lands there bitwise the same and dy keeps its values
        if (act === RELU) {
          const pdy3 = s.put(dy), pdz3 = s.f32(n), pdb3 = s.f32(cols);
          expect(s.k.act_bias_grad_f32(pdy3, py, rows, cols, act, pdb3, pdz3)).toBe(0);
          expect(Array.from(s.view(pdz3, n))).toEqual(Array.from(dz));
          expect(Array.from(s.view(pdb3, cols))).toEqual(Array.from(db));
          expect(Array.from(s.view(pdy3, n))).toEqual(Array.from(dy));
        }
        cases++;
      }
    });
    expect(cases).toBe(7 * 4 * 4 * 2);
  });

  it("leaves dy alone for a linear epilogue and sums it; zero rows give zero bias gradients", () => {
    withScratch((s) => {
      const dy = Float32Array.from([1, -2, 3, 4, 5, -6]), pdy = s.put(dy), pdb = s.f32(3);
      expect(s.k.act_bias_grad_f32(pdy, 0, 2, 3, LINEAR, pdb, 0)).toBe(0);
      expect(Array.from(s.view(pdy, 6))).toEqual(Array.from(dy));
      expect(Array.from(s.view(pdb, 3))).toEqual([5, 3, -3]);
      expect(s.k.act_bias_grad_f32(pdy, 0, 0, 3, LINEAR, pdb, 0)).toBe(0);
      expect(Array.from(s.view(pdb, 3))).toEqual([0, 0, 0]);
    });
  });
});
