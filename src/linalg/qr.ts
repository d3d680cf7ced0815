// Thin Householder QR with explicit Q.
//
// Pointer-level entry (for other families working inside one withScratch scope,
// no copies through JS between steps):
//   qrInto(s, aPtr, m, n) → { q, r, k }   q: m×k, r: k×n (row-major float32 pointers in s's
//                                          scratch, valid until the scope ends), k = min(m, n).
//                                          aPtr is left untouched.
import { type Tensor, checkTensor } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { KERNEL_SLACK, scaledCopy, unscale } from "./scale.ts";

export interface QrResult {
  /** m×k with orthonormal columns. */
  q: Tensor;
  /** k×n upper triangular. */
  r: Tensor;
}

export interface QrPointers {
  q: number;
  r: number;
  k: number;
}

export function qrInto(s: Scratch, aPtr: number, m: number, n: number): QrPointers {
  const k = Math.min(m, n);
  // q, r, a scaled copy, the kernel's transposed copy and Qᵀ, blocked panels: checked before any allocation
  s.need(4 * (2 * m * n + 2 * m * k + k * n + 64 * (m + n)) + KERNEL_SLACK, "qr", `the QR of a ${m}×${n} matrix`);
  const q = s.f32(m * k);
  const r = s.f32(k * n);
  // denormal or huge entries: Householder norms under/overflow (Q of NaN) — scale by 2^e first
  const a = scaledCopy(s, aPtr, m * n);
  s.k.qr_f32(a.ptr, m, n, q, r);
  unscale(s, "qr", "entries of R", r, k * n, a.e);
  return { q, r, k };
}

/** Thin QR of a 2-D tensor a (m×n): a = q·r with q m×k orthonormal, r k×n upper triangular, k = min(m, n). */
export function qr(a: Tensor): QrResult {
  const where = "qr";
  checkTensor(where, "a", a, 2);
  const [m, n] = a.shape;
  return withScratch((s) => {
    const p = s.put(a.data, where, "a");
    const { q, r, k } = qrInto(s, p, m, n);
    return { q: { data: s.take(q, m * k), shape: [m, k] }, r: { data: s.take(r, k * n), shape: [k, n] } };
  });
}
