// Switch tfjs to its wasm backend with odecomp's kernels registered, using
// tfjs-backend-wasm's threaded SIMD binary where the runtime allows it.
//
// When threads are possible: tfjs-backend-wasm checks (flag WASM_HAS_MULTITHREAD_SUPPORT) that a
// SharedArrayBuffer can be posted and that a threads wasm module validates — true in a browser page or
// worker that is cross-origin isolated (served with COOP: same-origin + COEP: require-corp), false
// otherwise. In Node it is always false: the flag returns false when IS_NODE (tfjs issue #3830), so
// Node runs the single-threaded SIMD binary whatever setThreadsCount says. See docs/worker.md.
import * as tf from "@tensorflow/tfjs-core";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { fail } from "../core/errors.ts";
import { registerWasmKernels } from "./register.ts";

export interface WasmBackendOptions {
  /**
   * URL prefix (ending in "/") where the files of @tensorflow/tfjs-backend-wasm/dist are served
   * (tfjs-backend-wasm.wasm, -simd.wasm, -threaded-simd.wasm): needed in a bundled browser app, not in Node.
   */
  wasmPaths?: string;
  /** XNNPACK threads (default: the core count, where threads are possible). Ignored where they are not. */
  threads?: number;
}

export interface WasmBackendInfo {
  backend: string;
  /** The tfjs-backend-wasm binary in use: the threaded SIMD one where threads are possible. */
  binary: "threaded-simd" | "simd" | "plain";
  /**
   * XNNPACK threads tfjs-backend-wasm actually runs: 1 where threads are not possible; with the threaded
   * binary, min(requested, 8, ⌊navigator.hardwareConcurrency / 2⌋) (its backend.cc caps the pool at
   * half the logical cores — so 1 on a 2-core machine).
   */
  threads: number;
  /** Why it runs on one thread, or null. */
  note: string | null;
}

const WHERE = "useWasmBackend";

/**
 * tfjs-backend-wasm reads its paths and thread count once, when it first initialises: apply them
 * on the first useWasmBackend call only (the flag lives in this closure, not loose in the module).
 */
const configureOnce = (() => {
  let configured = false;
  return (wasmPaths: string | undefined, threads: number): void => {
    if (configured) return;
    configured = true;
    if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
    setThreadsCount(threads);
  };
})();

/** Why tfjs-backend-wasm cannot use threads here, or null when it can (checked before init). */
export async function wasmThreadsBlocker(): Promise<string | null> {
  if (tf.env().get("IS_NODE")) return "tfjs-backend-wasm forces one thread in Node (tfjs issue #3830)";
  if (typeof SharedArrayBuffer === "undefined" || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return "SharedArrayBuffer is unavailable: serve the page with COOP: same-origin and COEP: require-corp (cross-origin isolation)";
  }
  const ok = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  return ok ? null : "this runtime does not validate wasm threads";
}

/**
 * Register odecomp's kernels, set the wasm paths and thread count, and make "wasm" the tfjs backend.
 * Call before anything else initialises the wasm backend (tfjs reads paths and threads once).
 */
export async function useWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackendInfo> {
  const { wasmPaths, threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) fail(WHERE, `threads is ${threads}; expected an integer ≥ 1`);
  if (wasmPaths !== undefined && (typeof wasmPaths !== "string" || !wasmPaths.endsWith("/"))) fail(WHERE, `wasmPaths is ${JSON.stringify(wasmPaths)}; expected a URL prefix ending in "/"`);
  const blocker = await wasmThreadsBlocker();
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  configureOnce(wasmPaths, blocker ? 1 : threads ?? Math.max(1, cores));
  await registerWasmKernels();
  if (!(await tf.setBackend("wasm"))) fail(WHERE, `tfjs backend 'wasm' failed to initialise${wasmPaths ? ` (wasm files looked up under ${wasmPaths})` : ""}`);
  await tf.ready();
  const n = getThreadsCount();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const binary = simd ? (blocker ? "simd" : "threaded-simd") : "plain";
  const note = n > 1 ? null : blocker ?? (threads === 1 ? "one thread requested"
    : "threaded binary, but tfjs-backend-wasm caps its thread pool at half the logical cores (navigator.hardwareConcurrency / 2)");
  return { backend: tf.getBackend(), binary, threads: n, note };
}
