// Float64 helpers for checking factorisations: products, residuals,
// orthogonality and planted matrices with known singular values.
import { Matrix, QrDecomposition } from "ml-matrix";
import type { Tensor } from "../../src/index.ts";
import { randn } from "./random.ts";

export const EPS32 = 1.1920929e-7;

/** C = A·B (A r×k, B k×c, row-major) in float64. */
export function mul(a: ArrayLike<number>, r: number, k: number, b: ArrayLike<number>, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += x * b[p * c + j];
    }
  }
  return out;
}

export function fro(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** max |QᵀQ − I| over the k columns of the m×k matrix q. */
export function orthError(q: Tensor): number {
  const [m, k] = q.shape;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += q.data[r * k + i] * q.data[r * k + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** ‖A − U·diag(s)·Vᵀ‖_F / ‖A‖_F (absolute when A = 0). */
export function svdResidual(a: Tensor, u: Tensor, s: ArrayLike<number>, v: Tensor): number {
  const [m, n] = a.shape;
  const k = s.length;
  let num = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let p = 0; p < k; p++) x += u.data[i * k + p] * s[p] * v.data[j * k + p];
      num += (a.data[i * n + j] - x) ** 2;
    }
  }
  const den = fro(a.data);
  return den > 0 ? Math.sqrt(num) / den : Math.sqrt(num);
}

/** Random m×k matrix with orthonormal columns (float64), seeded. */
export function randomOrthonormal(m: number, k: number, seed: number): Matrix {
  const g = randn(m * k, seed);
  const a = new Matrix(m, k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) a.set(i, j, g[i * k + j]);
  return new QrDecomposition(a).orthogonalMatrix.subMatrix(0, m - 1, 0, k - 1);
}

/** An m×n float32 matrix U·diag(sv)·Vᵀ with the given singular values (length ≤ min(m, n)). */
export function planted(m: number, n: number, sv: number[], seed: number): Tensor {
  const k = sv.length;
  const u = randomOrthonormal(m, k, seed), v = randomOrthonormal(n, k, seed + 7919);
  const data = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let p = 0; p < k; p++) x += u.get(i, p) * sv[p] * v.get(j, p);
      data[i * n + j] = x;
    }
  }
  return { data, shape: [m, n] };
}

export function toMatrix(a: Tensor): Matrix {
  const [m, n] = a.shape;
  const out = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.set(i, j, a.data[i * n + j]);
  return out;
}

export const randMat = (m: number, n: number, seed: number): Tensor => ({ data: randn(m * n, seed), shape: [m, n] });
