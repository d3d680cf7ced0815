// The messages between an odecomp worker client (src/worker/client.ts) and the
// worker (src/worker/serve.ts): one discriminated union each way, the one list
// of proxied functions, and the helpers both sides share (transfer lists,
// class instances ↔ plain data, errors ↔ plain data). tfjs-free.
import { OdecompError } from "../core/errors.ts";
import type { RuntimeInfo } from "../core/loader.ts";
import { decodeFactorized, encodeFactorized } from "../decompose/registry.ts";
import type { CompressProgress } from "../compress/plan.ts";
import type { FinetuneProgress } from "../train/finetune.ts";
import type { matmul } from "../linalg/matmul.ts";
import type { lowRankMatmul } from "../linalg/lowrank.ts";
import type { qr } from "../linalg/qr.ts";
import type { eigh } from "../linalg/eigh.ts";
import type { singularValues, svd } from "../linalg/svd.ts";
import type { tucker } from "../decompose/tucker.ts";
import type { cp } from "../decompose/cp.ts";
import type { tt } from "../decompose/tt.ts";

/**
 * The one list of functions of the root export that run in the worker as they are (tensors in,
 * typed results out): the worker serves these names, the client proxies them, and OdecompWorker's
 * signatures come from these types. Proxying another root function = one line here.
 */
export interface CoreFunctions {
  matmul: typeof matmul;
  lowRankMatmul: typeof lowRankMatmul;
  qr: typeof qr;
  eigh: typeof eigh;
  svd: typeof svd;
  singularValues: typeof singularValues;
  tucker: typeof tucker;
  cp: typeof cp;
  tt: typeof tt;
}
// The names at run time; `satisfies` makes tsc reject a name missing from, or extra to, CoreFunctions.
const CORE_NAMES = { matmul: 0, lowRankMatmul: 0, qr: 0, eigh: 0, svd: 0, singularValues: 0, tucker: 0, cp: 0, tt: 0 } satisfies Record<keyof CoreFunctions, 0>;
export const CORE_FUNCTIONS = Object.keys(CORE_NAMES) as (keyof CoreFunctions)[];
/** Artifacts-level model functions the worker runs (the client wraps the LayersModel forms around them). */
export const MODEL_FUNCTIONS = ["compressArtifacts", "reconstructModelArtifacts", "planArtifacts", "finetuneArtifacts", "evaluateArtifacts"] as const;
export type CoreFunction = keyof CoreFunctions;
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

/** Progress of a call: compress steps, or fine-tuning steps (finetuneArtifacts). */
export type WorkerProgress = CompressProgress | FinetuneProgress;
export type WorkerProgressFn = (p: WorkerProgress) => void;

/** Client → worker. */
export type WorkerRequest =
  | { type: "init"; id: number; init: WorkerInit }
  | { type: "call"; id: number; fn: WorkerFunction; args: unknown[]; progress: boolean };

/** Worker → client. */
export type WorkerResponse =
  | { type: "ready"; id: number; info: WorkerInfo }
  | { type: "result"; id: number; value: unknown }
  | { type: "progress"; id: number; progress: WorkerProgress }
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

/** Results as plain data (classes do not survive postMessage): FactorizedTensors become their encoded form (a `$class` tag). */
export function encodeResult(v: unknown): unknown {
  return encodeFactorized(v);
}

/** The encoded FactorizedTensors back as instances (src/decompose/registry.ts); other values as they are. */
export function decodeResult(v: unknown): unknown {
  return decodeFactorized(v);
}
