// Issue 13 defect 1: modes of size 1 (a 1×1×C×1 conv kernel) — CP once wrote an
// all-zero tensor because the MTTKRP dropped the Khatri–Rao product of size-1 modes.
import { beforeAll, describe, expect, it } from "vitest";
import { cp, mttkrp, ready, tt, tucker } from "../../src/index.ts";
import { cpDense, randTensor, refKhatriRao, refUnfold } from "../helpers/tensors.ts";
import { relErr } from "../helpers/reference.ts";

beforeAll(() => ready());

const t = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });

describe("size-1 modes", () => {
  it("cp recovers an exactly rank-1 tensor whose other modes all have size 1", () => {
    for (const shape of [[1, 1, 3, 1], [3, 1, 1, 1], [1, 3, 1], [3, 1], [1, 3], [1, 1, 1, 5], [1, 17, 1, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = t(Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 1)), shape);
      const d = cp(x, { rank: 1 });
      expect(relErr(d.toDense().data, x.data), `shape [${shape}]`).toBeLessThan(1e-6);
    }
  });

  it("cp fits a rank-2 tensor with size-1 modes between larger ones", () => {
    const x = cpDense([randTensor([4, 2], 1), randTensor([1, 2], 2), randTensor([5, 2], 3), randTensor([1, 2], 4)]);
    const d = cp(x, { rank: 2, maxIter: 300 });
    expect(d.relativeError(x)).toBeLessThan(1e-4);
  });

  it("mttkrp matches the scalar reference when the modes before or after the mode have size 1", () => {
    for (const shape of [[1, 1, 3, 1], [3, 1, 1], [1, 4, 1, 2], [2, 1, 3]]) {
      const x = randTensor(shape, 5);
      const R = 3;
      // size-1 factors that are not 1: −2 and 0.5 make dropping them visible
      const fs = shape.map((d, k) => (d === 1 ? t(Array.from({ length: R }, (_, r) => (k + r) % 2 ? -2 : 0.5), [1, R]) : randTensor([d, R], 10 + k)));
      for (let mode = 0; mode < shape.length; mode++) {
        const got = mttkrp(x, fs, mode);
        const others = fs.filter((_, k) => k !== mode);
        const kr = refKhatriRao(others);
        const unf = refUnfold(x, mode);
        const cols = unf.length / shape[mode];
        const want = new Float64Array(shape[mode] * R);
        for (let i = 0; i < shape[mode]; i++) for (let r = 0; r < R; r++) {
          let s = 0;
          for (let c = 0; c < cols; c++) s += unf[i * cols + c] * kr[c * R + r];
          want[i * R + r] = s;
        }
        expect(relErr(got.data, want), `shape [${shape}] mode ${mode}`).toBeLessThan(1e-5);
      }
    }
  });

  it("tucker and tt keep size-1 modes exact", () => {
    const x = t([1, -2, 3], [1, 1, 3, 1]);
    expect(relErr(tucker(x, { rank: 1 }).toDense().data, x.data)).toBeLessThan(1e-6);
    expect(relErr(tt(x, { rank: 1 }).toDense().data, x.data)).toBeLessThan(1e-6);
  });
});
