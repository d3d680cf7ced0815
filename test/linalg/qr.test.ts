import { beforeAll, describe, expect, it } from "vitest";
import { qr, ready, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { EPS32, fro, mul, orthError, planted, randMat } from "../helpers/linalg.ts";

beforeAll(() => ready());

function check(a: Tensor): { res: number; orth: number } {
  const [m, n] = a.shape;
  const k = Math.min(m, n);
  const { q, r } = qr(a);
  expect(q.shape).toEqual([m, k]);
  expect(r.shape).toEqual([k, n]);
  for (let i = 0; i < k; i++) for (let j = 0; j < Math.min(i, n); j++) expect(r.data[i * n + j]).toBe(0);
  const qrp = mul(q.data, m, k, r.data, n);
  let num = 0;
  for (let i = 0; i < m * n; i++) num += (qrp[i] - a.data[i]) ** 2;
  const den = fro(a.data);
  return { res: den > 0 ? Math.sqrt(num) / den : Math.sqrt(num), orth: orthError(q) };
}

describe("qr", () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 17, 33, 64, 65, 129];
  it("factors square and non-square matrices (both ways) with small residual and orthonormal Q", () => {
    let seed = 1;
    for (const m of sizes) {
      for (const n of [m, Math.max(1, m >> 1), m * 2 + 1]) {
        for (const [r, c] of [[m, n], [n, m]]) {
          const { res, orth } = check(randMat(r, c, seed++));
          const tol = 100 * EPS32 * Math.max(r, c);
          expect(res, `${r}×${c}`).toBeLessThan(tol);
          expect(orth, `${r}×${c}`).toBeLessThan(tol);
        }
      }
    }
  });

  it("handles 257×129, zero, rank-deficient, 1×n and n×1 inputs", () => {
    const cases: Tensor[] = [
      randMat(257, 129, 5),
      { data: new Float32Array(12), shape: [4, 3] },
      planted(40, 30, [3, 2, 1], 9),
      randMat(1, 9, 3),
      randMat(9, 1, 4),
    ];
    for (const a of cases) {
      const { res, orth } = check(a);
      const tol = 100 * EPS32 * Math.max(...a.shape);
      expect(res, `[${a.shape}]`).toBeLessThan(tol);
      expect(orth, `[${a.shape}]`).toBeLessThan(tol);
    }
  });

  it("agrees with ml-matrix's R up to column signs", async () => {
    const { QrDecomposition } = await import("ml-matrix");
    const { toMatrix } = await import("../helpers/linalg.ts");
    const a = randMat(20, 6, 77);
    const ref = new QrDecomposition(toMatrix(a)).upperTriangularMatrix;
    const { r } = qr(a);
    for (let i = 0; i < 6; i++) {
      const sign = Math.sign(r.data[i * 6 + i]) * Math.sign(ref.get(i, i));
      for (let j = i; j < 6; j++) expect(r.data[i * 6 + j]).toBeCloseTo(sign * ref.get(i, j), 4);
    }
  });

  it("rejects bad inputs with messages naming the value", () => {
    expect(() => qr({ data: new Float32Array(8), shape: [2, 2, 2] })).toThrow(/qr: a must have 2 axes, got shape \[2,2,2\]/);
    const bad = randMat(3, 3, 1);
    bad.data[4] = Infinity;
    expect(() => qr(bad)).toThrow(/qr: a has a non-finite value \(Infinity\) at flat index 4/);
    expect(() => qr({ data: new Float32Array(0), shape: [0, 2] })).toThrow(/dimension 0/);
  });

  it("does not grow memory across repeated calls", () => {
    const a = randMat(200, 100, 2);
    qr(a);
    const before = wasmMemoryBytes();
    for (let i = 0; i < 10; i++) qr(a);
    expect(wasmMemoryBytes()).toBe(before);
  });
});
