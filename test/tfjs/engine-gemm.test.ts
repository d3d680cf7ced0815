// The conv gradients' skinny products called directly (assembly/conv/gemm_tn.ts, gemm_nb.ts) against
// a float64 scalar reference: every tile edge (K, N, M of 1–9, 15–17, 33, 64), rows across the
// 256-row blocks, accumulation, strided operands whose padding must stay untouched, zero / tiny /
// huge values; and the conv kernels built on them (ours, forward and both gradients) bitwise the
// same on one and two threads at sizes where they split — also the ones that apply the epilogue per
// thread (conv2d_bias_act_f32), its gradient with the bias gradient summed over row chunks
// (act_bias_grad_f32) and the max-pool gradient split over images (maxpool_backprop_f32).
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
      const x = fill(B * H * W * C, r), w = fill(kh * kw * C * O, r), dy = fill(B * oh * ow * O, r), bias = fill(O, r);
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
          // with the epilogue: per-channel bias + relu, and a scalar bias without activation
          const pb = s.put(bias.subarray(0, O)), yr = s.f32(B * oh * ow * O), yl = s.f32(B * oh * ow * O);
          s.view(yr, B * oh * ow * O).fill(NaN); // scratch is reused: an output left unwritten must not keep the last run's value
          s.view(yl, B * oh * ow * O).fill(NaN);
          expect(s.k.conv2d_bias_act_f32(g, px, pw, yr, pb, O, 1)).toBe(0);
          expect(s.k.conv2d_bias_act_f32(g, px, pw, yl, pb, 1, 0)).toBe(0);
          const n = B * oh * ow * O;
          return [s.take(y, n), s.take(dw, w.length), s.take(dx, x.length), s.take(yr, n), s.take(yl, n)];
        }));
      }
      for (const [i, what] of ["forward", "dW", "dX", "forward + bias + relu", "forward + scalar bias"].entries()) {
        expect(Buffer.from(results[1][i].buffer).equals(Buffer.from(results[0][i].buffer)), `${what} x [${xs}] filter [${fs}] stride ${st}`).toBe(true);
      }
      // the epilogue inside the conv = the conv, then bias and activation in f32, element by element
      const [y, , , yr, yl] = results[0];
      let same = true;
      for (let j = 0; j < y.length; j++) {
        const z = Math.fround(y[j] + bias[j % O]);
        if (!Object.is(yr[j], z > 0 ? z : 0) || !Object.is(yl[j], Math.fround(y[j] + bias[0]))) same = false;
      }
      expect(same, `epilogue x [${xs}] filter [${fs}]`).toBe(true);
    }
  });

  it("gemm_tn_par (Dense's weight gradient, C's rows over the threads) is bitwise gemm_tn_rows, with and without accumulation", async () => {
    const r = rng(1919);
    // K across the 8-row split points and the 4-wide tiles, N at the 8/4-wide tile edges; rows = a batch
    const shapes: [number, number, number][] = [[64, 3136, 128], [64, 3136, 80], [64, 129, 17], [33, 1027, 5], [64, 80, 128], [1, 5000, 257]];
    for (const [rows, K, N] of shapes) {
      const a = fill(rows * K, r), b = fill(rows * N, r), c0 = fill(K * N, r);
      const got: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        await setThreads(threads);
        got.push(withScratch((s) => {
          const pa = s.put(a), pb = s.put(b), ref = s.put(c0), par = s.f32(K * N), refAcc = s.put(c0), parAcc = s.put(c0);
          s.k.gemm_tn_rows(rows, K, N, pa, K, pb, N, ref, N, 0);
          s.view(par, K * N).fill(NaN); // scratch is reused: a row left unwritten must not keep the last run's value
          s.k.gemm_tn_par(rows, K, N, pa, K, pb, N, par, N, 0);
          s.k.gemm_tn_rows(rows, K, N, pa, K, pb, N, refAcc, N, 1);
          s.k.gemm_tn_par(rows, K, N, pa, K, pb, N, parAcc, N, 1);
          return [s.take(ref, K * N), s.take(par, K * N), s.take(refAcc, K * N), s.take(parAcc, K * N)];
        }));
      }
      for (const [t, [ref, par, refAcc, parAcc]] of got.entries()) {
        const what = `[${rows}, ${K}, ${N}] on ${t + 1} thread(s)`;
        expect(Buffer.from(par.buffer).equals(Buffer.from(ref.buffer)), what).toBe(true);
        expect(Buffer.from(parAcc.buffer).equals(Buffer.from(refAcc.buffer)), `${what}, accumulating`).toBe(true);
      }
    }
  });

  it("act_bias_grad_f32: dz = dy·relu'(y) and db = Σ dz over row chunks, bitwise on 1 and 2 threads, db within f64 rounding", async () => {
    const r = rng(1717);
    // rows across the 4096-row chunks (one leftover row, exact multiples) and channels at the SIMD tails
    const shapes: [number, number][] = [[12289, 64], [40000, 17], [200000, 3], [8192, 5], [4095, 33], [1, 4]];
    for (const [rows, cols] of shapes) {
      const dy = fill(rows * cols, r), y = fill(rows * cols, r);
      y[0] = NaN; y[1] = 0; // tfjs's Step: NaN stays NaN, 0 is not > 0
      const results: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        await setThreads(threads);
        results.push(withScratch((s) => {
          const pdy = s.put(dy), py = s.put(y), db = s.f32(cols);
          const pdl = s.put(dy), dbl = s.f32(cols);
          expect(s.k.act_bias_grad_f32(pdy, py, rows, cols, 1, db, 0)).toBe(0);
          expect(s.k.act_bias_grad_f32(pdl, py, rows, cols, 0, dbl, 0)).toBe(0);
          return [s.take(pdy, rows * cols), s.take(db, cols), s.take(pdl, rows * cols), s.take(dbl, cols)];
        }));
      }
      for (const [i, what] of ["dz (relu)", "db (relu)", "dz (linear)", "db (linear)"].entries()) {
        expect(Buffer.from(results[1][i].buffer).equals(Buffer.from(results[0][i].buffer)), `${what} [${rows}, ${cols}]`).toBe(true);
      }
      const [dz, db, dzl, dbl] = results[0];
      expect(Number.isNaN(dz[0]) && Object.is(dz[1], dy[1] * 0)).toBe(true);
      expect(Buffer.from(dzl.buffer).equals(Buffer.from(dy.buffer))).toBe(true);
      for (const [g, b, relu] of [[dz, db, true], [dzl, dbl, false]] as const) {
        for (let c = 0; c < cols; c++) {
          if (relu && c === 0) { expect(Number.isNaN(b[0]), "db[0] takes the NaN of dz[0]").toBe(true); continue; }
          let sum = 0, abs = 0;
          for (let i = 0; i < rows; i++) { sum += g[i * cols + c]; abs += Math.abs(g[i * cols + c]); }
          expect(Math.abs(b[c] - sum), `db[${c}] [${rows}, ${cols}] ${relu ? "relu" : "linear"}`).toBeLessThanOrEqual(1e-6 * abs + 1e-30);
        }
      }
    }
  });

  it("maxpool_backprop_f32 split over images is bitwise the 1-thread result and the first-max scatter of a float64 reference", async () => {
    const r = rng(1818);
    // x [b, h, w, c], window, stride, pad: windows that tile, overlapping ones with padding, odd channels
    const shapes: [number[], number, number, number][] = [
      [[16, 32, 32, 33], 2, 2, 0],
      [[8, 31, 31, 33], 3, 2, 1],
      [[5, 9, 9, 3], 2, 2, 0],
    ];
    for (const [[B, H, W, C], k, st, pad] of shapes) {
      const oh = Math.floor((H + 2 * pad - k) / st) + 1, ow = Math.floor((W + 2 * pad - k) / st) + 1;
      const x = fill(B * H * W * C, r), dy = fill(B * oh * ow * C, r);
      for (let i = 0; i < x.length; i += 7) x[i] = 0; // ties, as after relu
      const results: Float32Array[] = [];
      for (const threads of [1, 2]) {
        await setThreads(threads);
        results.push(withScratch((s) => {
          const g = s.i32(16);
          new Int32Array(s.k.memory.buffer, g, 16).set([B, H, W, C, oh, ow, C, k, k, st, st, 1, 1, pad, pad, 1]);
          const px = s.put(x), pdy = s.put(dy), dx = s.f32(x.length);
          s.view(dx, x.length).fill(NaN); // scratch is reused: a position left unwritten must not keep the last run's value
          s.k.maxpool_backprop_f32(g, px, pdy, dx);
          return s.take(dx, x.length);
        }));
      }
      expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer)), `x [${B},${H},${W},${C}] ${k}×${k}/${st}`).toBe(true);
      const ref = new Float64Array(x.length);
      for (let b = 0; b < B; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let c = 0; c < C; c++) {
        let best = -Infinity, at = -1;
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
          const h = i * st - pad + u, w = j * st - pad + v;
          if (h < 0 || h >= H || w < 0 || w >= W) continue;
          const o = ((b * H + h) * W + w) * C + c;
          if (x[o] > best) { best = x[o]; at = o; }
        }
        if (at >= 0) ref[at] += dy[((b * oh + i) * ow + j) * C + c];
      }
      let err = 0;
      for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(results[0][i] - ref[i]));
      expect(err, `x [${B},${H},${W},${C}] ${k}×${k}/${st}`).toBeLessThanOrEqual(1e-6);
    }
  });
});
