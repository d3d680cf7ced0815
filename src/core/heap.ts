// Moving data between JS and the kernels' linear memory. Every public call
// runs inside withScratch(): allocations are bump-allocated and released when
// the call returns, so memory does not grow across repeated calls. Views are
// created fresh after each kernel call because memory.grow detaches old ones.
import { getKernels, type KernelExports } from "./loader.ts";
import { fail } from "./errors.ts";

/**
 * Scratch ends below 2 GiB: the kernels compute byte offsets in 32-bit signed
 * arithmetic, and JS sees their pointers as signed i32 (assembly/mem.ts SCRATCH_LIMIT).
 * wasm32 itself could address 4 GiB.
 */
export const SCRATCH_LIMIT = 2 ** 31;

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

export class Scratch {
  constructor(readonly k: KernelExports) {}

  /**
   * Fail (before anything is allocated) when `bytes` more would not fit under
   * SCRATCH_LIMIT. Entry points call it with their whole estimated workspace,
   * so a too-large call leaves memory as it was.
   */
  need(bytes: number, where: string, what: string): void {
    const used = this.k.scratch_mark();
    if (!(bytes <= SCRATCH_LIMIT - used)) {
      fail(where, `${what} needs ${formatBytes(bytes)} of wasm memory but the limit is ${formatBytes(SCRATCH_LIMIT)} (${formatBytes(used)} already in use; the kernels address memory with 32-bit signed offsets); expected a smaller input or rank`);
    }
  }

  private alloc(n: number, size: number, kind: string): number {
    const bytes = Math.max(n, 1) * size;
    this.need(bytes + 16, "odecomp", `${n} ${kind} values`);
    return this.k.scratch_alloc(bytes);
  }

  /** Reserve n float32 values (uninitialised). */
  f32(n: number): number {
    return this.alloc(n, 4, "float32");
  }

  /** Reserve n float64 values (uninitialised). */
  f64(n: number): number {
    return this.alloc(n, 8, "float64");
  }

  /** Reserve n int32 values (uninitialised). */
  i32(n: number): number {
    return this.alloc(n, 4, "int32");
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

/** Nesting depth of withScratch scopes now (0: none open). */
let depth = 0;
let pinRequest: { bytes: number; done: (k: KernelExports, p: number) => void } | null = null;

/**
 * Ask for `bytes` of wasm memory that no scope releases: the next outermost withScratch takes it before
 * its own mark (so it lies below every later scope) and hands it to `done` with the kernels it belongs
 * to (a new kernels instance, after setThreads, has its own memory). Nothing is called when memory
 * cannot grow that far; a later request replaces an unserved one. For src/tfjs/resident.ts's ring.
 */
export function requestPinned(bytes: number, done: (k: KernelExports, p: number) => void): void {
  pinRequest = { bytes, done };
}

/** Run fn with a scratch scope; everything it allocated is released afterwards. */
export function withScratch<T>(fn: (s: Scratch) => T): T {
  const k = getKernels();
  if (depth === 0 && pinRequest) {
    const r = pinRequest;
    pinRequest = null;
    const p = r.bytes <= SCRATCH_LIMIT / 4 - k.scratch_mark() ? k.scratch_try_alloc(r.bytes) : 0;
    if (p !== 0) r.done(k, p);
  }
  const mark = k.scratch_mark();
  depth++;
  try {
    return fn(new Scratch(k));
  } catch (e) {
    // a trap may have left a threaded job half done: let the workers finish it first
    if (e instanceof WebAssembly.RuntimeError) {
      k.threads_recover();
      // a kernel's own allocation that memory could not serve traps (assembly/mem.ts): say so
      const failed = k.scratch_failed_bytes();
      if (failed > 0) {
        fail("odecomp", `a kernel needs ${formatBytes(failed >>> 0)} more of wasm memory than it could get (${formatBytes(k.scratch_mark())} in use; the limit is ${formatBytes(SCRATCH_LIMIT)}, or less where the runtime refuses to grow memory)`);
      }
    }
    throw e;
  } finally {
    depth--;
    k.scratch_reset(mark);
  }
}

/** Bytes of wasm linear memory now (for leak tests and benchmarks). */
export function wasmMemoryBytes(): number {
  return getKernels().memory.buffer.byteLength;
}
