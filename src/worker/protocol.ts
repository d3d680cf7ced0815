// The messages between an odecomp worker client (src/worker/client.ts) and the
// worker (src/worker/serve.ts): one discriminated union each way, the one list
// of proxied functions, and the helpers both sides share (transfer lists,
// class instances ↔ plain data, errors ↔ plain data). tfjs-free.
import { OdecompError } from "../core/errors.ts";
import type { Tensor } from "../core/tensor.ts";
import type { RuntimeInfo } from "../core/loader.ts";
import { TuckerTensor } from "../decompose/tucker.ts";
import { CPTensor } from "../decompose/cp.ts";
import { TTTensor } from "../decompose/tt.ts";
import type { CompressProgress } from "../compress/plan.ts";

/** Functions of the root export that run in the worker as they are (tensors in, typed results out). */
export const CORE_FUNCTIONS = ["matmul", "lowRankMatmul", "qr", "eigh", "svd", "singularValues", "tucker", "cp", "tt"] as const;
/** Artifacts-level model functions the worker runs (the client wraps the LayersModel forms around them). */
export const MODEL_FUNCTIONS = ["compressArtifacts", "reconstructModelArtifacts", "planArtifacts"] as const;
export type CoreFunction = (typeof CORE_FUNCTIONS)[number];
export type ModelFunction = (typeof MODEL_FUNCTIONS)[number];
export type WorkerFunction = CoreFunction | ModelFunction;

/** Set-up of the worker, sent once by createWorker (all optional). */
export interface WorkerInit {
  /**
   * tfjs backend the worker uses to read models (default "cpu": small, needs no files). "wasm" uses
   * @tensorflow/tfjs-backend-wasm with odecomp's kernels registered; see wasmPaths / tfjsThreads.
   */
  backend?: "cpu" | "wasm";
  /**
   * Where the tfjs wasm binaries are served (a URL prefix ending in "/", as tfjs' setWasmPaths), needed
   * when the worker script is bundled for a browser. In Node the package finds its own files.
   */
  wasmPaths?: string;
  /**
   * Threads for tfjs-backend-wasm (its threaded SIMD binary). Used only where the runtime allows it —
   * a cross-origin-isolated browser page or worker (SharedArrayBuffer); tfjs forces one thread in Node.
   * Default: navigator.hardwareConcurrency where allowed.
   */
  tfjsThreads?: number;
  /** Threads for odecomp's own kernels (a count or "auto"), passed to `setThreads` where this build of odecomp has it. */
  threads?: number | "auto";
}

/** What the worker reports back after init. */
export interface WorkerInfo {
  odecomp: RuntimeInfo;
  /** odecomp kernel threads in the worker (getThreads() where the build has it, else 1). */
  threads: number;
  /** Why the kernels run fewer threads than `init.threads` asked for, or null. */
  threadsNote: string | null;
  tfjs: {
    backend: string;
    /** The tfjs-backend-wasm binary ("threaded-simd" where threads are possible), or null on another backend. */
    binary: "threaded-simd" | "simd" | "plain" | null;
    /** Threads of tfjs-backend-wasm (1 on other backends or where threads are unavailable; see useWasmBackend). */
    threads: number;
    /** Why tfjs-backend-wasm runs on one thread, or null. */
    note: string | null;
  };
  crossOriginIsolated: boolean;
  /** "node" (worker_threads) or "web" (Web Worker: browsers, Deno). */
  kind: "node" | "web";
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** Client → worker. */
export type WorkerRequest =
  | { type: "init"; id: number; init: WorkerInit }
  | { type: "call"; id: number; fn: WorkerFunction; args: unknown[]; progress: boolean };

/** Worker → client. */
export type WorkerResponse =
  | { type: "ready"; id: number; info: WorkerInfo }
  | { type: "result"; id: number; value: unknown }
  | { type: "progress"; id: number; progress: CompressProgress }
  | { type: "error"; id: number; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: "Error", message: String(e) };
}

/** The caller-side error: an OdecompError stays one; any other error keeps its name and message. */
export function deserializeError(e: SerializedError): Error {
  const err = e.name === "OdecompError" ? new OdecompError(e.message) : Object.assign(new Error(e.message), { name: e.name });
  if (e.stack) err.stack = `${err.name}: ${err.message}\n    (in the odecomp worker)\n${e.stack.split("\n").slice(1).join("\n")}`;
  return err;
}

/**
 * Buffers to transfer with a message: every ArrayBuffer and typed-array buffer inside `value`
 * (plain objects and arrays are walked; SharedArrayBuffers are never transferred). With `wholeOnly`,
 * a typed array is transferred only when it spans its whole buffer (else its buffer is left alone and
 * the structured clone copies it), so transferring never detaches memory the caller did not pass.
 */
export function transferables(value: unknown, wholeOnly = false): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (v instanceof ArrayBuffer) { if (v.byteLength > 0) out.add(v); return; }
    if (ArrayBuffer.isView(v)) {
      const b = v.buffer;
      if (b instanceof ArrayBuffer && b.byteLength > 0 && (!wholeOnly || (v.byteOffset === 0 && v.byteLength === b.byteLength))) out.add(b);
      return;
    }
    if (Array.isArray(v)) { for (const x of v) walk(x); return; }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) for (const x of Object.values(v)) walk(x);
  };
  walk(value);
  return [...out];
}

/** Results as plain data (classes do not survive postMessage): a `$class` tag marks the decomposition classes. */
export function encodeResult(v: unknown): unknown {
  if (v instanceof TuckerTensor) return { $class: "TuckerTensor", core: v.core, factors: v.factors, modes: v.modes, shape: v.shape, iterations: v.iterations, errorHistory: v.errorHistory };
  if (v instanceof CPTensor) return { $class: "CPTensor", weights: v.weights, factors: v.factors, shape: v.shape, iterations: v.iterations, errorHistory: v.errorHistory };
  if (v instanceof TTTensor) return { $class: "TTTensor", cores: v.cores };
  return v;
}

type Encoded =
  | { $class: "TuckerTensor"; core: Tensor; factors: Tensor[]; modes: number[]; shape: number[]; iterations: number; errorHistory: number[] }
  | { $class: "CPTensor"; weights: Float32Array; factors: Tensor[]; shape: number[]; iterations: number; errorHistory: number[] }
  | { $class: "TTTensor"; cores: Tensor[] };

export function decodeResult(v: unknown): unknown {
  if (v === null || typeof v !== "object" || !("$class" in v)) return v;
  const e = v as Encoded;
  switch (e.$class) {
    case "TuckerTensor": return new TuckerTensor(e.core, e.factors, e.modes, e.shape, e.iterations, e.errorHistory);
    case "CPTensor": return new CPTensor(e.weights, e.factors, e.shape, e.iterations, e.errorHistory);
    case "TTTensor": return new TTTensor(e.cores);
  }
}
