// Known-rank tensors and plain scalar (float64) references for the tensor kernels.
import type { Tensor } from "../../src/index.ts";
import { randn } from "./random.ts";

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function randTensor(shape: number[], seed: number): Tensor {
  return { data: randn(size(shape), seed), shape: [...shape] };
}

/** Multi-index of a flat row-major position. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) { idx[k] = i % shape[k]; i = Math.floor(i / shape[k]); }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let p = 0;
  for (let k = 0; k < shape.length; k++) p = p * shape[k] + idx[k];
  return p;
}

/** TensorLy unfold: moveaxis(mode → 0) then reshape. */
export function refUnfold(t: Tensor, mode: number): Float64Array {
  const other = t.shape.filter((_, k) => k !== mode);
  const cols = size(other);
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const idx = unravel(i, t.shape);
    const rest = idx.filter((_, k) => k !== mode);
    out[idx[mode] * cols + ravel(rest, other)] = t.data[i];
  }
  return out;
}

/** t ×_mode U with U J × I (row-major). */
export function refModeProduct(t: Tensor, u: Tensor, mode: number): { data: Float64Array; shape: number[] } {
  const [J, I] = u.shape;
  const shape = [...t.shape];
  shape[mode] = J;
  const out = new Float64Array(size(shape));
  for (let p = 0; p < out.length; p++) {
    const idx = unravel(p, shape);
    const j = idx[mode];
    let s = 0;
    for (let i = 0; i < I; i++) { idx[mode] = i; s += u.data[j * I + i] * t.data[ravel(idx, t.shape)]; }
    out[p] = s;
  }
  return { data: out, shape };
}

export function refKhatriRao(mats: Tensor[]): Float64Array {
  const R = mats[0].shape[1];
  const rows = size(mats.map((m) => m.shape[0]));
  const out = new Float64Array(rows * R);
  const dims = mats.map((m) => m.shape[0]);
  for (let row = 0; row < rows; row++) {
    const idx = unravel(row, dims);
    for (let r = 0; r < R; r++) {
      let v = 1;
      mats.forEach((m, k) => { v *= m.data[idx[k] * R + r]; });
      out[row * R + r] = v;
    }
  }
  return out;
}

/** Dense tensor of a CP model Σ_r w_r a_r ∘ b_r ∘ … */
export function cpDense(factors: Tensor[], weights?: ArrayLike<number>): Tensor {
  const shape = factors.map((f) => f.shape[0]);
  const R = factors[0].shape[1];
  const out = new Float32Array(size(shape));
  for (let p = 0; p < out.length; p++) {
    const idx = unravel(p, shape);
    let s = 0;
    for (let r = 0; r < R; r++) {
      let v = weights ? weights[r] : 1;
      factors.forEach((f, k) => { v *= f.data[idx[k] * R + r]; });
      s += v;
    }
    out[p] = s;
  }
  return { data: out, shape };
}

export function plantedCP(shape: number[], R: number, seed: number): Tensor {
  return cpDense(shape.map((d, k) => ({ data: randn(d * R, seed + 31 * k), shape: [d, R] })));
}

/** Tucker tensor with a Gaussian core of the given ranks on `modes` (others full) and Gaussian factors. */
export function plantedTucker(shape: number[], modes: number[], ranks: number[], seed: number): Tensor {
  const coreShape = shape.map((d, k) => (modes.includes(k) ? ranks[modes.indexOf(k)] : d));
  let cur: { data: Float64Array | Float32Array; shape: number[] } = { data: randn(size(coreShape), seed), shape: coreShape };
  modes.forEach((m, i) => {
    const u: Tensor = { data: randn(shape[m] * ranks[i], seed + 7 * (i + 1)), shape: [shape[m], ranks[i]] };
    cur = refModeProduct({ data: Float32Array.from(cur.data), shape: cur.shape }, u, m);
  });
  return { data: Float32Array.from(cur.data), shape: [...shape] };
}

/** x + level·‖x‖/‖n‖·n with Gaussian n: relative noise `level`. */
export function addNoise(t: Tensor, level: number, seed: number): Tensor {
  const n = randn(t.data.length, seed);
  let nx = 0, nn = 0;
  for (let i = 0; i < n.length; i++) { nx += t.data[i] ** 2; nn += n[i] ** 2; }
  const c = (level * Math.sqrt(nx)) / Math.sqrt(nn);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < n.length; i++) out[i] = t.data[i] + c * n[i];
  return { data: out, shape: [...t.shape] };
}
