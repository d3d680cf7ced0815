// Thin and truncated singular value decomposition.
//
// 'full': QR-preconditioned (tall) Householder bidiagonalisation, the tridiagonal
// BᵀB eigenproblem in f64 and back-transformation, all in wasm (assembly/linalg/svd.ts).
// 'randomized': randomized range finder (Halko, Martinsson & Tropp 2011) with
// power iterations re-orthonormalised by QR between them, then the small SVD.
// 'auto' (default) picks 'randomized' when rank + oversample ≤ min(m, n)/4.
//
// Pointer-level entry (inside one withScratch scope, no copies through JS):
//   svdInto(s, aPtr, m, n, options) → { u, s, v, k }   u: m×k, s: k (descending), v: n×k,
//                                                       row-major float32 pointers in s's scratch.
//                                                       aPtr is untouched; options are validated.
//   svdValuesInto(s, aPtr, m, n) → pointer              min(m, n) singular values (descending), no
//                                                       vectors (for rank rules such as EVBMF).
import { type Tensor, checkTensor } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { gemm } from "../core/kernels.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { qrInto } from "./qr.ts";
import { KERNEL_SLACK, scaledCopy, unscale } from "./scale.ts";

export type SvdMethod = "auto" | "full" | "randomized";
const METHODS: readonly SvdMethod[] = ["auto", "full", "randomized"];

export interface SvdOptions {
  /** Number of singular triplets to keep, an integer in 1..min(m, n); default min(m, n). */
  rank?: number;
  /** 'auto' (default), 'full' (exact thin SVD, then truncated) or 'randomized'. */
  method?: SvdMethod;
  /** Extra random directions for the randomized method; default 10. */
  oversample?: number;
  /** Power iterations for the randomized method; default 2. */
  powerIterations?: number;
  /** Seed of the randomized method's Gaussian test matrix; default 0. Same seed → same result. */
  seed?: number;
}

export interface SvdResult {
  /** m×k, orthonormal columns. */
  u: Tensor;
  /** k singular values, descending, ≥ 0. */
  s: Float32Array;
  /** n×k, orthonormal columns. */
  v: Tensor;
}

export interface SvdPointers {
  u: number;
  s: number;
  v: number;
  k: number;
}

interface Resolved {
  rank: number;
  method: "full" | "randomized";
  oversample: number;
  powerIterations: number;
  seed: number;
}

function resolve(where: string, m: number, n: number, o: SvdOptions): Resolved {
  if (o === null || typeof o !== "object") fail(where, `options must be an object, got ${o === null ? "null" : typeof o}`);
  const kmax = Math.min(m, n);
  const rank = o.rank ?? kmax;
  if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 1 || rank > kmax) {
    fail(where, `rank ${show(rank)} is ${typeof rank === "number" ? "out of range" : "invalid"}; expected an integer in 1..${kmax} (min(m, n) for a ${m}×${n} matrix)`);
  }
  const method = o.method ?? "auto";
  if (!METHODS.includes(method)) fail(where, `unknown method ${typeof method === "string" ? `'${method}'` : show(method)}; expected one of ${METHODS.map((x) => `'${x}'`).join(", ")}`);
  const oversample = o.oversample ?? 10;
  if (typeof oversample !== "number" || !Number.isInteger(oversample) || oversample < 0) {
    fail(where, `oversample ${show(oversample)} is invalid; expected an integer ≥ 0`);
  }
  const powerIterations = o.powerIterations ?? 2;
  if (typeof powerIterations !== "number" || !Number.isInteger(powerIterations) || powerIterations < 0 || powerIterations > 100) {
    fail(where, `powerIterations ${show(powerIterations)} is invalid; expected an integer in 0..100`);
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== "number" || !Number.isInteger(seed)) fail(where, `seed ${show(seed)} is invalid; expected an integer`);
  const picked = method === "auto" ? ((rank + oversample) * 4 <= kmax ? "randomized" : "full") : method;
  return { rank, method: picked, oversample, powerIterations, seed };
}

/** Seeded standard normals (mulberry32 + Box–Muller) written straight into wasm memory. */
function fillGaussian(s: Scratch, p: number, count: number, seed: number): void {
  let a = (seed ^ 0x9e3779b9) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = s.view(p, count);
  for (let i = 0; i < count; i += 2) {
    const u1 = Math.max(next(), 1e-300), u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/** Copy the first r columns of a rows×ld matrix into a fresh rows×r one. */
function firstColumns(s: Scratch, p: number, rows: number, ld: number, r: number): number {
  if (r === ld) return p;
  const out = s.f32(rows * r);
  const src = s.view(p, rows * ld), dst = s.view(out, rows * r);
  for (let i = 0; i < rows; i++) dst.set(src.subarray(i * ld, i * ld + r), i * r);
  return out;
}

function fullInto(s: Scratch, aPtr: number, m: number, n: number): SvdPointers {
  const k = Math.min(m, n);
  const u = s.f32(m * k), sv = s.f32(k), v = s.f32(n * k);
  const fails = s.k.svd_f32(aPtr, m, n, u, sv, v);
  if (fails > 0) fail("svd", `the inner tridiagonal QL iteration did not converge for ${fails} value(s) of a ${m}×${n} matrix`);
  return { u, s: sv, v, k };
}

function randomizedInto(s: Scratch, aPtr: number, m: number, n: number, o: Resolved): SvdPointers {
  const K = s.k;
  const l = Math.min(o.rank + o.oversample, m, n);
  const omega = s.f32(n * l);
  fillGaussian(s, omega, n * l, o.seed);
  let y = s.f32(m * l);
  gemm(K, { m, n: l, k: n, a: aPtr, lda: n, b: omega, ldb: l, c: y, ldc: l });
  const z = s.f32(n * l);
  for (let it = 0; it < o.powerIterations; it++) {
    const q = qrInto(s, y, m, l).q;
    gemm(K, { transA: true, m: n, n: l, k: m, a: aPtr, lda: n, b: q, ldb: l, c: z, ldc: l });
    const qz = qrInto(s, z, n, l).q;
    y = s.f32(m * l);
    gemm(K, { m, n: l, k: n, a: aPtr, lda: n, b: qz, ldb: l, c: y, ldc: l });
  }
  const q = qrInto(s, y, m, l).q; // m×l
  const bt = s.f32(n * l); // Bᵀ = Aᵀ Q
  gemm(K, { transA: true, m: n, n: l, k: m, a: aPtr, lda: n, b: q, ldb: l, c: bt, ldc: l });
  const small = fullInto(s, bt, n, l); // Bᵀ = U' Σ V'ᵀ  →  A ≈ (Q V') Σ U'ᵀ
  const r = o.rank;
  const u = s.f32(m * r);
  gemm(K, { m, n: r, k: l, a: q, lda: l, b: small.v, ldb: l, c: u, ldc: r });
  const v = firstColumns(s, small.u, n, l, r);
  return { u, s: small.s, v, k: r };
}

/** Bytes an SVD may take from scratch (an upper bound, checked before anything is allocated). */
function svdWorkspace(m: number, n: number, o: Resolved): number {
  const k = Math.min(m, n);
  if (o.method === "full") {
    // scaled copy, u, v; the kernel's copy, Uᵀ, the tall path's Aᵀ and Householder vectors; n×n f64 blocks;
    // the back-transformations' gathered reflectors (k·max(m, n) f32 at most)
    return 4 * (5 * m * n + m * k + n * k + 4 * k * k + k * Math.max(m, n)) + 16 * k * k + KERNEL_SLACK;
  }
  const l = Math.min(o.rank + o.oversample, k);
  // scaled copy, Ω, Y and Z per power step, QR workspaces, Bᵀ and its small full SVD
  return 4 * m * n + 4 * (m + n) * l * (2 * o.powerIterations + 8) + 4 * (5 * n * l + 2 * l * l) + 16 * l * l + KERNEL_SLACK;
}

/** Pointer-level SVD inside a scratch scope; see the file header. */
export function svdInto(s: Scratch, aPtr: number, m: number, n: number, options: SvdOptions = {}): SvdPointers {
  const o = resolve("svd", m, n, options);
  s.need(svdWorkspace(m, n, o), "svd", `the ${o.method} SVD of a ${m}×${n} matrix${o.method === "randomized" ? ` at rank ${o.rank}` : ""}`);
  // denormal or huge entries: scale by 2^e (exact) so norms and BᵀB stay in float32 range
  const a = scaledCopy(s, aPtr, m * n);
  let r: SvdPointers;
  if (o.method === "randomized") r = randomizedInto(s, a.ptr, m, n, o);
  else {
    const full = fullInto(s, a.ptr, m, n);
    r = o.rank === full.k ? full : { u: firstColumns(s, full.u, m, full.k, o.rank), s: full.s, v: firstColumns(s, full.v, n, full.k, o.rank), k: o.rank };
  }
  unscale(s, "svd", "singular values", r.s, r.k, a.e);
  return r;
}

/** Thin (or truncated, with `rank`) SVD of a 2-D tensor: a ≈ u·diag(s)·vᵀ. */
export function svd(a: Tensor, options: SvdOptions = {}): SvdResult {
  const where = "svd";
  checkTensor(where, "a", a, 2);
  const [m, n] = a.shape;
  resolve(where, m, n, options);
  return withScratch((s) => {
    const p = s.put(a.data, where, "a");
    const r = svdInto(s, p, m, n, options);
    return {
      u: { data: s.take(r.u, m * r.k), shape: [m, r.k] },
      s: s.take(r.s, r.k),
      v: { data: s.take(r.v, n * r.k), shape: [n, r.k] },
    };
  });
}

/** Pointer-level singular values only (min(m, n), descending) inside a scratch scope. */
export function svdValuesInto(s: Scratch, aPtr: number, m: number, n: number): number {
  const k = Math.min(m, n);
  s.need(4 * 4 * m * n + 4 * 4 * k * k + KERNEL_SLACK, "singularValues", `the singular values of a ${m}×${n} matrix`);
  const out = s.f32(k);
  const a = scaledCopy(s, aPtr, m * n);
  const fails = s.k.svd_values_f32(a.ptr, m, n, out);
  if (fails > 0) fail("singularValues", `the QL iteration did not converge for ${fails} value(s) of a ${m}×${n} matrix`);
  unscale(s, "singularValues", "singular values", out, k, a.e);
  return out;
}

/** Singular values of a 2-D tensor (min(m, n) of them, descending), without computing vectors. */
export function singularValues(a: Tensor): Float32Array {
  const where = "singularValues";
  checkTensor(where, "a", a, 2);
  const [m, n] = a.shape;
  return withScratch((s) => s.take(svdValuesInto(s, s.put(a.data, where, "a"), m, n), Math.min(m, n)));
}
