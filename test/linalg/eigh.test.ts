import { beforeAll, describe, expect, it } from "vitest";
import { EigenvalueDecomposition } from "ml-matrix";
import { eigh, ready, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { withScratch } from "../../src/core/heap.ts";
import { EPS32, orthError, randMat, randomOrthonormal, toMatrix } from "../helpers/linalg.ts";

beforeAll(() => ready());

function symmetric(n: number, seed: number): Tensor {
  const a = randMat(n, n, seed);
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = (a.data[i * n + j] + a.data[j * n + i]) / 2;
  return { data: d, shape: [n, n] };
}

/** Symmetric Q·diag(values)·Qᵀ with a random orthogonal Q. */
function withSpectrum(values: number[], seed: number): Tensor {
  const n = values.length;
  const q = randomOrthonormal(n, n, seed);
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let x = 0;
      for (let p = 0; p < n; p++) x += q.get(i, p) * values[p] * q.get(j, p);
      d[i * n + j] = x;
      d[j * n + i] = x;
    }
  }
  return { data: d, shape: [n, n] };
}

/** max_i ‖A z_i − λ_i z_i‖ / ‖A‖₂-ish (max |λ|). */
function residual(a: Tensor, values: Float32Array, z: Tensor): number {
  const n = values.length;
  let worst = 0;
  const scale = Math.max(Math.abs(values[0]), Math.abs(values[n - 1]), 1e-30);
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += a.data[i * n + j] * z.data[j * n + c];
      s += (t - values[c] * z.data[i * n + c]) ** 2;
    }
    worst = Math.max(worst, Math.sqrt(s));
  }
  return worst / scale;
}

describe("eigh", () => {
  it("matches ml-matrix's eigenvalues, with small residual and orthonormal vectors", () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 17, 33, 64, 65, 129]) {
      const a = symmetric(n, n);
      const { values, vectors } = eigh(a);
      expect(vectors.shape).toEqual([n, n]);
      for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      const ref = new EigenvalueDecomposition(toMatrix(a), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => y - x);
      const scale = Math.max(...ref.map(Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i]) / scale, `n=${n} i=${i}`).toBeLessThan(1e-5);
      const tol = 100 * EPS32 * n;
      expect(residual(a, values, vectors), `n=${n}`).toBeLessThan(tol);
      expect(orthError(vectors), `n=${n}`).toBeLessThan(tol);
    }
  });

  it("handles 257², zero, repeated and indefinite spectra", () => {
    const n = 40;
    const cases: [string, Tensor, number[] | null][] = [
      ["257²", symmetric(257, 3), null],
      ["zero", { data: new Float32Array(9), shape: [3, 3] }, [0, 0, 0]],
      ["identity-ish repeated", withSpectrum(Array.from({ length: n }, (_, i) => (i < 20 ? 2 : -1)), 5), Array.from({ length: n }, (_, i) => (i < 20 ? 2 : -1))],
      ["graded 1…1e-7", withSpectrum(Array.from({ length: n }, (_, i) => 10 ** (-7 * i / (n - 1))), 6), Array.from({ length: n }, (_, i) => 10 ** (-7 * i / (n - 1)))],
    ];
    for (const [name, a, want] of cases) {
      const m = a.shape[0];
      const { values, vectors } = eigh(a);
      const tol = 100 * EPS32 * m;
      expect(residual(a, values, vectors), name).toBeLessThan(tol);
      expect(orthError(vectors), name).toBeLessThan(tol);
      if (want) {
        const sorted = [...want].sort((x, y) => y - x);
        const scale = Math.max(...sorted.map(Math.abs), 1);
        for (let i = 0; i < m; i++) expect(Math.abs(values[i] - sorted[i]) / scale, `${name} ${i}`).toBeLessThan(10 * EPS32 * m);
      }
    }
  });

  it("eigh_top_f32 (the top r eigenvectors only) gives eigh's first r columns and all values", () => {
    // r = 1, a cluster of repeated values cut by r (20 of 40 equal), a size past the SIMD/block edges
    const cases: [string, Tensor, number][] = [
      ["65² r=1", symmetric(65, 21), 1],
      ["repeated, r=12 inside the 20-fold cluster", withSpectrum(Array.from({ length: 40 }, (_, i) => (i < 20 ? 2 : -1)), 22), 12],
      ["129² r=33", symmetric(129, 23), 33],
      ["17² r=17", symmetric(17, 24), 17],
    ];
    for (const [name, a, r] of cases) {
      const n = a.shape[0];
      const full = eigh(a);
      const top = withScratch((s) => {
        const p = s.put(a.data), w = s.f32(n), z = s.f32(n * r);
        const fails = s.k.eigh_top_f32(p, n, r, w, z);
        return { fails, values: s.take(w, n), vectors: s.take(z, n * r) };
      });
      expect(top.fails, name).toBe(0);
      expect(Array.from(top.values), name).toEqual(Array.from(full.values));
      const tol = 100 * EPS32 * n;
      let worst = 0, gram = 0;
      for (let c = 0; c < r; c++) {
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(top.vectors[i * r + c] - full.vectors.data[i * n + c]));
        for (let d = 0; d <= c; d++) {
          let t = 0;
          for (let i = 0; i < n; i++) t += top.vectors[i * r + c] * top.vectors[i * r + d];
          gram = Math.max(gram, Math.abs(t - (c === d ? 1 : 0)));
        }
      }
      expect(worst, name).toBeLessThan(tol);
      expect(gram, name).toBeLessThan(tol);
    }
  });

  it("keeps accuracy for tiny and huge magnitudes", () => {
    const a = symmetric(30, 71);
    const ref = eigh(a).values;
    for (const scale of [1e-30, 1e30]) {
      const b = { data: a.data.map((x) => x * scale), shape: a.shape };
      const { values, vectors } = eigh(b);
      for (let i = 0; i < 30; i++) expect(Math.abs(values[i] / scale - ref[i]) / Math.abs(ref[0]), `scale ${scale} λ${i}`).toBeLessThan(1e-5);
      expect(orthError(vectors)).toBeLessThan(1e-5);
    }
  });

  it("rejects non-symmetric, non-square, non-finite and non-2-D input, naming the value", () => {
    const a = symmetric(4, 1);
    a.data[1 * 4 + 3] += 0.5;
    expect(() => eigh(a)).toThrow(/eigh: a is not symmetric: a\[1\]\[3\] = .* but a\[3\]\[1\] = .*difference 5\.000e-1 > tolerance 0\.00001/);
    expect(() => eigh(randMat(2, 3, 1))).toThrow(/eigh: a must be square \(symmetric\), got shape \[2,3\]/);
    const b = symmetric(3, 2);
    b.data[0] = NaN;
    expect(() => eigh(b)).toThrow(/eigh: a has a non-finite value \(NaN\) at flat index 0/);
    expect(() => eigh({ data: new Float32Array(4), shape: [4] })).toThrow(/eigh: a must have 2 axes, got shape \[4\]/);
    expect(() => eigh(symmetric(3, 1), { symmetryTolerance: -1 })).toThrow(/symmetryTolerance must be a finite number ≥ 0, got -1/);
  });

  it("does not grow memory across repeated calls", () => {
    const a = symmetric(100, 9);
    eigh(a);
    const before = wasmMemoryBytes();
    for (let i = 0; i < 10; i++) eigh(a);
    expect(wasmMemoryBytes()).toBe(before);
  });
});
