// Issue 13 defects 5 and 6: tiny (denormal, 1e-40) and huge (1e20 … 3e38) inputs.
// Every factorisation scales by a power of two first (exact), so results at any
// scale match the same matrix at unit scale; values that cannot be float32 results
// fail with an error that says so.
import { beforeAll, describe, expect, it } from "vitest";
import { SVD } from "ml-matrix";
import { cp, eigh, matmul, qr, ready, singularValues, svd, tt, tucker, lowRankMatmul, type Tensor } from "../../src/index.ts";
import { EPS32, fro, mul, orthError, planted, randMat, svdResidual, toMatrix } from "../helpers/linalg.ts";
import { plantedCP, plantedTucker } from "../helpers/tensors.ts";
import { sliceSpectrum } from "../../src/layers/decompositions.ts";
import { withScratch } from "../../src/core/heap.ts";
import { factorizeLayer } from "../../src/layers/factorize.ts";

beforeAll(() => ready());

/** a·c as float32 (entries may round when they become denormal, so references use the result). */
const scaled = (a: Tensor, c: number): Tensor => ({ data: Float32Array.from(a.data, (x) => x * c), shape: [...a.shape] });
/** float64 copy of a, multiplied by 1/c (exact for a power of two c): the reference works at unit scale. */
const unitRef = (a: Tensor, c: number): Tensor => ({ data: Float64Array.from(a.data, (x) => x / c) as unknown as Float32Array, shape: [...a.shape] });
const noNaN = (x: ArrayLike<number>) => Array.from(x).every(Number.isFinite);

// powers of two near 1e-40 (denormal), 1e-30, 1e-20, 1e20, 1e30, and 1e35
const SCALES = [2 ** -133, 2 ** -100, 2 ** -66, 2 ** 66, 2 ** 100, 2 ** 116];
const SHAPES: [number, number][] = [[8, 6], [6, 8], [1, 5], [5, 1], [17, 3], [4, 4], [64, 5]];

describe("scale-robust factorisations", () => {
  it("qr: Q orthonormal and Q·R = A at every scale (Q of a 1e-40 matrix was NaN)", () => {
    for (const c of SCALES) for (const [m, n] of SHAPES) {
      const a = scaled(randMat(m, n, m * 7 + n), c);
      const { q, r } = qr(a);
      const label = `${m}×${n} at ${c.toExponential(1)}`;
      expect(noNaN(q.data) && noNaN(r.data), label).toBe(true);
      expect(orthError(q), label).toBeLessThan(1e-5);
      const ref = unitRef(a, c);
      const qr64 = mul(q.data, m, Math.min(m, n), Float64Array.from(r.data, (x) => x / c), n);
      let d = 0;
      for (let i = 0; i < m * n; i++) d += (qr64[i] - ref.data[i]) ** 2;
      expect(Math.sqrt(d) / fro(ref.data), label).toBeLessThan(1e-5);
    }
  });

  it("svd (full, randomized) and singularValues match ml-matrix at every scale (svd threw 'did not converge' at 1e-40)", () => {
    for (const c of SCALES) for (const [m, n] of SHAPES) {
      const a = scaled(randMat(m, n, m * 3 + n), c);
      const label = `${m}×${n} at ${c.toExponential(1)}`;
      const ref = new SVD(toMatrix(unitRef(a, c)), { autoTranspose: true }).diagonal.map((x) => x * c);
      const k = Math.min(m, n);
      for (const method of ["full", "randomized"] as const) {
        const { u, s, v } = svd(a, { method, rank: method === "randomized" ? Math.max(1, k - 1) : k, oversample: 10 });
        expect(noNaN(u.data) && noNaN(v.data) && noNaN(s), `${label} ${method}`).toBe(true);
        for (let i = 0; i < s.length; i++) expect(Math.abs(s[i] - ref[i]) / ref[0], `${label} ${method} σ${i}`).toBeLessThan(1e-4);
        expect(orthError(u), label).toBeLessThan(1e-4);
      }
      const sv = singularValues(a);
      for (let i = 0; i < k; i++) expect(Math.abs(sv[i] - ref[i]) / ref[0], `${label} values σ${i}`).toBeLessThan(1e-4);
    }
  });

  it("svd of a rank-deficient matrix at 1e-40 and 1e30, and of zero", () => {
    const base = planted(9, 7, [3, 2, 1], 4);
    for (const c of [2 ** -133, 2 ** 100]) {
      const a = scaled(base, c);
      const { u, s, v } = svd(a, { method: "full" });
      expect(s[0] / c).toBeCloseTo(3, 3);
      expect(s[3] / c).toBeLessThan(1e-4 * 3 + (c < 1 ? 2 ** -149 / c * 64 : 0));
      expect(svdResidual(unitRef(a, c), u, Float64Array.from(s, (x) => x / c), v)).toBeLessThan(1e-3);
    }
    const z = svd({ data: new Float32Array(12), shape: [4, 3] });
    expect(Array.from(z.s)).toEqual([0, 0, 0]);
  });

  it("eigh at every scale: A·v = λ·v (eigh threw 'did not converge' at 1e-40)", () => {
    for (const c of SCALES) for (const n of [1, 3, 4, 5, 17]) {
      const b = randMat(n, n, n);
      const sym = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = (b.data[i * n + j] + b.data[j * n + i]) * c;
      const a = { data: sym, shape: [n, n] };
      const { values, vectors } = eigh(a);
      const label = `${n} at ${c.toExponential(1)}`;
      expect(noNaN(values) && noNaN(vectors.data), label).toBe(true);
      const ref = unitRef(a, c);
      const av = mul(ref.data, n, n, vectors.data, n);
      let d = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d += (av[i * n + j] - (values[j] / c) * vectors.data[i * n + j]) ** 2;
      expect(Math.sqrt(d) / fro(ref.data), label).toBeLessThan(1e-4);
    }
  });

  it("tucker, cp and tt keep their unit-scale accuracy from 1e-40 to 1e35 (cp gave NaN at 1e-40, tt relErr 1 at 1e-30, all failed at 1e20)", () => {
    const x = plantedCP([6, 5, 4], 2, 3);
    const y = plantedTucker([6, 5, 4], [0, 1, 2], [2, 2, 2], 5);
    for (const c of SCALES) {
      const label = `at ${c.toExponential(1)}`;
      const xc = scaled(x, c), yc = scaled(y, c);
      const dc = cp(xc, { rank: 2, maxIter: 200 });
      expect(noNaN(dc.weights), `cp ${label}`).toBe(true);
      expect(dc.relativeError(xc), `cp ${label}`).toBeLessThan(c < 2 ** -120 ? 1e-3 : 1e-4);
      expect(tucker(yc, { rank: 2 }).relativeError(yc), `tucker ${label}`).toBeLessThan(c < 2 ** -120 ? 1e-3 : 1e-4);
      expect(tucker(yc, { rank: 2, method: "hooi" }).relativeError(yc), `hooi ${label}`).toBeLessThan(c < 2 ** -120 ? 1e-3 : 1e-4);
      expect(tt(yc, { rank: 4 }).relativeError(yc), `tt ${label}`).toBeLessThan(c < 2 ** -120 ? 1e-3 : 1e-4);
    }
  });

  it("results too large for float32 fail with a clear error instead of NaN (svd of 3e38 values gave NaN σ)", () => {
    const toMax = (x: Tensor, top: number) => scaled(x, top / Math.max(...Array.from(x.data, Math.abs)));
    const a = toMax(randMat(8, 6, 1), 3e38);
    expect(() => svd(a)).toThrow(/svd: singular values overflow float32/);
    expect(() => singularValues(a)).toThrow(/singularValues: singular values overflow float32/);
    const t = toMax(plantedCP([6, 5, 4], 2, 3), 3e38);
    expect(() => cp(t, { rank: 2 })).toThrow(/cp: .*overflow float32/);
  });

  it("matmul and lowRankMatmul name an overflow instead of returning Inf", () => {
    const big = { data: Float32Array.from([1e30, 1e30]), shape: [1, 2] };
    const bigT = { data: Float32Array.from([1e30, 1e30]), shape: [2, 1] };
    expect(() => matmul(big, bigT)).toThrow(/matmul: .*overflow.*float32/);
    expect(() => lowRankMatmul(big, bigT, { data: Float32Array.from([1e30]), shape: [1, 1] })).toThrow(/lowRankMatmul: .*overflow.*float32/);
    // finite results stay untouched at the edge of the range
    expect(matmul({ data: Float32Array.from([1e19]), shape: [1, 1] }, { data: Float32Array.from([1e19]), shape: [1, 1] }).data[0]).toBeCloseTo(1e38, -33);
  });

  it("the planner's kernel spectrum works on a 3e38 or 1e-40 kernel (a dense/kernel of 3e38 was 'did not converge')", () => {
    const k = randMat(6, 10, 9);
    const ref = sliceSpectrum({ data: k.data, shape: [2, 3, 10] }, "rows");
    for (const c of [2 ** 127, 2 ** -133]) {
      const got = sliceSpectrum({ data: scaled(k, c).data, shape: [2, 3, 10] }, "rows");
      for (let i = 0; i < 3; i++) expect(Math.abs(got[i] / c - ref[i]) / ref[0], `σ${i} at ${c}`).toBeLessThan(2e-3);
    }
  });

  it("a layer whose factorization overflows float32 names the weight (dense/kernel of 3e38)", () => {
    const k = scaled(randMat(16, 12, 3), 3e38 / 4);
    const layer = { className: "Dense" as const, name: "dense", config: {}, kernel: k, bias: null };
    expect(() => factorizeLayer(layer as never, "svd", 4)).toThrow(/^dense\/kernel \(svd\): svd: singular values overflow float32/);
  });
});

describe("input scans", () => {
  it("first non-finite index and max |x| see every position of the 16-wide blocks and the tails", () => {
    withScratch((s) => {
      for (const n of [1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 129]) {
        for (let p = 0; p < n; p++) {
          const x = Float32Array.from({ length: n }, (_, i) => ((i * 7) % 5) - 2);
          x[p] = -3.5;
          expect(s.k.maxabs_f32(s.put(x), n), `maxabs n=${n} at ${p}`).toBe(3.5);
          expect(s.k.first_nonfinite_f32(s.put(x), n), `finite n=${n}`).toBe(-1);
          for (const bad of [NaN, Infinity, -Infinity]) {
            const y = x.slice();
            y[p] = bad;
            if (p + 1 < n) y[n - 1] = NaN; // a later one does not hide the first
            expect(s.k.first_nonfinite_f32(s.put(y), n), `${bad} n=${n} at ${p}`).toBe(p);
          }
        }
      }
    });
  });
});
