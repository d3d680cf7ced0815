// Loads the kernel module once per realm. A small state machine — not started,
// loading, ready, failed — with its own message for each wrong use.
// The builds are embedded as base64 (no paths, same code in Node, Deno,
// browsers and workers); the relaxed-SIMD build is used only where
// WebAssembly.validate accepts a relaxed-SIMD probe, and only the build that
// runs is decoded. Where threads are possible (SharedArrayBuffer, shared wasm
// memory, a worker API) the threads variant of that build runs on a shared
// memory, and the ready state holds its ThreadPool (src/core/pool.ts);
// elsewhere the plain build runs on one thread and the reason is recorded.
import {
  RELAXED_THREADS_WASM_BASE64, RELAXED_WASM_BASE64, SIMD_THREADS_WASM_BASE64, SIMD_WASM_BASE64,
} from "./wasm-binaries.generated.ts";
import { OdecompError } from "./errors.ts";
import type { KernelFunctions } from "./kernels.generated.ts";
import { type CapabilityOverrides, type ThreadsInfo, ThreadPool, checkThreads, probeThreads } from "./pool.ts";

export type { ThreadsInfo } from "./pool.ts";

/**
 * The exports of the kernel module: its memory and every kernel, typed from the AssemblyScript
 * sources (src/core/kernels.generated.ts, written by scripts/build-wasm.mjs). No index signature:
 * a call to a kernel that does not exist, or with the wrong argument count, fails `tsc`.
 */
export interface KernelExports extends KernelFunctions {
  memory: WebAssembly.Memory;
}

export type BuildName = "simd" | "relaxed";

export interface ReadyOptions {
  /** Force a build; "auto" (default) picks relaxed SIMD where the runtime validates it. */
  build?: "auto" | BuildName;
  /**
   * Kernel threads: an integer 1…64 (THREAD_LIMITS.max), or "auto" (default) for the core count
   * (at most THREAD_LIMITS.auto = 8) where threads are possible. Where they are not, 1 thread runs
   * and threadsInfo().reason says why. Change later with setThreads(n).
   */
  threads?: number | "auto";
}

export interface RuntimeInfo {
  build: BuildName;
  /** True when the threads build runs on a shared WebAssembly.Memory (threads possible). */
  sharedMemory: boolean;
  features: { simd: boolean; relaxedSimd: boolean; threads: boolean };
}

type State =
  | { kind: "not-started" }
  | { kind: "loading"; promise: Promise<void> }
  | { kind: "ready"; exports: KernelExports; info: RuntimeInfo; pool: ThreadPool }
  | { kind: "failed"; error: Error };

let state: State = { kind: "not-started" };
let overrides: CapabilityOverrides = {};

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
  const requested = checkThreads("ready", options.threads ?? "auto");
  let build: BuildName = wanted === "auto" ? (relaxedSimd ? "relaxed" : "simd") : wanted;
  let support = await probeThreads(overrides);
  let memory: WebAssembly.Memory | undefined;
  if (support.ok) {
    memory = sharedMemory();
    if (!memory) support = { ok: false, reason: "could not reserve a shared WebAssembly.Memory", cores: support.cores };
  }
  const imports = () => ({
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        const m = memory ? readAbortMessage(memory, msg) : "";
        const f = memory ? readAbortMessage(memory, file) : "";
        throw new OdecompError(`kernel aborted: ${m} at ${f}:${line}:${col}`);
      },
      ...(support.ok ? { memory } : {}),
    },
  });
  const source = (b: BuildName) =>
    b === "relaxed"
      ? (support.ok ? RELAXED_THREADS_WASM_BASE64 : RELAXED_WASM_BASE64)
      : (support.ok ? SIMD_THREADS_WASM_BASE64 : SIMD_WASM_BASE64);
  // Decode only the build that will run; keep the compiled module for the workers.
  const compile = async (b: BuildName) => {
    const module = await WebAssembly.compile(decodeBase64(source(b)));
    return { module, instance: await WebAssembly.instantiate(module, imports()) };
  };
  let compiled: { module: WebAssembly.Module; instance: WebAssembly.Instance };
  try {
    compiled = await compile(build);
  } catch (e) {
    if (wanted === "auto" && build === "relaxed" && e instanceof WebAssembly.CompileError) {
      // An engine that passes the probe but rejects the full relaxed build: in auto mode use plain SIMD.
      build = "simd";
    } else if (support.ok && (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError)) {
      // An engine that rejects the threads build: run the single-thread one and say why.
      support = { ok: false, reason: `the threads build failed to load: ${(e as Error).message}`, cores: support.cores };
      memory = undefined;
    } else {
      throw e;
    }
    compiled = await compile(build);
  }
  const raw = compiled.instance.exports as unknown as KernelExports;
  // the threads builds import their memory (and may not re-export it)
  const exports: KernelExports = raw.memory ? raw : { ...raw, memory: memory! };
  memory = exports.memory;
  const pool = new ThreadPool(exports, support, support.ok ? compiled.module : null);
  const readyNow: State = {
    kind: "ready", exports, pool,
    info: { build, sharedMemory: support.ok, features: { simd, relaxedSimd, threads: support.ok } },
  };
  const n = pool.resolve(requested);
  // an explicit ready({ threads }) waits for the workers; the default ("auto") does not
  // (setThreads(n) always waits)
  if (options.threads !== undefined) await pool.start(n);
  else pool.startInBackground(n);
  state = readyNow;
}

// Shared memory for the threads builds: the whole 32-bit range as maximum (a reservation of
// address space, not of memory), 1 GiB where an engine refuses that.
function sharedMemory(): WebAssembly.Memory | undefined {
  for (const maximum of [65536, 16384]) {
    try {
      return new WebAssembly.Memory({ initial: 2, maximum, shared: true });
    } catch {
      // try the next size
    }
  }
  return undefined;
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

/** Whether the kernels are loaded (getKernels would return them). */
export function isReady(): boolean {
  return state.kind === "ready";
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

function readyState(where: string): Extract<State, { kind: "ready" }> {
  if (state.kind !== "ready") {
    try {
      getKernels();
    } catch (e) {
      throw new OdecompError(`${where}: ${(e as Error).message}`);
    }
  }
  return state as Extract<State, { kind: "ready" }>;
}

/**
 * Use n kernel threads (an integer 1…THREAD_LIMITS.max = 64, or "auto" for the core count). Resolves
 * when the workers are ready, with threadsInfo(); where threads are impossible it
 * resolves with 1 thread and the reason. Loads the kernels first if needed.
 * Calls are serialised; kernels called meanwhile run on the calling thread.
 */
export async function setThreads(n: number | "auto"): Promise<ThreadsInfo> {
  const wanted = checkThreads("setThreads", n);
  if (state.kind !== "ready") await ready({ threads: wanted });
  return readyState("setThreads").pool.set(wanted);
}

/** Threads the kernels use now (1 before ready()). */
export function getThreads(): number {
  return state.kind === "ready" ? state.pool.threads : 1;
}

/** How many threads run, what was asked, and why fewer (or 1) run; throws like getKernels when not ready. */
export function threadsInfo(): ThreadsInfo {
  return readyState("threadsInfo").pool.info;
}

/**
 * Stop the workers now (synchronously): kernels then run on the calling thread.
 * Node processes never wait for the workers anyway (they are unref'd); use this
 * to free them early. setThreads(n) starts a pool again.
 */
export function terminateThreads(): void {
  if (state.kind !== "ready") return;
  state.pool.terminate("stopped by terminateThreads()");
}

/**
 * Test hook: stop the workers, forget the instance so the next ready() loads
 * again, and pretend the given capabilities are missing (e.g. no SharedArrayBuffer).
 */
export function resetForTesting(pretend: CapabilityOverrides = {}): void {
  terminateThreads();
  state = { kind: "not-started" };
  overrides = pretend;
}
