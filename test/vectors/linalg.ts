// Linear-algebra vectors (lowRankMatmul, qr, eigh, svd): residuals and
// orthogonality in float64 against the inputs. Self-contained float64 checks:
// test/helpers/linalg.ts imports ml-matrix, which the Deno (--no-npm) and
// browser runs cannot load.
import { eigh, lowRankMatmul, qr, svd, type Tensor } from "../../src/index.ts";
import { randn } from "../helpers/random.ts";
import { refMatmul, relErr } from "../helpers/reference.ts";
import { expectThrows, withinLimits, type VectorCase } from "./case.ts";

const EPS = 1.1920929e-7;
const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });
const t64 = (data: Float64Array, shape: number[]): Tensor => ({ data: Float32Array.from(data), shape });

/** max |QᵀQ − I| over the columns of q (float64). */
function orth(q: Tensor): number {
  const [m, k] = q.shape;
  let worst = 0;
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += q.data[r * k + i] * q.data[r * k + j];
    worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
  }
  return worst;
}

/** ‖a − b·diag(d)·cᵀ‖_F / ‖a‖_F with b: m×k, c: n×k (float64). */
function residual(a: Tensor, b: Tensor, d: ArrayLike<number>, c: Tensor): number {
  const [m, n] = a.shape, k = d.length;
  let num = 0, den = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let x = 0;
    for (let p = 0; p < k; p++) x += b.data[i * k + p] * d[p] * c.data[j * k + p];
    num += (a.data[i * n + j] - x) ** 2;
    den += a.data[i * n + j] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

const SHAPES: [number, number][] = [[1, 1], [3, 3], [5, 4], [4, 5], [17, 17], [65, 17], [17, 65], [64, 64], [129, 33]];

export const linalgVectors: VectorCase[] = [
  {
    name: "lowRankMatmul x·u·v (+ bias) against the float64 reference",
    run() {
      let worst = 0, seed = 100;
      for (const [m, k, r, n] of [[1, 1, 1, 1], [3, 5, 2, 4], [17, 33, 4, 65], [64, 129, 17, 5], [65, 64, 33, 129]]) {
        const x = mk(m, k, seed++), u = mk(k, r, seed++), v = mk(r, n, seed++);
        const bias: Tensor = { data: randn(n, seed++), shape: [n] };
        const ref = refMatmul(t64(refMatmul(x, u), [m, r]), v);
        worst = Math.max(worst, relErr(lowRankMatmul(x, u, v).data, ref));
        const withBias = ref.map((y, i) => y + bias.data[i % n]);
        worst = Math.max(worst, relErr(lowRankMatmul(x, u, v, bias).data, withBias));
      }
      return withinLimits({ relErr: worst }, { relErr: 1e-5 });
    },
  },
  {
    name: "qr: a = q·r, q orthonormal, r upper triangular",
    run() {
      let res = 0, orthErr = 0, lower = 0, seed = 200;
      for (const [m, n] of SHAPES) {
        const a = mk(m, n, seed++);
        const { q, r } = qr(a);
        const k = q.shape[1];
        res = Math.max(res, relErr(refMatmul(q, r), a.data));
        orthErr = Math.max(orthErr, orth(q));
        for (let i = 0; i < k; i++) for (let j = 0; j < Math.min(i, r.shape[1]); j++) lower = Math.max(lower, Math.abs(r.data[i * r.shape[1] + j]));
      }
      return withinLimits({ residual: res, orthogonality: orthErr, belowDiagonal: lower }, { residual: 100 * EPS * 129, orthogonality: 100 * EPS * 129, belowDiagonal: 0 });
    },
  },
  {
    name: "eigh: a·V = V·diag(values), V orthonormal, values ascending or descending",
    run() {
      let res = 0, orthErr = 0, unsorted = 0, seed = 300;
      for (const n of [1, 3, 4, 5, 17, 64, 65]) {
        const g = mk(n, n, seed++);
        const a: Tensor = { data: new Float32Array(n * n), shape: [n, n] };
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a.data[i * n + j] = (g.data[i * n + j] + g.data[j * n + i]) / 2;
        const { values, vectors } = eigh(a);
        res = Math.max(res, residual(a, vectors, values, vectors));
        orthErr = Math.max(orthErr, orth(vectors));
        const up = values.every((x, i) => i === 0 || values[i - 1] <= x), down = values.every((x, i) => i === 0 || values[i - 1] >= x);
        if (!up && !down) unsorted++;
      }
      return withinLimits({ residual: res, orthogonality: orthErr, unsorted }, { residual: 100 * EPS * 65, orthogonality: 100 * EPS * 65, unsorted: 0 });
    },
  },
  {
    name: "svd: a = u·diag(s)·vᵀ, u and v orthonormal, s descending and non-negative",
    run() {
      let res = 0, orthU = 0, orthV = 0, bad = 0, seed = 400;
      for (const [m, n] of SHAPES) {
        const a = mk(m, n, seed++);
        const { u, s, v } = svd(a);
        res = Math.max(res, residual(a, u, s, v));
        orthU = Math.max(orthU, orth(u));
        orthV = Math.max(orthV, orth(v));
        if (!s.every((x, i) => x >= 0 && (i === 0 || s[i - 1] >= x))) bad++;
      }
      const tol = 100 * EPS * 129;
      return withinLimits({ residual: res, orthU, orthV, badOrder: bad }, { residual: tol, orthU: tol, orthV: tol, badOrder: 0 });
    },
  },
  {
    name: "svd rejects NaN and a rank out of range",
    run() {
      const a = mk(5, 4, 1);
      const nan = expectThrows(() => svd({ data: Float32Array.from(a.data, (x, i) => (i === 6 ? NaN : x)), shape: [5, 4] }), /svd: .*non-finite value \(NaN\) at flat index 6/);
      const rank = expectThrows(() => svd(a, { rank: 9 }), /rank/);
      return { pass: nan.pass && rank.pass, figures: {}, note: [nan.note, rank.note].filter(Boolean).join("; ") || undefined };
    },
  },
];
