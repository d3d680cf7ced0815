// Kernel layouts without any decomposition: permute against a scalar
// reference, and each chain-kernel layout folding back to the kernel its
// factors define (checked element by element against the factor sums).
import { beforeAll, describe, expect, it } from "vitest";
import { ready, type Tensor } from "../../src/index.ts";
import {
  channelFold, channelKernels, cpFold, cpKernels, permute, reshape, spatialFold, spatialKernels, tucker2Fold, tucker2Kernels,
} from "../../src/layers/layout.ts";
import { randn } from "../helpers/random.ts";

beforeAll(async () => { await ready(); });

const t = (shape: number[], seed: number): Tensor => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed), shape });
const at = (x: Tensor, idx: number[]) => x.data[idx.reduce((o, v, d) => o * x.shape[d] + v, 0)];
const close = (a: Tensor, ref: (i: number, j: number, s: number, u: number) => number) => {
  const [kh, kw, S, T] = a.shape;
  let worst = 0;
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let s = 0; s < S; s++) for (let u = 0; u < T; u++) {
    worst = Math.max(worst, Math.abs(at(a, [i, j, s, u]) - ref(i, j, s, u)));
  }
  return worst;
};

describe("permute", () => {
  it.each([[[1, 3, 4, 5], [3, 1, 0, 2]], [[2, 17, 1], [2, 0, 1]], [[64, 1], [1, 0]], [[3, 4, 5, 2], [0, 2, 1, 3]]])("shape %j perm %j matches the scalar reference", (shape, perm) => {
    const x = t(shape, 1);
    const y = permute(x, perm);
    expect(y.shape).toEqual(perm.map((p) => shape[p]));
    for (let o = 0; o < y.data.length; o++) {
      const idx: number[] = [];
      let r = o;
      for (let d = y.shape.length - 1; d >= 0; d--) { idx[d] = r % y.shape[d]; r = Math.floor(r / y.shape[d]); }
      const src: number[] = [];
      perm.forEach((p, d) => { src[p] = idx[d]; });
      expect(y.data[o]).toBe(at(x, src));
    }
  });
  it("rejects a bad permutation and a bad reshape, naming them", () => {
    expect(() => permute(t([2, 3], 1), [0, 0])).toThrow("perm [0,0] is not a permutation of 0..1");
    expect(() => reshape(t([2, 3], 1), [4])).toThrow("cannot reshape [2,3] (6 values) to [4]");
  });
});

describe("chain kernels fold back to the factors' kernel", () => {
  const [kh, kw, S, T, R, R2] = [3, 2, 5, 4, 3, 2];
  it("channel: K[i,j,s,u] = Σ_r A[(i,j,s), r] B[r, u]", () => {
    const a = t([kh * kw * S, R], 2), b = t([R, T], 3);
    const k = channelKernels(a, b, kh, kw);
    expect(close(channelFold(k.spatial, k.pointwise), (i, j, s, u) => {
      let x = 0; for (let r = 0; r < R; r++) x += at(a, [(i * kw + j) * S + s, r]) * at(b, [r, u]); return x;
    })).toBeLessThan(1e-5);
  });
  it("spatial: K[i,j,s,u] = Σ_r A[(i,s), r] B[(j,u), r]", () => {
    const a = t([kh * S, R], 4), b = t([kw * T, R], 5);
    const k = spatialKernels(a, b, kh, kw);
    expect(close(spatialFold(k.vertical, k.horizontal), (i, j, s, u) => {
      let x = 0; for (let r = 0; r < R; r++) x += at(a, [i * S + s, r]) * at(b, [j * T + u, r]); return x;
    })).toBeLessThan(1e-5);
  });
  it("tucker2: K[i,j,s,u] = Σ core[i,j,p,q] U_in[s,p] U_out[u,q]", () => {
    const core = t([kh, kw, R, R2], 6), uIn = t([S, R], 7), uOut = t([T, R2], 8);
    const k = tucker2Kernels(core, uIn, uOut);
    expect(close(tucker2Fold(k.first, k.core, k.last), (i, j, s, u) => {
      let x = 0; for (let p = 0; p < R; p++) for (let q = 0; q < R2; q++) x += at(core, [i, j, p, q]) * at(uIn, [s, p]) * at(uOut, [u, q]); return x;
    })).toBeLessThan(1e-5);
  });
  it("cp: K[i,j,s,u] = Σ_r λ_r A[i,r] B[j,r] C[s,r] D[u,r]", () => {
    const A = t([kh, R], 9), B = t([kw, R], 10), C = t([S, R], 11), D = t([T, R], 12), lam = [0.5, 2, -1];
    const k = cpKernels(lam, A, B, C, D);
    expect(close(cpFold(k.first, k.vertical, k.horizontal, k.last), (i, j, s, u) => {
      let x = 0; for (let r = 0; r < R; r++) x += lam[r] * at(A, [i, r]) * at(B, [j, r]) * at(C, [s, r]) * at(D, [u, r]); return x;
    })).toBeLessThan(1e-5);
  });
});
