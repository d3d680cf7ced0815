import { beforeAll, describe, expect, it } from "vitest";
import { matmul, ready, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { getKernels } from "../../src/core/loader.ts";
import { randn } from "../helpers/random.ts";
import { maxRelErr, refGemm, refMatmul, relErr } from "../helpers/reference.ts";

beforeAll(() => ready());

const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });
const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

/** matmul(a, b) against the float64 reference for one (m, n, k) and transpose pair. */
function checkShape(m: number, n: number, k: number, ta: boolean, tb: boolean, seed: number): void {
  const a = ta ? mk(k, m, seed) : mk(m, k, seed);
  const b = tb ? mk(n, k, seed + 1) : mk(k, n, seed + 1);
  const c = matmul(a, b, { transposeA: ta, transposeB: tb });
  expect(c.shape).toEqual([m, n]);
  const err = relErr(c.data, refMatmul(a, b, ta, tb));
  if (!(err < 2e-6 * Math.sqrt(k) + 1e-6)) throw new Error(`m=${m} n=${n} k=${k} ta=${ta} tb=${tb}: relErr ${err}`);
}

describe("matmul", () => {
  // Sizes around the SIMD width (4), the register tile (4×8) and the cache
  // blocks (MC = 128, KC = 256, NC = 2048 in assembly/linalg/gemm.ts).
  const sizes = [1, 2, 3, 4, 5, 7, 8, 17, 33, 64, 65, 129];
  for (const [ta, tb] of TRANSPOSES) {
    it(`agrees with the scalar reference over tile and SIMD edges (transposeA=${ta}, transposeB=${tb})`, () => {
      let seed = 1;
      for (const m of sizes) {
        // Rotate n and k through the list so every size appears on every axis without the full cube.
        for (let s = 0; s < sizes.length; s += 3) {
          const n = sizes[(s + sizes.indexOf(m)) % sizes.length];
          const k = sizes[(s * 5 + 2 * sizes.indexOf(m) + 1) % sizes.length];
          checkShape(m, n, k, ta, tb, seed);
          seed += 2;
        }
      }
    });

    it(`handles blocks just past the cache-block sizes (transposeA=${ta}, transposeB=${tb})`, () => {
      // m past MC, k past KC (and past 2·KC), n past NC; plus 257 on each axis.
      checkShape(257, 33, 129, ta, tb, 101);
      checkShape(65, 257, 257, ta, tb, 103);
      checkShape(17, 129, 513, ta, tb, 105);
      checkShape(5, 2049, 9, ta, tb, 107);
      // Skinny shapes on the direct path (m below one register tile) with long n and k.
      checkShape(1, 257, 300, ta, tb, 109);
      checkShape(3, 65, 1030, ta, tb, 111);
      checkShape(257, 1, 64, ta, tb, 113);
    });
  }

  it("computes exact small products (identity, zeros, 1×1)", () => {
    const eye: Tensor = { data: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), shape: [3, 3] };
    const x = mk(3, 5, 7);
    expect(Array.from(matmul(eye, x).data)).toEqual(Array.from(x.data));
    const z = matmul({ data: new Float32Array(12), shape: [4, 3] }, mk(3, 70, 8));
    expect(z.data.every((v) => v === 0)).toBe(true);
    expect(Array.from(matmul({ data: new Float32Array([3]), shape: [1, 1] }, { data: new Float32Array([-2]), shape: [1, 1] }).data)).toEqual([-6]);
  });

  it("rejects mismatched inner dimensions, naming both shapes", () => {
    expect(() => matmul(mk(3, 4, 1), mk(5, 2, 2))).toThrow(/inner dimensions differ.*\[3,4\].*\[5,2\]/);
    expect(() => matmul(mk(3, 4, 1), mk(3, 4, 2), { transposeB: false })).toThrow(/op\(a\) is 3×4.*op\(b\) is 3×4/);
  });

  it("rejects NaN and Inf, naming the index", () => {
    const a = mk(2, 2, 1);
    a.data[3] = NaN;
    expect(() => matmul(a, mk(2, 2, 2))).toThrow(/a has a non-finite value \(NaN\) at flat index 3/);
    const b = mk(2, 2, 2);
    b.data[1] = -Infinity;
    expect(() => matmul(mk(2, 2, 1), b)).toThrow(/b has a non-finite value \(-Infinity\) at flat index 1/);
  });

  it("rejects empty and malformed tensors", () => {
    expect(() => matmul({ data: new Float32Array(0), shape: [0, 3] }, mk(3, 3, 1))).toThrow(/dimension 0/);
    expect(() => matmul({ data: new Float32Array(5), shape: [2, 3] }, mk(3, 3, 1))).toThrow(/5 values but shape \[2,3\] needs 6/);
    expect(() => matmul({ data: [1, 2] as unknown as Float32Array, shape: [1, 2] }, mk(2, 1, 1))).toThrow(/Float32Array/);
    expect(() => matmul(mk(2, 3, 1).data as unknown as Tensor, mk(3, 1, 1))).toThrow(/a.data must be a Float32Array, got undefined/);
  });

  it("does not grow memory across repeated calls (packed and direct paths, all transposes)", () => {
    const a = mk(200, 300, 1), b = mk(300, 300, 2), s = mk(2, 300, 3);
    for (const [ta, tb] of TRANSPOSES) matmul(ta ? mk(300, 200, 4) : a, tb ? b : b, { transposeA: ta, transposeB: tb });
    const before = wasmMemoryBytes();
    const k = getKernels();
    const mark = k.scratch_mark();
    for (let i = 0; i < 5; i++) {
      for (const [ta, tb] of TRANSPOSES) matmul(ta ? mk(300, 200, 4) : a, b, { transposeA: ta, transposeB: tb });
      matmul(s, b);
    }
    expect(wasmMemoryBytes()).toBe(before);
    expect(k.scratch_mark()).toBe(mark);
  });
});

describe("gemm_f32 kernel (strides, alpha, beta)", () => {
  /**
   * Runs the raw kernel on strided buffers (lda/ldb/ldc wider than the rows)
   * and compares the whole C buffer, padding included, with refGemm.
   */
  function runKernel(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, beta: number, cInit: (i: number) => number): void {
    const kern = getKernels();
    const [ar, ac] = ta ? [k, m] : [m, k];
    const [br, bc] = tb ? [n, k] : [k, n];
    const lda = ac + 3, ldb = bc + 5, ldc = n + 7;
    const A = randn(ar * lda, m * 31 + k), B = randn(br * ldb, n * 17 + k);
    const C = new Float32Array(m * ldc).map((_, i) => cInit(i));
    const mark = kern.scratch_mark();
    try {
      const pa = kern.scratch_alloc(A.length * 4), pb = kern.scratch_alloc(B.length * 4), pc = kern.scratch_alloc(C.length * 4);
      const mem = () => new Float32Array(kern.memory.buffer);
      mem().set(A, pa / 4);
      mem().set(B, pb / 4);
      mem().set(C, pc / 4);
      kern.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
      const got = mem().slice(pc / 4, pc / 4 + C.length);
      const want = refGemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
      // Padding columns must be untouched (bit-exact, NaN included).
      for (let i = 0; i < m; i++) {
        for (let j = n; j < ldc; j++) expect(Object.is(got[i * ldc + j], C[i * ldc + j])).toBe(true);
      }
      const inWindow = (_: number, i: number) => i % ldc < n;
      const gotWin = got.filter(inWindow), wantWin = want.filter(inWindow);
      expect(gotWin.every(Number.isFinite)).toBe(true);
      const err = maxRelErr(gotWin, wantWin);
      if (!(err < 1e-5)) throw new Error(`ta=${ta} tb=${tb} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}: maxRelErr ${err}`);
    } finally {
      kern.scratch_reset(mark);
    }
  }

  // (m, n, k): direct path (small, skinny) and packed path (edge tiles, several k blocks).
  const shapes: [number, number, number][] = [[1, 1, 1], [2, 9, 5], [3, 40, 70], [7, 13, 5], [33, 17, 65], [70, 45, 300]];
  for (const [ta, tb] of TRANSPOSES) {
    it(`C = alpha·op(A)·op(B) + beta·C with lda/ldb/ldc wider than the rows (transA=${ta}, transB=${tb})`, () => {
      for (const [m, n, k] of shapes) {
        runKernel(ta, tb, m, n, k, 0.5, -1.5, (i) => Math.sin(i));
        runKernel(ta, tb, m, n, k, -2, 1, (i) => Math.cos(i));
        // beta = 0 must ignore C even when it holds NaN/Inf garbage (padding keeps its NaN).
        runKernel(ta, tb, m, n, k, 1.25, 0, (i) => (i % 3 === 0 ? NaN : i % 3 === 1 ? Infinity : -1e30));
        // alpha = 0 only scales C.
        runKernel(ta, tb, m, n, k, 0, 0.25, (i) => i % 11);
      }
    });
  }
});
