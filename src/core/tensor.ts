import { check, fail } from "./errors.ts";

/** A dense float32 tensor, row-major (last axis fastest). */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(data: Float32Array | number[], shape: number[]): Tensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  check(sizeOf(shape) === arr.length, "tensor", () => `data has ${arr.length} values but shape [${shape}] needs ${sizeOf(shape)}`);
  return { data: arr, shape: [...shape] };
}

export function zeros(shape: number[]): Tensor {
  return { data: new Float32Array(sizeOf(shape)), shape: [...shape] };
}

/**
 * Structural checks shared by every entry point: a Float32Array, integer
 * positive dims, matching length, and (optionally) a fixed number of axes.
 * Finiteness is checked in wasm after the copy-in (see heap.ts).
 */
export function checkTensor(where: string, name: string, t: Tensor, ndim?: number): void {
  if (t === null || typeof t !== "object") fail(where, `${name} must be a { data, shape } tensor, got ${t === null ? "null" : typeof t}`);
  if (!(t.data instanceof Float32Array)) {
    fail(where, `${name}.data must be a Float32Array, got ${(t.data as object | undefined)?.constructor?.name ?? typeof t.data}`);
  }
  if (!Array.isArray(t.shape)) fail(where, `${name}.shape must be an array of dimensions, got ${typeof t.shape}`);
  if (ndim !== undefined && t.shape.length !== ndim) {
    fail(where, `${name} must have ${ndim} axes, got shape [${t.shape}]`);
  }
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 1) fail(where, `${name}.shape [${t.shape}] has dimension ${d}; expected integers ≥ 1 (empty tensors are not accepted)`);
  }
  if (sizeOf(t.shape) !== t.data.length) {
    fail(where, `${name}.data has ${t.data.length} values but shape [${t.shape}] needs ${sizeOf(t.shape)}`);
  }
}
