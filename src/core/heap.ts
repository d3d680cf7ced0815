// Moving data between JS and the kernels' linear memory. Every public call
// runs inside withScratch(): allocations are bump-allocated and released when
// the call returns, so memory does not grow across repeated calls. Views are
// created fresh after each kernel call because memory.grow detaches old ones.
import { getKernels, type KernelExports } from "./loader.ts";
import { fail } from "./errors.ts";

export class Scratch {
  constructor(readonly k: KernelExports) {}

  /** Reserve n float32 values (uninitialised). */
  f32(n: number): number {
    const p = this.k.scratch_alloc(Math.max(n, 1) * 4);
    if (p === 0) fail("odecomp", `out of wasm memory allocating ${n} float32 values`);
    return p;
  }

  /** Reserve n float64 values (uninitialised). */
  f64(n: number): number {
    const p = this.k.scratch_alloc(Math.max(n, 1) * 8);
    if (p === 0) fail("odecomp", `out of wasm memory allocating ${n} float64 values`);
    return p;
  }

  /** Reserve n int32 values (uninitialised). */
  i32(n: number): number {
    const p = this.k.scratch_alloc(Math.max(n, 1) * 4);
    if (p === 0) fail("odecomp", `out of wasm memory allocating ${n} int32 values`);
    return p;
  }

  /**
   * Copy data in; with `where`/`name` set, reject NaN/Inf (checked in wasm,
   * so validation costs one SIMD pass rather than a JS loop).
   */
  put(data: Float32Array, where?: string, name?: string): number {
    const p = this.f32(data.length);
    new Float32Array(this.k.memory.buffer, p, data.length).set(data);
    if (where !== undefined) {
      const bad = this.k.first_nonfinite_f32(p, data.length);
      if (bad >= 0) fail(where, `${name ?? "input"} has a non-finite value (${data[bad]}) at flat index ${bad}; expected finite numbers`);
    }
    return p;
  }

  /** A live view (invalidated by the next allocation that grows memory). */
  view(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n);
  }

  /** A copy out of wasm memory, safe to keep. */
  take(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n).slice();
  }

  viewF64(p: number, n: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, p, n);
  }
}

/** Run fn with a scratch scope; everything it allocated is released afterwards. */
export function withScratch<T>(fn: (s: Scratch) => T): T {
  const k = getKernels();
  const mark = k.scratch_mark();
  try {
    return fn(new Scratch(k));
  } catch (e) {
    // a trap may have left a threaded job half done: let the workers finish it first
    if (e instanceof WebAssembly.RuntimeError) k.threads_recover();
    throw e;
  } finally {
    k.scratch_reset(mark);
  }
}

/** Bytes of wasm linear memory now (for leak tests and benchmarks). */
export function wasmMemoryBytes(): number {
  return getKernels().memory.buffer.byteLength;
}
