// The tridiagonal values of n ≥ 384 problems come from one divide-and-conquer split
// (assembly/linalg/tridiag_dc.ts: QL on the two halves, tracking one row of each, then the
// secular equation's roots with deflation). Seen through svd, singularValues and eigh, whose
// inner tridiagonals have that size, against ml-matrix in float64: random, clustered, all-equal
// (everything deflates), graded, rank-deficient and exactly-zero-column spectra, indefinite
// eigenproblems, and the same bits on 1 and 2 threads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EigenvalueDecomposition, SVD } from "ml-matrix";
import { eigh, ready, setThreads, singularValues, svd, terminateThreads, type Tensor } from "../../src/index.ts";
import { EPS32, orthError, planted, randMat, svdResidual, toMatrix } from "../helpers/linalg.ts";

beforeAll(() => ready());
afterAll(() => terminateThreads());

function refSigma(a: Tensor): number[] {
  return new SVD(toMatrix(a), { autoTranspose: true, computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
}

function cases(): [string, Tensor][] {
  let seed = 500;
  const zeroCols = randMat(420, 420, seed++);
  for (let i = 0; i < 420; i++) for (let j = 0; j < 420; j += 2) zeroCols.data[i * 420 + j] = 0;
  return [
    ["random 400×400", randMat(400, 400, seed++)],
    ["random 390×520 (wide)", randMat(390, 520, seed++)],
    ["three clusters 450", planted(450, 450, [...Array(180).fill(3), ...Array(180).fill(1), ...Array(90).fill(0.5)], seed++)],
    ["all σ = 1 (every pole deflates)", planted(400, 400, Array(400).fill(1), seed++)],
    ["one σ = 2, the rest 1", planted(400, 400, [2, ...Array(399).fill(1)], seed++)],
    ["graded 1 … 1e-7", planted(450, 450, Array.from({ length: 450 }, (_, i) => 10 ** (-7 * i / 449)), seed++)],
    ["rank 10", planted(420, 420, Array.from({ length: 10 }, (_, i) => 1 + i), seed++)],
    ["every 2nd column zero", zeroCols],
  ];
}

describe("tridiagonal values by divide and conquer (n ≥ 384)", () => {
  it("svd and singularValues match ml-matrix, with small residual and orthonormal vectors", () => {
    for (const [name, a] of cases()) {
      const [m, n] = a.shape;
      const r = svd(a);
      const vals = singularValues(a);
      const ref = refSigma(a);
      for (let i = 0; i < ref.length; i++) {
        expect(Math.abs(r.s[i] - ref[i]) / ref[0], `${name} σ${i}: ${r.s[i]} vs ${ref[i]}`).toBeLessThan(2e-6);
        expect(Math.abs(vals[i] - ref[i]) / ref[0], `${name} values-only σ${i}`).toBeLessThan(2e-6);
      }
      const tol = 100 * EPS32 * Math.max(m, n);
      expect(svdResidual(a, r.u, r.s, r.v), name).toBeLessThan(tol);
      expect(orthError(r.u), name).toBeLessThan(tol);
      expect(orthError(r.v), name).toBeLessThan(tol);
    }
  }, 120_000);

  it("eigh of 400×400 symmetric (indefinite) and of a spectrum with a 200-fold value", () => {
    const n = 400;
    const r0 = randMat(n, n, 77);
    const sym = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = (r0.data[i * n + j] + r0.data[j * n + i]) / 2;
    // AᵀA − 40·I: a repeated block of eigenvalues from a rank-200 Gram, shifted to be indefinite
    const g = randMat(200, n, 78);
    const gram = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let x = 0;
      for (let p = 0; p < 200; p++) x += g.data[p * n + i] * g.data[p * n + j];
      gram[i * n + j] = x - (i === j ? 40 : 0);
    }
    for (const [name, data] of [["symmetric", sym], ["rank-200 Gram − 40·I", gram]] as const) {
      const a = { data, shape: [n, n] };
      const { values, vectors } = eigh(a);
      const ref = new EigenvalueDecomposition(toMatrix(a), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => y - x);
      const scale = Math.max(...ref.map(Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i]) / scale, `${name} λ${i}`).toBeLessThan(2e-6);
      expect(orthError(vectors), name).toBeLessThan(100 * EPS32 * n);
    }
  }, 120_000);

  it("gives the same bits on 1 and 2 threads", async () => {
    const all = cases().slice(0, 4);
    await setThreads(1);
    const one = all.map(([, a]) => svd(a));
    await setThreads(2);
    const two = all.map(([, a]) => svd(a));
    await setThreads(1);
    all.forEach(([name], i) => {
      for (const f of ["u", "v"] as const) expect(Buffer.compare(Buffer.from(one[i][f].data.buffer), Buffer.from(two[i][f].data.buffer)), `${name} ${f}`).toBe(0);
      expect(Buffer.compare(Buffer.from(one[i].s.buffer), Buffer.from(two[i].s.buffer)), `${name} s`).toBe(0);
    });
  }, 120_000);
});
