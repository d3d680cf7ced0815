import { beforeAll, describe, expect, it } from "vitest";
import { SVD } from "ml-matrix";
import { ready, singularValues, svd, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { EPS32, orthError, planted, randMat, svdResidual, toMatrix } from "../helpers/linalg.ts";

beforeAll(() => ready());

function refValues(a: Tensor): number[] {
  return new SVD(toMatrix(a), { autoTranspose: true, computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
}

/** Full checks: shapes, order, residual, orthogonality, values vs ml-matrix (1e-4 relative, relative to s_max for tiny ones). */
function checkFull(a: Tensor, label: string, resTol?: number): Float32Array {
  const [m, n] = a.shape;
  const k = Math.min(m, n);
  const { u, s, v } = svd(a, { method: "full" });
  expect(u.shape, label).toEqual([m, k]);
  expect(v.shape, label).toEqual([n, k]);
  expect(s.length, label).toBe(k);
  for (let i = 0; i < k; i++) expect(s[i], label).toBeGreaterThanOrEqual(0);
  for (let i = 1; i < k; i++) expect(s[i], label).toBeLessThanOrEqual(s[i - 1]);
  const tol = 100 * EPS32 * Math.max(m, n);
  expect(svdResidual(a, u, s, v), label).toBeLessThan(resTol ?? tol);
  expect(orthError(u), label).toBeLessThan(tol);
  expect(orthError(v), label).toBeLessThan(tol);
  const ref = refValues(a);
  const smax = Math.max(ref[0], 1e-30);
  for (let i = 0; i < k; i++) {
    const err = Math.abs(s[i] - ref[i]) / Math.max(ref[i], smax);
    expect(err, `${label} σ${i}: ${s[i]} vs ${ref[i]}`).toBeLessThan(1e-4);
  }
  return s;
}

describe("svd (full)", () => {
  it("decomposes square and non-square matrices both ways", () => {
    let seed = 1;
    for (const m of [1, 2, 3, 4, 5, 7, 8, 17, 33, 64, 65, 129]) {
      for (const n of [m, Math.max(1, m >> 1), 2 * m + 1]) {
        checkFull(randMat(m, n, seed++), `${m}×${n}`);
        if (n !== m) checkFull(randMat(n, m, seed++), `${n}×${m}`);
      }
    }
  });

  it("decomposes 257×257 and a tall 300×40 (QR-first path)", () => {
    checkFull(randMat(257, 257, 11), "257²");
    checkFull(randMat(300, 40, 12), "300×40");
    checkFull(randMat(40, 300, 13), "40×300");
  });

  it("handles zero, rank-deficient, 1×n and n×1 inputs", () => {
    const z = svd({ data: new Float32Array(20), shape: [5, 4] });
    expect([...z.s]).toEqual([0, 0, 0, 0]);
    expect(orthError(z.u)).toBeLessThan(1e-6);
    expect(orthError(z.v)).toBeLessThan(1e-6);
    const s = checkFull(planted(50, 30, [5, 4, 3, 2, 1], 3), "rank 5");
    for (let i = 5; i < 30; i++) expect(s[i]).toBeLessThan(10 * EPS32 * 5 * 50);
    // mostly-zero spectrum: U must still be completed to an orthonormal basis
    for (const [m, n] of [[160, 120], [120, 160], [130, 130]]) {
      const r = svd(planted(m, n, [3, 2, 1], 40 + m));
      expect(orthError(r.u), `rank 3 ${m}×${n}`).toBeLessThan(1e-5);
      expect(orthError(r.v), `rank 3 ${m}×${n}`).toBeLessThan(1e-5);
      expect(r.s[3]).toBeLessThan(1e-5);
    }
    checkFull(randMat(1, 17, 4), "1×17");
    checkFull(randMat(17, 1, 5), "17×1");
    const one = svd({ data: Float32Array.of(-3), shape: [1, 1] });
    expect(one.s[0]).toBe(3);
    expect(one.u.data[0] * one.v.data[0]).toBe(-1);
  });

  it("handles exactly-zero columns, whose bidiagonal's trailing rounding noise reaches float32's denormals", () => {
    // rank n/2 (or 2n/3): the bidiagonalisation's last steps see entries near 1e-39, where
    // 1/(α − β) of a Householder reflector overflows float32 (this used to give NaN and a
    // QL failure for most values)
    let seed = 70;
    for (const [m, n, every] of [[200, 200, 2], [300, 200, 2], [200, 300, 2], [129, 129, 2], [150, 150, 3], [260, 130, 2]]) {
      const a = randMat(m, n, seed++);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j += every) a.data[i * n + j] = 0;
      const s = checkFull(a, `${m}×${n}, every ${every}th column zero`);
      const zeros = Math.ceil(n / every) - Math.max(0, n - m);
      for (let i = Math.min(m, n) - zeros; i < Math.min(m, n); i++) expect(s[i], `${m}×${n} σ${i}`).toBeLessThan(1e-5 * s[0]);
      const vals = singularValues(a);
      for (let i = 0; i < vals.length; i++) expect(Math.abs(vals[i] - s[i])).toBeLessThan(1e-5 * s[0]);
    }
  });

  it("handles repeated singular values, condition number 1e6 and graded values 1 … 1e-7", () => {
    const n = 60;
    const repeated = Array.from({ length: n }, (_, i) => (i < 30 ? 2 : 1));
    let s = checkFull(planted(80, n, repeated, 21), "repeated");
    for (let i = 0; i < n; i++) expect(Math.abs(s[i] - repeated[i]) / 2).toBeLessThan(20 * EPS32 * n);
    const cond = Array.from({ length: n }, (_, i) => 10 ** (-6 * i / (n - 1)));
    s = checkFull(planted(n, n, cond, 22), "cond 1e6");
    // large values to relative accuracy; tiny ones to ≈ ε·s_max absolute (float32 input rounding limits them)
    for (let i = 0; i < n; i++) {
      const err = Math.abs(s[i] - cond[i]);
      if (cond[i] > 1e-3) expect(err / cond[i], `cond σ${i}`).toBeLessThan(1e-4);
      expect(err, `cond σ${i}`).toBeLessThan(10 * EPS32);
    }
    const graded = Array.from({ length: n }, (_, i) => 10 ** (-7 * i / (n - 1)));
    s = checkFull(planted(90, n, graded, 23), "graded");
    for (let i = 0; i < n; i++) {
      const err = Math.abs(s[i] - graded[i]);
      if (graded[i] > 1e-3) expect(err / graded[i], `graded σ${i}`).toBeLessThan(1e-4);
      expect(err, `graded σ${i}`).toBeLessThan(10 * EPS32);
    }
  });

  it("keeps rank triplets with method 'full' and a rank", () => {
    const a = randMat(30, 20, 8);
    const all = svd(a);
    const top = svd(a, { rank: 5, method: "full" });
    expect(top.u.shape).toEqual([30, 5]);
    expect(top.v.shape).toEqual([20, 5]);
    expect([...top.s]).toEqual([...all.s.slice(0, 5)]);
  });
});

describe("singularValues", () => {
  it("matches the full SVD's values and ml-matrix's, without vectors", () => {
    let seed = 100;
    for (const [m, n] of [[1, 1], [1, 7], [7, 1], [5, 5], [33, 17], [17, 33], [129, 64], [200, 200]]) {
      const a = randMat(m, n, seed++);
      const s = singularValues(a);
      const full = svd(a, { method: "full" }).s;
      const ref = refValues(a);
      expect(s.length).toBe(Math.min(m, n));
      for (let i = 0; i < s.length; i++) {
        expect(Math.abs(s[i] - full[i]) / full[0], `${m}×${n} σ${i}`).toBeLessThan(1e-6);
        expect(Math.abs(s[i] - ref[i]) / Math.max(ref[i], ref[0]), `${m}×${n} σ${i}`).toBeLessThan(1e-4);
      }
    }
    expect([...singularValues({ data: new Float32Array(6), shape: [2, 3] })]).toEqual([0, 0]);
    expect(() => singularValues({ data: new Float32Array(3), shape: [3] })).toThrow(/singularValues: a must have 2 axes/);
  });
});

describe("svd (scaling)", () => {
  it("keeps accuracy for tiny and huge magnitudes", () => {
    for (const scale of [1e-30, 1e30]) {
      const a = randMat(40, 30, 61);
      const ref = svd(a).s;
      const b = { data: a.data.map((x) => x * scale), shape: a.shape };
      const r = svd(b);
      for (let i = 0; i < 30; i++) expect(Math.abs(r.s[i] / scale - ref[i]) / ref[0], `scale ${scale} σ${i}`).toBeLessThan(1e-5);
      expect(svdResidual(b, r.u, r.s, r.v)).toBeLessThan(1e-5);
      expect(orthError(r.u)).toBeLessThan(1e-5);
    }
  });
});

describe("svd (randomized)", () => {
  const rankTrue = 8;
  const sv = [100, 80, 60, 50, 40, 30, 20, 10];
  function plantedNoisy(seed: number): Tensor {
    const a = planted(400, 300, sv, seed);
    const noise = randMat(400, 300, seed + 1);
    for (let i = 0; i < a.data.length; i++) a.data[i] += 1e-3 * noise.data[i];
    return a;
  }

  it("recovers the top singular values and subspace of a planted low-rank + noise matrix", () => {
    const a = plantedNoisy(31);
    const r = svd(a, { rank: rankTrue, method: "randomized", seed: 5 });
    const f = svd(a, { method: "full" });
    expect(r.u.shape).toEqual([400, rankTrue]);
    expect(r.v.shape).toEqual([300, rankTrue]);
    for (let i = 0; i < rankTrue; i++) expect(Math.abs(r.s[i] - f.s[i]) / f.s[i]).toBeLessThan(1e-4);
    expect(orthError(r.u)).toBeLessThan(1e-5);
    expect(orthError(r.v)).toBeLessThan(1e-5);
    // subspace: |u_iᵀ u_i^full| ≈ 1
    for (let i = 0; i < rankTrue; i++) {
      let d = 0;
      for (let j = 0; j < 400; j++) d += r.u.data[j * rankTrue + i] * f.u.data[j * 300 + i];
      expect(Math.abs(d), `u${i}`).toBeGreaterThan(0.9999);
    }
    // residual close to the noise floor ‖noise‖/‖A‖
    expect(svdResidual(a, r.u, r.s, r.v)).toBeLessThan(3e-3);
  });

  it("is deterministic for a seed and 'auto' picks it for a small rank", () => {
    const a = plantedNoisy(41);
    const x = svd(a, { rank: 4, method: "randomized", seed: 9 });
    const y = svd(a, { rank: 4, method: "randomized", seed: 9 });
    expect(x.u.data).toEqual(y.u.data);
    expect(x.s).toEqual(y.s);
    expect(x.v.data).toEqual(y.v.data);
    const auto = svd(a, { rank: 4, seed: 9 });
    expect(auto.s).toEqual(x.s);
    const other = svd(a, { rank: 4, method: "randomized", seed: 10, powerIterations: 0 });
    expect(other.u.data).not.toEqual(x.u.data);
  });

  it("works for wide matrices and when rank + oversample reaches min(m, n)", () => {
    const a = planted(20, 60, [3, 2, 1], 51);
    const r = svd(a, { rank: 3, method: "randomized", oversample: 30 });
    for (let i = 0; i < 3; i++) expect(r.s[i]).toBeCloseTo(3 - i, 5);
    expect(svdResidual(a, r.u, r.s, r.v)).toBeLessThan(1e-5);
  });
});

describe("svd input validation", () => {
  const a = randMat(4, 6, 1);
  it("rejects bad ranks, methods and options, naming the value and the allowed range", () => {
    expect(() => svd(a, { rank: 0 })).toThrow(/svd: rank 0 is out of range; expected an integer in 1\.\.4 \(min\(m, n\) for a 4×6 matrix\)/);
    expect(() => svd(a, { rank: 5 })).toThrow(/rank 5 is out of range; expected an integer in 1\.\.4/);
    expect(() => svd(a, { rank: 2.5 })).toThrow(/rank 2\.5 is out of range/);
    expect(() => svd(a, { rank: -1 })).toThrow(/rank -1 is out of range/);
    expect(() => svd(a, { method: "qr" as never })).toThrow(/svd: unknown method 'qr'; expected one of 'auto', 'full', 'randomized'/);
    expect(() => svd(a, { oversample: -2 })).toThrow(/oversample -2 is invalid; expected an integer ≥ 0/);
    expect(() => svd(a, { powerIterations: 1.5 })).toThrow(/powerIterations 1\.5 is invalid; expected an integer in 0\.\.100/);
    expect(() => svd(a, { seed: NaN })).toThrow(/seed NaN \(a number\) is invalid; expected an integer/);
  });
  it("rejects NaN/Inf and non-2-D input", () => {
    const b = randMat(3, 3, 2);
    b.data[5] = -Infinity;
    expect(() => svd(b)).toThrow(/svd: a has a non-finite value \(-Infinity\) at flat index 5/);
    expect(() => svd({ data: new Float32Array(8), shape: [2, 2, 2] })).toThrow(/svd: a must have 2 axes, got shape \[2,2,2\]/);
  });
  it("does not grow memory across repeated calls", () => {
    const x = randMat(150, 120, 3);
    svd(x);
    svd(x, { rank: 10, method: "randomized" });
    const before = wasmMemoryBytes();
    for (let i = 0; i < 5; i++) {
      svd(x);
      svd(x, { rank: 10, method: "randomized" });
    }
    expect(wasmMemoryBytes()).toBe(before);
  });
});
