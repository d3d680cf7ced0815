// Loads the kernel module once per realm. A small state machine — not started,
// loading, ready, failed — with its own message for each wrong use.
// Both builds are embedded as base64 (no paths, same code in Node, Deno,
// browsers and workers); the relaxed-SIMD build is used only where
// WebAssembly.validate accepts a relaxed-SIMD probe, and only that build is decoded.
import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from "./wasm-binaries.generated.ts";
import { OdecompError } from "./errors.ts";

/** The raw exports of the kernel module (all numeric: pointers, sizes, scalars). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  scratch_alloc(bytes: number): number;
  scratch_mark(): number;
  scratch_reset(mark: number): void;
  first_nonfinite_f32(ptr: number, n: number): number;
  // deno-lint-ignore no-explicit-any
  [kernel: string]: any;
}

export type BuildName = "simd" | "relaxed";

export interface ReadyOptions {
  /** Force a build; "auto" (default) picks relaxed SIMD where the runtime validates it. */
  build?: "auto" | BuildName;
}

export interface RuntimeInfo {
  build: BuildName;
  features: { simd: boolean; relaxedSimd: boolean };
}

type State =
  | { kind: "not-started" }
  | { kind: "loading"; promise: Promise<void> }
  | { kind: "ready"; exports: KernelExports; info: RuntimeInfo }
  | { kind: "failed"; error: Error };

let state: State = { kind: "not-started" };

// Feature probes: tiny modules `() -> v128` using f32x4.splat (SIMD) and, for
// relaxed SIMD, f32x4.relaxed_madd — the instruction the relaxed build relies
// on. Validating these costs microseconds; validating (and decoding) both
// full builds would cost milliseconds per 100 KB of kernels at start-up.
const F32X4_ZERO = [0x43, 0, 0, 0, 0, 0xfd, 0x13]; // f32.const 0; f32x4.splat
const PROBE_HEAD = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0];
const SIMD_PROBE = new Uint8Array([...PROBE_HEAD, 10, 11, 1, 9, 0, ...F32X4_ZERO, 0x0b]);
const RELAXED_PROBE = new Uint8Array([...PROBE_HEAD, 10, 28, 1, 26, 0, ...F32X4_ZERO, ...F32X4_ZERO, ...F32X4_ZERO, 0xfd, 0x85, 0x02, 0x0b]);

/** Decode the embedded base64, using the fastest decoder the runtime has. */
function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const U8 = Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> };
  if (typeof U8.fromBase64 === "function") return U8.fromBase64(b64); // Deno, recent browsers
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array<ArrayBuffer> } }).Buffer;
  if (typeof B?.from === "function") {
    const buf = B.from(b64, "base64"); // Node
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  // atob exists in every target runtime (Node ≥ 16, Deno, browsers, workers).
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function readAbortMessage(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  // AssemblyScript strings: UTF-16, byte length stored 4 bytes before the data.
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}

async function load(options: ReadyOptions): Promise<void> {
  if (typeof WebAssembly !== "object") throw new OdecompError("ready: this runtime has no WebAssembly");
  const simd = WebAssembly.validate(SIMD_PROBE);
  const relaxedSimd = simd && WebAssembly.validate(RELAXED_PROBE);
  if (!simd) {
    throw new OdecompError("ready: this runtime does not support WebAssembly SIMD (fixed-width 128-bit); odecomp requires it (Node ≥ 16.4, Deno, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4)");
  }
  const wanted = options.build ?? "auto";
  if (!["auto", "simd", "relaxed"].includes(wanted)) {
    throw new OdecompError(`ready: unknown build '${String(wanted)}'; expected 'auto', 'simd' or 'relaxed'`);
  }
  if (wanted === "relaxed" && !relaxedSimd) {
    throw new OdecompError("ready: build 'relaxed' was requested but this runtime rejects relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)");
  }
  let build: BuildName = wanted === "auto" ? (relaxedSimd ? "relaxed" : "simd") : wanted;
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        const m = memory ? readAbortMessage(memory, msg) : "";
        const f = memory ? readAbortMessage(memory, file) : "";
        throw new OdecompError(`kernel aborted: ${m} at ${f}:${line}:${col}`);
      },
    },
  };
  // Decode only the build that will run.
  const instantiate = (b: BuildName) => WebAssembly.instantiate(decodeBase64(b === "relaxed" ? RELAXED_WASM_BASE64 : SIMD_WASM_BASE64), imports);
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = await instantiate(build));
  } catch (e) {
    // An engine that passes the probe but rejects the full relaxed build: in auto mode use plain SIMD.
    if (!(wanted === "auto" && build === "relaxed" && e instanceof WebAssembly.CompileError)) throw e;
    build = "simd";
    ({ instance } = await instantiate(build));
  }
  const exports = instance.exports as unknown as KernelExports;
  memory = exports.memory;
  state = { kind: "ready", exports, info: { build, features: { simd, relaxedSimd } } };
}

/**
 * Loads and instantiates the kernels. Idempotent: later calls return the same
 * promise (or resolve at once). After a failure, calling again retries.
 */
export function ready(options: ReadyOptions = {}): Promise<void> {
  switch (state.kind) {
    case "ready":
      return Promise.resolve();
    case "loading":
      return state.promise;
    case "not-started":
    case "failed": {
      const promise = load(options).catch((error: Error) => {
        state = { kind: "failed", error };
        throw error;
      });
      state = { kind: "loading", promise };
      return promise;
    }
  }
}

/** The instantiated kernels; throws a distinct error for each state that is not ready. */
export function getKernels(): KernelExports {
  switch (state.kind) {
    case "ready":
      return state.exports;
    case "not-started":
      throw new OdecompError("odecomp is not initialised: call `await ready()` once before using any kernel");
    case "loading":
      throw new OdecompError("odecomp is still loading: await the promise returned by `ready()` before using any kernel");
    case "failed":
      throw new OdecompError(`odecomp failed to initialise: ${state.error.message}`);
  }
}

/** Which build is running and what the runtime supports; throws like getKernels when not ready. */
export function runtimeInfo(): RuntimeInfo {
  if (state.kind !== "ready") getKernels();
  return (state as Extract<State, { kind: "ready" }>).info;
}

/** Test hook: forget the instance so the next ready() loads again. */
export function resetForTesting(): void {
  state = { kind: "not-started" };
}
