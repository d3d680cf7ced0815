// Issue 13 defect 14: options of the wrong type are OdecompErrors naming the value and
// its type (`svd(a, { rank: "3" })` once said "rank 3 is out of range", cp with rank NaN
// "rank null"); nothing ends in a TypeError from inside the library.
import { beforeAll, describe, expect, it } from "vitest";
import { OdecompError, cp, eigh, lowRankMatmul, matmul, qr, ready, svd, tt, tucker } from "../../src/index.ts";
import { randMat } from "../helpers/linalg.ts";
import { randTensor } from "../helpers/tensors.ts";

beforeAll(() => ready());

function rejects(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err, String(pattern)).toBeInstanceOf(OdecompError);
  expect((err as Error).message).toMatch(pattern);
}

const a = randMat(6, 4, 1);
const t = randTensor([5, 4, 3], 2);
const sym = { data: Float32Array.from([2, 1, 1, 2]), shape: [2, 2] };

describe("option type mistakes", () => {
  it("svd names the value and its type", () => {
    rejects(() => svd(a, { rank: "3" as never }), /svd: rank "3" \(a string\) is invalid; expected an integer in 1\.\.4/);
    rejects(() => svd(a, { rank: NaN }), /svd: rank NaN \(a number\) is out of range/);
    rejects(() => svd(a, { rank: [2] as never }), /rank \[2\] \(an array\) is invalid/);
    rejects(() => svd(a, { method: 3 as never }), /unknown method 3; expected one of/);
    rejects(() => svd(a, { method: ["full"] as never }), /unknown method \["full"\] \(an array\)/);
    rejects(() => svd(a, { oversample: "10" as never }), /oversample "10" \(a string\) is invalid/);
    rejects(() => svd(a, { powerIterations: true as never }), /powerIterations true \(a boolean\) is invalid/);
    rejects(() => svd(a, { seed: Infinity }), /seed Infinity \(a number\) is invalid/);
    rejects(() => svd(a, null as never), /svd: options must be an object, got null/);
  });

  it("cp, tucker and tt name the value and its type", () => {
    rejects(() => cp(t, { rank: NaN }), /cp: rank NaN \(a number\) is invalid; expected a positive integer/);
    rejects(() => cp(t, { rank: "2" as never }), /cp: rank "2" \(a string\) is invalid/);
    rejects(() => cp(t, { rank: { fraction: "0.5" } as never }), /rank \{ fraction: "0\.5" \(a string\) \} is invalid/);
    rejects(() => cp(t, { rank: 2, maxIter: "5" as never }), /maxIter must be an integer in 1…∞, got "5" \(a string\)/);
    rejects(() => cp(t, { rank: 2, tol: NaN }), /tol must be a finite number in \[0, Infinity\], got NaN \(a number\)/);
    rejects(() => cp(t, { rank: 2, seed: 1.5 }), /seed must be an integer, got 1\.5/);
    rejects(() => cp(t, { rank: 2, lineSearch: "yes" as never }), /lineSearch must be true or false, got "yes" \(a string\)/);
    rejects(() => cp(t, { rank: 2, init: 1 as never }), /unknown init 1; expected one of 'svd', 'random'/);
    rejects(() => cp(t, undefined as never), /cp: options must be an object like \{ rank: 8 \}, got undefined/);
    rejects(() => tucker(t, { rank: "2" as never }), /tucker: rank "2" \(a string\) is invalid/);
    rejects(() => tucker(t, { rank: [2, "2", 2] as never }), /rank "2" \(a string\) for mode 1 \(size 4\) is invalid/);
    rejects(() => tucker(t, { rank: 2, modes: "0" as never }), /modes must be a non-empty array of axis indices, got "0" \(a string\)/);
    rejects(() => tucker(t, { rank: 2, modes: [NaN] }), /mode NaN \(a number\) is out of range/);
    rejects(() => tucker(t, { rank: 2, method: null as never }), /unknown method null; expected one of 'hosvd', 'hooi'/);
    rejects(() => tt(t, { rank: "2" as never }), /tt: rank "2" \(a string\) is invalid/);
    rejects(() => tt(t, { rank: NaN }), /tt: rank NaN \(a number\) is invalid; expected an integer ≥ 1/);
    rejects(() => tt(t, { rank: [2, null] as never }), /rank null for bond 2 is invalid/);
    rejects(() => tt(t, { tol: "0.1" as never }), /tol must be a finite number in \[0, 1\], got "0\.1" \(a string\)/);
  });

  it("qr, eigh, matmul and lowRankMatmul reject non-tensors and bad options with OdecompErrors", () => {
    rejects(() => qr(null as never), /qr: a must be a \{ data, shape \} tensor, got null/);
    rejects(() => qr({ data: [1, 2], shape: [1, 2] } as never), /qr: a\.data must be a Float32Array, got Array/);
    rejects(() => eigh(sym, { symmetryTolerance: "0.1" as never }), /symmetryTolerance must be a finite number ≥ 0, got "0\.1" \(a string\)/);
    rejects(() => eigh(sym, null as never), /eigh: options must be an object/);
    rejects(() => matmul(a, a, { transposeA: "yes" as never }), /matmul: transposeA must be true or false, got "yes" \(a string\)/);
    rejects(() => matmul(a, a, null as never), /matmul: options must be an object/);
    rejects(() => matmul(a, { data: new Float64Array(4), shape: [4, 1] } as never), /matmul: b\.data must be a Float32Array, got Float64Array/);
    rejects(() => lowRankMatmul(a, randMat(4, 2, 2), randMat(2, 3, 3), { data: new Float32Array(3), shape: "3" } as never), /lowRankMatmul: bias\.shape must be an array/);
  });
});
