// Symmetric eigendecomposition: Householder tridiagonalisation (f32) and
// implicit QL on the tridiagonal (f64) in wasm.
//
// Pointer-level entry (inside one withScratch scope):
//   eighInto(s, aPtr, n, nv?) → { values, vectors }        values: n float32 (descending), vectors: n×nv
//                                                 row-major with eigenvector i in column i (only the
//                                                 nv leading ones are computed). aPtr (n×n, symmetric,
//                                                 not checked here) is untouched.
import { type Tensor, checkTensor } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { KERNEL_SLACK, scaledCopy, unscale } from "./scale.ts";

export interface EighResult {
  /** Eigenvalues, descending. */
  values: Float32Array;
  /** n×n; eigenvector i (unit length) in column i. */
  vectors: Tensor;
}

export interface EighPointers {
  values: number;
  vectors: number;
}

export interface EighOptions {
  /** Largest accepted |a_ij − a_ji| relative to max |a|; default 1e-5. */
  symmetryTolerance?: number;
}

export function eighInto(s: Scratch, aPtr: number, n: number, nv?: number, where = "eigh"): EighPointers {
  const nvec = nv ?? n;
  // vectors, a scaled copy, the kernel's working copy, f64/f32 eigenvector blocks and the back-transformation's gathered reflectors
  s.need(4 * (3 * n * n + 4 * n * nvec + 16 * n) + KERNEL_SLACK, where, `the eigendecomposition of an ${n}×${n} matrix`);
  const values = s.f32(n);
  const vectors = s.f32(n * nvec);
  // a Gram matrix formed in f32 from huge values holds Inf: say so rather than "did not converge"
  const bad = s.k.first_nonfinite_f32(aPtr, n * n);
  if (bad >= 0) fail(where, `the ${n}×${n} symmetric matrix has a non-finite value at flat index ${bad} (an overflow past float32's 3.4e38 while forming it?); expected finite values`);
  const a = scaledCopy(s, aPtr, n * n);
  // with nv: inverse iteration and back-transform for the nv leading columns only
  const fails = nv === undefined ? s.k.eigh_f32(a.ptr, n, values, vectors) : s.k.eigh_top_f32(a.ptr, n, nv, values, vectors);
  if (fails > 0) fail(where, `the tridiagonal QL iteration did not converge for ${fails} eigenvalue(s) of an ${n}×${n} matrix`);
  unscale(s, where, "eigenvalues", values, n, a.e);
  return { values, vectors };
}

/** Eigen-decomposition of a symmetric n×n tensor: a = vectors·diag(values)·vectorsᵀ, values descending. */
export function eigh(a: Tensor, options: EighOptions = {}): EighResult {
  const where = "eigh";
  checkTensor(where, "a", a, 2);
  const [n, n2] = a.shape;
  if (n !== n2) fail(where, `a must be square (symmetric), got shape [${a.shape}]`);
  if (options === null || typeof options !== "object") fail(where, `options must be an object like { symmetryTolerance: 1e-5 }, got ${show(options)}`);
  const tol = options.symmetryTolerance ?? 1e-5;
  if (!(typeof tol === "number" && tol >= 0 && Number.isFinite(tol))) {
    fail(where, `symmetryTolerance must be a finite number ≥ 0, got ${show(tol)}`);
  }
  return withScratch((s) => {
    const p = s.put(a.data, where, "a");
    const d = a.data;
    let amax = 0;
    for (let i = 0; i < d.length; i++) amax = Math.max(amax, Math.abs(d[i]));
    let worst = 0, wi = 0, wj = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const diff = Math.abs(d[i * n + j] - d[j * n + i]);
        if (diff > worst) { worst = diff; wi = i; wj = j; }
      }
    }
    if (worst > tol * amax) {
      fail(where, `a is not symmetric: a[${wi}][${wj}] = ${d[wi * n + wj]} but a[${wj}][${wi}] = ${d[wj * n + wi]} (difference ${worst.toExponential(3)} > tolerance ${tol} × max|a| = ${(tol * amax).toExponential(3)})`);
    }
    const r = eighInto(s, p, n);
    return { values: s.take(r.values, n), vectors: { data: s.take(r.vectors, n * n), shape: [n, n] } };
  });
}
