// Plain-JavaScript (float64) reference decompositions for the `decompose`
// benchmark: the textbook algorithms with loops and ml-matrix for the small
// dense eigen/SVD/solve steps — what a JS user would write without odecomp.
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition, solve } from "ml-matrix";

type Arr = Float64Array | Float32Array;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function view(shape: readonly number[], mode: number) {
  let A = 1, B = 1;
  for (let k = 0; k < mode; k++) A *= shape[k];
  for (let k = mode + 1; k < shape.length; k++) B *= shape[k];
  return { A, I: shape[mode], B };
}

/** Gram X_(n)·X_(n)ᵀ with plain loops. */
export function gramJS(x: Arr, shape: readonly number[], mode: number): Float64Array {
  const { A, I, B } = view(shape, mode);
  const g = new Float64Array(I * I);
  for (let a = 0; a < A; a++) {
    const base = a * I * B;
    for (let i = 0; i < I; i++) {
      const oi = base + i * B;
      for (let j = 0; j <= i; j++) {
        const oj = base + j * B;
        let s = 0;
        for (let b = 0; b < B; b++) s += x[oi + b] * x[oj + b];
        g[i * I + j] += s;
      }
    }
  }
  for (let i = 0; i < I; i++) for (let j = i + 1; j < I; j++) g[i * I + j] = g[j * I + i];
  return g;
}

/** Leading r eigenvectors (I×r row-major) of a symmetric matrix via ml-matrix. */
export function leadingJS(g: Float64Array, I: number, r: number): Float64Array {
  const rows: number[][] = [];
  for (let i = 0; i < I; i++) rows.push(Array.from(g.subarray(i * I, (i + 1) * I)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const order = vals.map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).map((p) => p[1]);
  const V = e.eigenvectorMatrix;
  const u = new Float64Array(I * r);
  for (let i = 0; i < I; i++) for (let c = 0; c < r; c++) u[i * r + c] = V.get(i, order[c]);
  return u;
}

/** x ×_mode Uᵀ with U I×r. */
export function projectJS(x: Arr, shape: readonly number[], mode: number, u: Float64Array, r: number): { data: Float64Array; shape: number[] } {
  const { A, I, B } = view(shape, mode);
  const out = new Float64Array(A * r * B);
  for (let a = 0; a < A; a++) {
    for (let i = 0; i < I; i++) {
      const xo = (a * I + i) * B;
      for (let j = 0; j < r; j++) {
        const c = u[i * r + j];
        if (c === 0) continue;
        const oo = (a * r + j) * B;
        for (let b = 0; b < B; b++) out[oo + b] += c * x[xo + b];
      }
    }
  }
  const sh = [...shape];
  sh[mode] = r;
  return { data: out, shape: sh };
}

const sumsq = (x: Arr) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i]; return s; };

/** Partial Tucker (HOSVD or HOOI, TensorLy's tol 1e-4 / 100 sweeps) → relative error. */
export function tuckerJS(x: Arr, shape: number[], modes: number[], ranks: number[], method: "hosvd" | "hooi"): { error: number; iterations: number } {
  const nx = sumsq(x);
  const factors = modes.map((m, i) => leadingJS(gramJS(x, shape, m), shape[m], ranks[i]));
  const projectAll = (skip: number) => {
    let cur = { data: x as Arr, shape: [...shape] };
    modes.forEach((m, i) => { if (m !== skip) cur = projectJS(cur.data, cur.shape, m, factors[i], ranks[i]); });
    return cur;
  };
  const errOf = () => Math.sqrt(Math.max(nx - sumsq(projectAll(-1).data), 0) / nx);
  let err = errOf();
  let iterations = 0;
  if (method === "hooi") {
    for (let it = 0; it < 100; it++) {
      modes.forEach((m, i) => {
        const y = projectAll(m);
        factors[i] = leadingJS(gramJS(y.data, y.shape, m), shape[m], ranks[i]);
      });
      const e = errOf();
      iterations = it + 1;
      const done = Math.abs(err - e) < 1e-4;
      err = e;
      if (done) break;
    }
  }
  return { error: err, iterations };
}

/** CP-ALS as in TensorLy's default (SVD init, no line search, tol 1e-8, normalised columns) → relative error. */
export function cpJS(x: Arr, shape: number[], R: number, maxIter = 100, seed = 1): { error: number; iterations: number } {
  const N = shape.length;
  let st = seed >>> 0;
  const rnd = () => { st = (st * 1664525 + 1013904223) >>> 0; return st / 4294967296 - 0.5; };
  const U = shape.map((d, n) => {
    const u = new Float64Array(d * R);
    const r = Math.min(d, R);
    const lead = leadingJS(gramJS(x, shape, n), d, r);
    for (let i = 0; i < d; i++) for (let c = 0; c < R; c++) u[i * R + c] = c < r ? lead[i * r + c] : rnd();
    return u;
  });
  const w = new Float64Array(R).fill(1);
  const nx = sumsq(x);
  const total = size(shape);
  const strides = shape.map((_, k) => size(shape.slice(k + 1)));
  const idx = new Int32Array(N);
  const gram = (u: Float64Array, d: number) => {
    const g = new Float64Array(R * R);
    for (let i = 0; i < d; i++) for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) g[a * R + b] += u[i * R + a] * u[i * R + b];
    return g;
  };
  const G = shape.map((d, n) => gram(U[n], d));
  let err = Infinity, iterations = 0;
  const prod = new Float64Array(R);
  for (let it = 0; it < maxIter; it++) {
    let M = new Float64Array(0);
    for (let n = 0; n < N; n++) {
      M = new Float64Array(shape[n] * R);
      for (let p = 0; p < total; p++) {
        let rem = p;
        for (let k = 0; k < N; k++) { idx[k] = Math.floor(rem / strides[k]); rem -= idx[k] * strides[k]; }
        prod.fill(x[p]);
        for (let k = 0; k < N; k++) if (k !== n) { const row = idx[k] * R; const uk = U[k]; for (let r = 0; r < R; r++) prod[r] *= uk[row + r]; }
        const o = idx[n] * R;
        for (let r = 0; r < R; r++) M[o + r] += prod[r];
      }
      const V: number[][] = [];
      for (let a = 0; a < R; a++) { const row: number[] = []; for (let b = 0; b < R; b++) { let v = 1; for (let k = 0; k < N; k++) if (k !== n) v *= G[k][a * R + b]; row.push(v); } V.push(row); }
      const Mt: number[][] = [];
      for (let r = 0; r < R; r++) { const row: number[] = []; for (let i = 0; i < shape[n]; i++) row.push(M[i * R + r]); Mt.push(row); }
      const sol = solve(new Matrix(V), new Matrix(Mt), true); // V symmetric: U_nᵀ = V⁻¹ Mᵀ
      const u = U[n];
      for (let r = 0; r < R; r++) {
        let s = 0;
        for (let i = 0; i < shape[n]; i++) { u[i * R + r] = sol.get(r, i); s += u[i * R + r] ** 2; }
        s = Math.sqrt(s);
        w[r] = s;
        if (s > 0) for (let i = 0; i < shape[n]; i++) u[i * R + r] /= s;
      }
      G[n] = gram(u, shape[n]);
    }
    const last = N - 1;
    let inner = 0;
    for (let i = 0; i < shape[last]; i++) for (let r = 0; r < R; r++) inner += w[r] * M[i * R + r] * U[last][i * R + r];
    let model = 0;
    for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) { let v = w[a] * w[b]; for (let k = 0; k < N; k++) v *= G[k][a * R + b]; model += v; }
    const e = Math.sqrt(Math.max(nx - 2 * inner + model, 0) / nx);
    iterations = it + 1;
    const done = Math.abs(err - e) < 1e-8;
    err = e;
    if (done) break;
  }
  return { error: err, iterations };
}

/** TT-SVD with ml-matrix's SVD at a fixed maximal rank → relative error (from a reconstruction). */
export function ttJS(x: Arr, shape: number[], rank: number): { error: number } {
  const N = shape.length;
  let c = Float64Array.from(x);
  let r = 1;
  const cores: { data: Float64Array; shape: number[] }[] = [];
  for (let n = 0; n < N - 1; n++) {
    const m = r * shape[n], rest = c.length / m;
    const rows: number[][] = [];
    for (let i = 0; i < m; i++) rows.push(Array.from(c.subarray(i * rest, (i + 1) * rest)));
    const svd = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true });
    const rn = Math.min(rank, m, rest);
    const Um = svd.leftSingularVectors, Vm = svd.rightSingularVectors, s = svd.diagonal;
    const core = new Float64Array(m * rn);
    for (let i = 0; i < m; i++) for (let j = 0; j < rn; j++) core[i * rn + j] = Um.get(i, j);
    cores.push({ data: core, shape: [r, shape[n], rn] });
    const next = new Float64Array(rn * rest);
    for (let j = 0; j < rn; j++) for (let k = 0; k < rest; k++) next[j * rest + k] = s[j] * Vm.get(k, j);
    c = next;
    r = rn;
  }
  cores.push({ data: c, shape: [r, shape[N - 1], 1] });
  // reconstruct
  let cur = cores[0].data, rows = shape[0];
  for (let k = 1; k < N; k++) {
    const [rk, d, r2] = cores[k].shape;
    const out = new Float64Array(rows * d * r2);
    for (let i = 0; i < rows; i++) for (let a = 0; a < rk; a++) {
      const v = cur[i * rk + a];
      for (let q = 0; q < d * r2; q++) out[i * d * r2 + q] += v * cores[k].data[a * d * r2 + q];
    }
    cur = out;
    rows *= d;
  }
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) { num += (cur[i] - x[i]) ** 2; den += x[i] ** 2; }
  return { error: Math.sqrt(num / den) };
}
