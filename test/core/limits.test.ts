// Issue 13 defect 7: sizes past what the kernels can address fail before anything is
// allocated, with the bytes needed and the limit; wasm memory and the scratch top are
// the same after the failed call as before, and the next call works.
import { beforeAll, describe, expect, it } from "vitest";
import { OdecompError, cp, eigh, lowRankMatmul, matmul, qr, ready, svd, svdInto, tucker, wasmMemoryBytes } from "../../src/index.ts";
import { getKernels } from "../../src/core/loader.ts";
import { withScratch } from "../../src/core/heap.ts";
import { randMat } from "../helpers/linalg.ts";
import { randTensor } from "../helpers/tensors.ts";

beforeAll(() => ready());

/** f must fail with an OdecompError giving bytes and the limit, leaving memory and scratch as they were. */
function failsCleanly(f: () => unknown, where: RegExp): void {
  const k = getKernels();
  const mem = wasmMemoryBytes(), mark = k.scratch_mark();
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(OdecompError);
  const msg = (err as Error).message;
  expect(msg).toMatch(where);
  expect(msg).toMatch(/needs [\d.]+ [KMGT]?i?B .*limit/);
  expect(wasmMemoryBytes()).toBe(mem);
  expect(k.scratch_mark()).toBe(mark);
}

describe("size limits", () => {
  it("cp with rank 1e5 on a 6×5×3×3 tensor (was a raw RangeError and 4 GB kept)", () => {
    const t = randTensor([6, 5, 3, 3], 1);
    failsCleanly(() => cp(t, { rank: 1e5 }), /^cp: /);
    expect(cp(t, { rank: 3, maxIter: 5 }).rank).toBe(3);
  });

  it("svd of 20000×20000 fails at once (ran 140 s, then 'memory access out of bounds')", () => {
    failsCleanly(() => withScratch((s) => svdInto(s, s.f32(1), 20000, 20000)), /^svd: /);
    failsCleanly(() => withScratch((s) => svdInto(s, s.f32(1), 30000, 30000, { rank: 10 })), /^svd: /);
    expect(svd(randMat(5, 3, 1)).s.length).toBe(3);
  });

  it("matmul and lowRankMatmul whose output passes the limit (560000×1000 gave a negative offset)", () => {
    const a = { data: new Float32Array(60000).fill(1), shape: [60000, 1] };
    const b = { data: new Float32Array(60000).fill(1), shape: [1, 60000] };
    failsCleanly(() => matmul(a, b), /^matmul: /);
    failsCleanly(() => lowRankMatmul(a, { data: Float32Array.of(1), shape: [1, 1] }, b), /^lowRankMatmul: /);
    expect(matmul(randMat(3, 4, 1), randMat(4, 5, 2)).shape).toEqual([3, 5]);
  });

  it("tucker, qr and eigh check their workspace too (tt needs at most ~8× its input)", () => {
    // 46341² float32 values pass 2^31 × 4 bytes: shapes whose Gram or copy cannot fit
    const long = { data: new Float32Array(2 * 40000).fill(1), shape: [2, 40000] };
    failsCleanly(() => tucker({ data: long.data, shape: [40000, 2] }, { rank: 1, modes: [0] }), /^tucker: /);
    failsCleanly(() => withScratch((s) => { s.need(2 ** 33, "eigh", "a test"); }), /^eigh: /);
    expect(qr(randMat(4, 3, 1)).q.shape).toEqual([4, 3]);
    expect(eigh({ data: Float32Array.of(2, 1, 1, 2), shape: [2, 2] }).values[0]).toBeCloseTo(3, 5);
  });

  it("a kernel's own allocation past the limit traps into an OdecompError, not a write through a null pointer", () => {
    const k = getKernels();
    const mem = wasmMemoryBytes(), mark = k.scratch_mark();
    expect(() => withScratch((s) => s.k.scratch_alloc(2 ** 31 - 16))).toThrow(/odecomp: a kernel needs 2\.00 GiB more of wasm memory .*limit is 2\.00 GiB/);
    expect(wasmMemoryBytes()).toBe(mem);
    expect(k.scratch_mark()).toBe(mark);
    expect(svd(randMat(4, 4, 2)).s.length).toBe(4);
  });
});
