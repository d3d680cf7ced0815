// The conv gradients' skinny products called directly (assembly/conv/gemm_tn.ts, gemm_nb.ts) against
// a float64 scalar reference: every tile edge (K, N, M of 1–9, 15–17, 33, 64), rows across the
// 256-row blocks, accumulation, strided operands whose padding must stay untouched, zero / tiny /
// huge values; and the conv kernels built on them (ours, forward and both gradients) bitwise the
// same on one and two threads at sizes where they split.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ready, setThreads, getThreads } from "../../src/index.ts";
import { withScratch } from "../../src/core/heap.ts";
import { rng } from "../helpers/random.ts";

const EDGES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64];

beforeAll(async () => {
  await ready();
});

afterAll(async () => {
  await setThreads(1);
});

function fill(n: number, r: () => number, scale = 1): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (2 * r() - 1) * scale;
  return d;
}

/** max |got − ref| over the used entries / max |ref| (0 when both vanish), and whether padding kept its sentinel. */
function compare(got: Float32Array, ref: Float64Array, rows: number, cols: number, ld: number, sentinel: number): { err: number; padOk: boolean } {
  let num = 0, den = 0, padOk = true;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < ld; j++) {
      const v = got[i * ld + j];
      if (j >= cols) { if (v !== sentinel) padOk = false; continue; }
      num = Math.max(num, Math.abs(v - ref[i * cols + j]));
      den = Math.max(den, Math.abs(ref[i * cols + j]));
    }
  }
  return { err: den === 0 ? num : num / den, padOk };
}

describe("gemm_tn_rows: C (K×N) [+]= Aᵀ·B over rows, operands read in place", () => {
  it("equals a float64 reference at every tile edge, across row blocks, with accumulation and strides", () => {
    const r = rng(16031);
    let cases = 0;
    for (const K of EDGES) for (const N of EDGES) {
      const rows = [0, 1, 5, 255, 256, 257, 700][(K * 7 + N) % 7];
      const lda = K + (K % 3), ldb = N + (N % 2), ldc = N + 3;
      const a = fill(Math.max(rows * lda, 1), r), b = fill(Math.max(rows * ldb, 1), r);
      const c0 = fill(K * ldc, r);
      const acc = (K + N) % 2;
      const ref = new Float64Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) {
        let s = acc ? c0[k * ldc + n] : 0;
        for (let p = 0; p < rows; p++) s += a[p * lda + k] * b[p * ldb + n];
        ref[k * N + n] = s;
      }
      const sentinel = 12345;
      const got = withScratch((s) => {
        const pa = s.put(a), pb = s.put(b);
        const init = c0.slice();
        for (let k = 0; k < K; k++) for (let j = N; j < ldc; j++) init[k * ldc + j] = sentinel;
        const pc = s.put(init);
        s.k.gemm_tn_rows(rows, K, N, pa, lda, pb, ldb, pc, ldc, acc);
        return s.take(pc, K * ldc);
      });
      const { err, padOk } = compare(got, ref, K, N, ldc, sentinel);
      expect(err, `K ${K} N ${N} rows ${rows} acc ${acc}`).toBeLessThan(1e-5);
      expect(padOk, `K ${K} N ${N}: columns past N untouched`).toBe(true);
      cases++;
    }
    expect(cases).toBe(EDGES.length ** 2);
  });

  it("is exact on zero, and keeps tiny (1e-20 · 1e-20) and huge (1e18 · 1e18) products in range", () => {
    for (const [scaleA, scaleB, expectZero] of [[0, 1, true], [1e-20, 1e-20, false], [1e18, 1e18, false]] as const) {
      const r = rng(7);
      const rows = 300, K = 17, N = 5;
      const a = fill(rows * K, r, scaleA), b = fill(rows * N, r, scaleB);
      const got = withScratch((s) => {
        const pc = s.f32(K * N);
        s.k.gemm_tn_rows(rows, K, N, s.put(a), K, s.put(b), N, pc, N, 0);
        return s.take(pc, K * N);
      });
      const ref = new Float64Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) for (let p = 0; p < rows; p++) ref[k * N + n] += a[p * K + k] * b[p * N + n];
      if (expectZero) expect(got.every((v) => v === 0)).toBe(true);
      else {
        expect(got.every(Number.isFinite)).toBe(true);
        expect(compare(got, ref, K, N, N, 0).err).toBeLessThan(1e-5);
      }
    }
  });
});

describe("gemm_nb_rows: C (M×N) = A·Bᵀ, A read in place, B packed once (pack_bt)", () => {
  it("equals a float64 reference at every tile edge, for row-major and transposed B, leaving C's padding untouched", () => {
    const r = rng(16032);
    let cases = 0;
    for (const Kr of EDGES) for (const N of EDGES) {
      const M = [1, 3, 4, 5, 63, 64, 65, 130][(Kr * 5 + N) % 8];
      const lda = Kr + (Kr % 2), ldc = N + 2;
      const trans = (Kr + N) % 2 === 1;
      const a = fill(M * lda, r), b = fill(N * Kr, r); // B element (n, k): b[n·Kr + k], or b[k·N + n] when trans
      const bAt = (n: number, k: number) => (trans ? b[k * N + n] : b[n * Kr + k]);
      const ref = new Float64Array(M * N);
      for (let i = 0; i < M; i++) for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < Kr; k++) s += a[i * lda + k] * bAt(n, k);
        ref[i * N + n] = s;
      }
      const sentinel = -777;
      const got = withScratch((s) => {
        const pa = s.put(a), pb = s.put(b);
        const bp = s.f32(Math.ceil(N / 8) * 8 * Kr);
        if (trans) s.k.pack_bt(pb, N, Kr, 1, N, bp);
        else s.k.pack_bt(pb, N, Kr, Kr, 1, bp);
        const pc = s.put(new Float32Array(M * ldc).fill(sentinel));
        s.k.gemm_nb_rows(M, N, Kr, pa, lda, bp, pc, ldc);
        return s.take(pc, M * ldc);
      });
      const { err, padOk } = compare(got, ref, M, N, ldc, sentinel);
      expect(err, `M ${M} N ${N} Kr ${Kr} trans ${trans}`).toBeLessThan(1e-5);
      expect(padOk, `M ${M} N ${N} Kr ${Kr}: columns past N untouched`).toBe(true);
      cases++;
    }
    expect(cases).toBe(EDGES.length ** 2);
  });

  it("gives each row the same bits whether it is computed alone or among others (splits cannot change results)", () => {
    const r = rng(99);
    const M = 37, N = 17, Kr = 33;
    const a = fill(M * Kr, r), b = fill(N * Kr, r);
    withScratch((s) => {
      const pa = s.put(a), bp = s.f32(24 * Kr);
      s.k.pack_bt(s.put(b), N, Kr, Kr, 1, bp);
      const all = s.f32(M * N);
      s.k.gemm_nb_rows(M, N, Kr, pa, Kr, bp, all, N);
      const one = s.f32(N);
      for (let i = 0; i < M; i++) {
        s.k.gemm_nb_rows(1, N, Kr, pa + 4 * i * Kr, Kr, bp, one, N);
        expect(Array.from(s.view(one, N)), `row ${i}`).toEqual(Array.from(s.view(all + 4 * i * N, N)));
      }
    });
  });
});

describe("odecomp's conv kernels on one and two threads", () => {
  it("forward, dW and dX are bitwise the same on 1 and 2 threads where they split (1×1 and 3×3, odd channels, stride 2)", async () => {
    const r = rng(1616);
    const shapes: [number[], number[], number, number][] = [
      // x [b, h, w, c], filter [kh, kw, ci, co], stride, pad ('same' as (k−1)/2, or 0)
      [[8, 24, 24, 17], [1, 1, 17, 33], 1, 0],
      [[8, 24, 24, 5], [3, 3, 5, 17], 1, 1],
      [[6, 41, 41, 33], [3, 3, 33, 3], 2, 1],
      [[16, 28, 28, 1], [3, 3, 1, 32], 1, 1],
    ];
    for (const [xs, fs, st, pad] of shapes) {
      const [B, H, W, C] = xs, [kh, kw, , O] = fs;
      const oh = Math.floor((H + 2 * pad - kh) / st) + 1, ow = Math.floor((W + 2 * pad - kw) / st) + 1;
      const x = fill(B * H * W * C, r), w = fill(kh * kw * C * O, r), dy = fill(B * oh * ow * O, r);
      const results: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        await setThreads(threads);
        expect(getThreads()).toBe(threads);
        results.push(withScratch((s) => {
          const g = s.i32(16);
          new Int32Array(s.k.memory.buffer, g, 16).set([B, H, W, C, oh, ow, O, kh, kw, st, st, 1, 1, pad, pad, 1]);
          const px = s.put(x), pw = s.put(w), pdy = s.put(dy);
          const y = s.f32(B * oh * ow * O), dw = s.f32(w.length), dx = s.f32(x.length);
          expect(s.k.conv2d_f32(g, px, pw, y)).toBe(0);
          expect(s.k.conv2d_backprop_filter_f32(g, px, pdy, dw)).toBe(0);
          expect(s.k.conv2d_backprop_input_f32(g, pdy, pw, dx)).toBe(0);
          return [s.take(y, B * oh * ow * O), s.take(dw, w.length), s.take(dx, x.length)];
        }));
      }
      for (const [i, what] of ["forward", "dW", "dX"].entries()) {
        expect(Buffer.from(results[1][i].buffer).equals(Buffer.from(results[0][i].buffer)), `${what} x [${xs}] filter [${fs}] stride ${st}`).toBe(true);
      }
    }
  });
});
