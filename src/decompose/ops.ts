// Tensor operations over the wasm kernels (assembly/tensor/*): unfold/fold,
// mode-n product, Khatri–Rao, MTTKRP, Gram of an unfolding. Public wrappers
// copy in/out; the pointer-level helpers (…Ptr) are what the decompositions use.
//
// Unfolding convention (TensorLy's): for a row-major tensor of shape
// [d0 … d(N−1)], X_(n) is d_n × (Π_{k≠n} d_k) and column index runs over the
// other modes in their original order, row-major (first remaining mode
// slowest): X_(n)[i, a·B + b] = x[a, i, b] where a indexes the modes before n
// and b the modes after n. Khatri–Rao products list their first matrix slowest,
// so X_(n) ≈ U_n · diag(λ) · KR(U_0…U_{n−1}, U_{n+1}…)ᵀ for a CP tensor.
import { type Tensor, checkTensor, sizeOf } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";

/** A row-major tensor seen as (A, I, B) around mode n. */
export interface ModeView { A: number; I: number; B: number }

export function modeView(shape: readonly number[], mode: number): ModeView {
  let A = 1, B = 1;
  for (let k = 0; k < mode; k++) A *= shape[k];
  for (let k = mode + 1; k < shape.length; k++) B *= shape[k];
  return { A, I: shape[mode], B };
}

export function checkMode(where: string, shape: readonly number[], mode: unknown, name = "mode"): number {
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode >= shape.length) {
    fail(where, `${name} ${String(mode)} is out of range for a tensor of shape [${shape}]; expected an integer in 0…${shape.length - 1}`);
  }
  return mode;
}

/** x ×_mode op(U): U stored J×I (transU false) or I×J (transU true). Returns a new pointer and shape. */
export function modeProductPtr(s: Scratch, x: number, shape: readonly number[], mode: number, u: number, J: number, transU: boolean): { ptr: number; shape: number[] } {
  const { A, I, B } = modeView(shape, mode);
  const out = s.f32(A * J * B);
  s.k.mode_product_f32(x, A, I, B, u, J, transU ? 1 : 0, out);
  const sh = [...shape];
  sh[mode] = J;
  return { ptr: out, shape: sh };
}

/** Gram matrix X_(n)·X_(n)ᵀ (I×I) at a new pointer. */
export function unfoldGramPtr(s: Scratch, x: number, shape: readonly number[], mode: number): number {
  const { A, I, B } = modeView(shape, mode);
  const g = s.f32(I * I);
  s.k.unfold_gram_f32(x, A, I, B, g);
  return g;
}

/** Khatri–Rao product of I_k×R matrices at pointers (first slowest); returns a pointer (ΠI_k × R), or 0 for an empty list. */
export function khatriRaoPtr(s: Scratch, mats: { ptr: number; rows: number }[], R: number): { ptr: number; rows: number } {
  if (mats.length === 0) return { ptr: 0, rows: 1 };
  let cur = mats[0];
  for (let k = 1; k < mats.length; k++) {
    const rows = cur.rows * mats[k].rows;
    const out = s.f32(rows * R);
    s.k.khatri_rao_f32(cur.ptr, cur.rows, mats[k].ptr, mats[k].rows, R, out);
    cur = { ptr: out, rows };
  }
  return cur;
}

/** MTTKRP X_(n)·KR(other factors) into out (I×R); factors[k] is a pointer to d_k × R. */
export function mttkrpInto(s: Scratch, x: number, shape: readonly number[], factors: readonly number[], R: number, mode: number, out: number): void {
  const { A, I, B } = modeView(shape, mode);
  const before = khatriRaoPtr(s, factors.slice(0, mode).map((p, k) => ({ ptr: p, rows: shape[k] })), R);
  let after = khatriRaoPtr(s, factors.slice(mode + 1).map((p, k) => ({ ptr: p, rows: shape[mode + 1 + k] })), R);
  // 0 tells the kernel "no modes on that side" (a row of ones). Modes of size 1 still carry a
  // factor row (±1 scaled, or anything from the caller), so their 1×R product must be passed
  // (passing 0 for them zeroed or sign-flipped CP of a 1×1×C×1 kernel). With no mode on
  // either side (a 1-way tensor) the kernel needs one explicit row of ones.
  if (before.ptr === 0 && after.ptr === 0) {
    after = { ptr: s.f32(R), rows: 1 };
    s.view(after.ptr, R).fill(1);
  }
  s.k.mttkrp_f32(x, A, I, B, before.ptr, after.ptr, R, out);
}

// ---- public wrappers ------------------------------------------------------

/** Mode-n unfolding X_(n) (d_n × Π_{k≠n} d_k), TensorLy's column order (see top of file). */
export function unfold(t: Tensor, mode: number): Tensor {
  const where = "unfold";
  checkTensor(where, "t", t);
  checkMode(where, t.shape, mode);
  const { A, I, B } = modeView(t.shape, mode);
  return withScratch((s) => {
    const x = s.put(t.data, where, "t");
    const out = s.f32(t.data.length);
    s.k.unfold_f32(x, A, I, B, out);
    return { data: s.take(out, t.data.length), shape: [I, A * B] };
  });
}

/** Inverse of unfold: a d_n × (Π_{k≠n} d_k) matrix back to a tensor of `shape`. */
export function fold(m: Tensor, mode: number, shape: number[]): Tensor {
  const where = "fold";
  checkTensor(where, "m", m, 2);
  checkMode(where, shape, mode);
  const { A, I, B } = modeView(shape, mode);
  if (m.shape[0] !== I || m.shape[1] !== A * B) fail(where, `matrix shape [${m.shape}] does not unfold shape [${shape}] along mode ${mode}; expected [${I},${A * B}]`);
  return withScratch((s) => {
    const u = s.put(m.data, where, "m");
    const out = s.f32(m.data.length);
    s.k.fold_f32(u, A, I, B, out);
    return { data: s.take(out, m.data.length), shape: [...shape] };
  });
}

export interface ModeProductOptions {
  /** Multiply by Uᵀ instead of U (U is then d_n × J). */
  transpose?: boolean;
}

/** Mode-n product t ×_n U with U J × d_n (or d_n × J with transpose). */
export function modeProduct(t: Tensor, u: Tensor, mode: number, options: ModeProductOptions = {}): Tensor {
  const where = "modeProduct";
  checkTensor(where, "t", t);
  checkTensor(where, "u", u, 2);
  checkMode(where, t.shape, mode);
  const tr = !!options.transpose;
  const [J, I] = tr ? [u.shape[1], u.shape[0]] : [u.shape[0], u.shape[1]];
  if (I !== t.shape[mode]) {
    fail(where, `u [${u.shape}]${tr ? " (transposed)" : ""} has ${I} columns but mode ${mode} of t [${t.shape}] has size ${t.shape[mode]}; expected equal`);
  }
  return withScratch((s) => {
    const x = s.put(t.data, where, "t");
    const pu = s.put(u.data, where, "u");
    const r = modeProductPtr(s, x, t.shape, mode, pu, J, tr);
    return { data: s.take(r.ptr, sizeOf(r.shape)), shape: r.shape };
  });
}

/** Khatri–Rao (column-wise Kronecker) product of matrices with equal column counts, first matrix slowest. */
export function khatriRao(mats: Tensor[]): Tensor {
  const where = "khatriRao";
  if (!Array.isArray(mats) || mats.length === 0) fail(where, `expected a non-empty array of matrices, got ${Array.isArray(mats) ? "an empty array" : typeof mats}`);
  mats.forEach((m, i) => checkTensor(where, `mats[${i}]`, m, 2));
  const R = mats[0].shape[1];
  mats.forEach((m, i) => { if (m.shape[1] !== R) fail(where, `mats[${i}] has ${m.shape[1]} columns but mats[0] has ${R}; expected equal column counts`); });
  return withScratch((s) => {
    const ptrs = mats.map((m, i) => ({ ptr: s.put(m.data, where, `mats[${i}]`), rows: m.shape[0] }));
    const r = khatriRaoPtr(s, ptrs, R);
    return { data: s.take(r.ptr, r.rows * R), shape: [r.rows, R] };
  });
}

/** MTTKRP: X_(n) · KR(factors except n), a d_n × R matrix; factors[k] is d_k × R (factors[n] is ignored but must have the right shape). */
export function mttkrp(t: Tensor, factors: Tensor[], mode: number): Tensor {
  const where = "mttkrp";
  checkTensor(where, "t", t);
  checkMode(where, t.shape, mode);
  if (!Array.isArray(factors) || factors.length !== t.shape.length) fail(where, `expected ${t.shape.length} factors for a tensor of shape [${t.shape}], got ${Array.isArray(factors) ? factors.length : typeof factors}`);
  factors.forEach((f, i) => checkTensor(where, `factors[${i}]`, f, 2));
  const R = factors[0].shape[1];
  factors.forEach((f, i) => {
    if (f.shape[0] !== t.shape[i] || f.shape[1] !== R) fail(where, `factors[${i}] has shape [${f.shape}]; expected [${t.shape[i]},${R}]`);
  });
  return withScratch((s) => {
    const x = s.put(t.data, where, "t");
    const ps = factors.map((f, i) => s.put(f.data, where, `factors[${i}]`));
    const out = s.f32(t.shape[mode] * R);
    mttkrpInto(s, x, t.shape, ps, R, mode, out);
    return { data: s.take(out, t.shape[mode] * R), shape: [t.shape[mode], R] };
  });
}

/** X_(n) · X_(n)ᵀ (d_n × d_n) without materialising the unfolding where avoidable. */
export function unfoldGram(t: Tensor, mode: number): Tensor {
  const where = "unfoldGram";
  checkTensor(where, "t", t);
  checkMode(where, t.shape, mode);
  return withScratch((s) => {
    const x = s.put(t.data, where, "t");
    const g = unfoldGramPtr(s, x, t.shape, mode);
    const I = t.shape[mode];
    return { data: s.take(g, I * I), shape: [I, I] };
  });
}
