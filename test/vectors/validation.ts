// Input-validation vectors: bad inputs get an OdecompError naming the value and what was expected.
import { matmul, type Tensor } from "../../src/index.ts";
import { randn } from "../helpers/random.ts";
import { expectThrows, type VectorCase } from "./case.ts";

const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });
const withValue = (t: Tensor, i: number, v: number): Tensor => { t.data[i] = v; return t; };

export const validationVectors: VectorCase[] = [
  {
    name: "matmul rejects NaN, naming the input and flat index",
    run: () => expectThrows(() => matmul(withValue(mk(4, 5, 1), 7, NaN), mk(5, 3, 2)), /OdecompError: matmul: a has a non-finite value \(NaN\) at flat index 7/),
  },
  {
    name: "matmul rejects Inf in the second input",
    run: () => expectThrows(() => matmul(mk(4, 5, 1), withValue(mk(5, 3, 2), 14, Infinity)), /matmul: b has a non-finite value \(Infinity\) at flat index 14/),
  },
  {
    name: "matmul rejects mismatched inner dimensions, naming both shapes",
    run: () => expectThrows(() => matmul(mk(3, 4, 1), mk(5, 2, 2)), /inner dimensions differ.*\[3,4\].*\[5,2\]/),
  },
  {
    name: "matmul rejects an empty tensor",
    run: () => expectThrows(() => matmul({ data: new Float32Array(0), shape: [0, 3] }, mk(3, 3, 1)), /dimension 0; expected integers ≥ 1/),
  },
];
