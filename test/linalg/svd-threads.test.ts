// The thin SVD gives the same bits on 1, 2 and 3 kernel threads (its bidiagonalisation,
// inverse-iteration vectors, U_B rows, Gram–Schmidt of tiny σ, banded back-transformations
// and transposes are all split over the pool), and stays accurate against a float64
// reference, at sizes that split and at SIMD-tail and edge shapes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SVD } from "ml-matrix";
import { ready, setThreads, svd, terminateThreads, threadsInfo, type Tensor } from "../../src/index.ts";
import { getKernels } from "../../src/core/loader.ts";
import { EPS32, orthError, planted, randMat, svdResidual, toMatrix } from "../helpers/linalg.ts";

beforeAll(() => ready());
afterAll(() => terminateThreads());

/** Elements whose bits differ. */
function differing(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d++;
  return d;
}

const scaled = (t: Tensor, f: number): Tensor => ({ data: t.data.map((x) => x * f), shape: t.shape });

/** name → matrix; every shape kind the issue lists, plus sizes large enough that each phase splits. */
function cases(): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  let seed = 160;
  for (const n of [1, 3, 4, 5, 17, 64, 129]) out.push([`${n}×${n}`, randMat(n, n, seed++)]);
  out.push(["1×300", randMat(1, 300, seed++)], ["300×1", randMat(300, 1, seed++)]);
  out.push(["300×300 (bidiagonalisation split)", randMat(300, 300, seed++)]);
  out.push(["301×257", randMat(301, 257, seed++)]);
  out.push(["520×260 (QR first)", randMat(520, 260, seed++)]);
  out.push(["129×300 (wide)", randMat(129, 300, seed++)]);
  out.push(["300×200 rank 7", planted(300, 200, [9, 7, 5, 3, 2, 1, 0.5], seed++)]);
  // clusters: three groups of equal σ (inverse iteration's Gram–Schmidt inside clusters)
  out.push(["200×200 σ ∈ {4, 2, 1} ×60 +20", planted(200, 200, [...Array(60).fill(4), ...Array(60).fill(2), ...Array(60).fill(1), ...Array(20).fill(0.25)], seed++)]);
  out.push(["160×160 orthogonal (one cluster)", planted(160, 160, Array(160).fill(1), seed++)]);
  // 260 tiny σ after 40 good ones: each tiny row's Gram–Schmidt against the rows before it splits
  out.push(["400×300 rank 40", planted(400, 300, Array.from({ length: 40 }, (_, i) => 1 + i / 8), seed++)]);
  const half = randMat(200, 200, seed++);
  for (let i = 0; i < 200; i++) for (let j = 0; j < 200; j += 2) half.data[i * 200 + j] = 0;
  out.push(["200×200 every 2nd column zero (denormal bidiagonal tail)", half]);
  out.push(["zero 130×130", { data: new Float32Array(130 * 130), shape: [130, 130] }]);
  out.push(["tiny 1e-40 · 140×120", scaled(randMat(140, 120, seed++), 1e-40)]);
  out.push(["huge 1e30 · 120×140", scaled(randMat(120, 140, seed++), 1e30)]);
  return out;
}

describe("thin SVD on 1, 2 and 3 threads", () => {
  it("gives bitwise identical u, s, v, and the large cases really run split", async () => {
    const all = cases();
    const k = getKernels();
    const run = () => all.map(([, a]) => {
      const g0 = k.threads_generation();
      const r = svd(a, { method: "full" });
      return { r, jobs: k.threads_generation() - g0 };
    });
    await setThreads(1);
    const one = run();
    const info = await setThreads(2);
    expect(info.threads).toBe(2);
    const two = run();
    await setThreads(3);
    const three = run();
    await setThreads(1);
    const bad: string[] = [];
    all.forEach(([name], i) => {
      for (const [t, other] of [[2, two[i]], [3, three[i]]] as const) {
        for (const f of ["u", "v"] as const) {
          const d = differing(one[i].r[f].data, other.r[f].data);
          if (d) bad.push(`${name} ${t} threads: ${d} of ${f} differ`);
        }
        const d = differing(one[i].r.s, other.r.s);
        if (d) bad.push(`${name} ${t} threads: ${d} of s differ`);
      }
    });
    expect(bad).toEqual([]);
    const jobs = Object.fromEntries(all.map(([name], i) => [name, two[i].jobs]));
    expect(one.every((x) => x.jobs === 0)).toBe(true);
    for (const name of ["300×300 (bidiagonalisation split)", "520×260 (QR first)", "129×300 (wide)", "zero 130×130"]) {
      expect(jobs[name], name).toBeGreaterThan(0);
    }
    expect(jobs["1×1"]).toBe(0);
  }, 120_000);
});

describe("thin SVD on 2 threads stays accurate", () => {
  it("against ml-matrix (float64): values, reconstruction and orthogonality", async () => {
    await setThreads(2);
    expect(threadsInfo().threads).toBe(2);
    for (const [name, a] of cases()) {
      const [m, n] = a.shape;
      const { u, s, v } = svd(a, { method: "full" });
      const zero = a.data.every((x) => x === 0);
      const tol = 100 * EPS32 * Math.max(m, n);
      expect(orthError(u), `${name}: UᵀU`).toBeLessThan(tol);
      expect(orthError(v), `${name}: VᵀV`).toBeLessThan(tol);
      for (let i = 1; i < s.length; i++) expect(s[i], name).toBeLessThanOrEqual(s[i - 1]);
      if (zero) {
        expect(s.every((x) => x === 0), name).toBe(true);
        continue;
      }
      // tiny / huge: compare the rescaled matrix (the reference sees float64 of the same values)
      const f = name.startsWith("tiny") ? 1e40 : name.startsWith("huge") ? 1e-30 : 1;
      const a64 = f === 1 ? a : { data: Float32Array.from(a.data, (x) => x * f), shape: a.shape };
      expect(svdResidual(a64, u, Float32Array.from(s, (x) => x * f), v), `${name}: ‖A − UΣVᵀ‖/‖A‖`).toBeLessThan(tol);
      if (m * n <= 300 * 300) {
        const ref = new SVD(toMatrix(a64), { autoTranspose: true, computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
        for (let i = 0; i < s.length; i++) {
          const err = Math.abs(s[i] * f - ref[i]) / Math.max(ref[i], ref[0]);
          expect(err, `${name} σ${i}: ${s[i] * f} vs ${ref[i]}`).toBeLessThan(1e-5);
        }
      }
    }
    await setThreads(1);
  }, 120_000);
});
