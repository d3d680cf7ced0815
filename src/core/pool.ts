// Worker threads for the threaded kernel builds: what the runtime allows
// (capability probe with a reason when threads are impossible) and how to start
// and stop workers. Stateless: the loader's state machine owns the pool.
//
// A worker needs no file of ours: the compiled WebAssembly.Module and the shared
// WebAssembly.Memory are posted to it (structured clone works for both in Node
// worker_threads, Deno and browsers), and its source is the inline string below
// (Blob URL for Web Workers, `eval: true` for worker_threads). The worker
// instantiates the module on the shared memory, reports "ready", then enters the
// wasm-side loop (thread_loop in assembly/threads.ts) and sleeps in
// memory.atomic.wait32 until the calling thread hands it work.

/** Highest accepted thread count (setThreads / ready({ threads })). */
export const MAX_THREADS = 64;
/** Default pool size cap when the core count is used. */
export const DEFAULT_MAX_THREADS = 8;

export type WorkerApi = "worker_threads" | "web-worker";

export type ThreadSupport =
  | { ok: true; api: WorkerApi; canWait: boolean; cores: number }
  | { ok: false; reason: string; cores: number };

/** Test hook: pretend a capability is missing (see resetForTesting in the loader). */
export interface CapabilityOverrides {
  sharedArrayBuffer?: boolean;
  crossOriginIsolated?: boolean;
}

interface NodeWorker {
  postMessage(m: unknown): void;
  once(ev: string, fn: (x: unknown) => void): void;
  off(ev: string, fn: (x: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
type NodeWorkerCtor = new (src: string, opts: { eval: boolean }) => NodeWorker;

// Non-literal specifiers keep bundlers (esbuild, vite) from trying to resolve Node built-ins
// for a browser build; the imports only run where no Web Worker API exists.
const NODE_WORKER_THREADS = "node:worker_threads";
const NODE_OS = "node:os";

async function nodeWorkerCtor(): Promise<NodeWorkerCtor | null> {
  try {
    const m = (await import(/* @vite-ignore */ NODE_WORKER_THREADS)) as { Worker?: NodeWorkerCtor };
    return typeof m.Worker === "function" ? m.Worker : null;
  } catch {
    return null;
  }
}

async function coreCount(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === "number" && nav.hardwareConcurrency > 0) return nav.hardwareConcurrency;
  try {
    const os = (await import(/* @vite-ignore */ NODE_OS)) as { availableParallelism?: () => number; cpus?: () => unknown[] };
    return os.availableParallelism?.() ?? os.cpus?.().length ?? 1;
  } catch {
    return 1;
  }
}

/** May this thread block in Atomics.wait / memory.atomic.wait32? (Not on a browser page's main thread.) */
function blockingWaitAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Can this runtime run the threaded builds, and if not, why. */
export async function probeThreads(over: CapabilityOverrides = {}): Promise<ThreadSupport> {
  const cores = await coreCount();
  const hasSab = over.sharedArrayBuffer ?? typeof SharedArrayBuffer === "function";
  const isolated = over.crossOriginIsolated ?? (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (!hasSab) {
    const reason = isolated === false
      ? "SharedArrayBuffer is unavailable because the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
      : "SharedArrayBuffer is unavailable in this runtime";
    return { ok: false, reason, cores };
  }
  try {
    const probe = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (!(probe.buffer instanceof SharedArrayBuffer)) throw new Error("not shared");
  } catch {
    return { ok: false, reason: "this runtime's WebAssembly has no shared memory (threads proposal)", cores };
  }
  const canWait = blockingWaitAllowed();
  // Browsers: Web Workers. Node: worker_threads. Deno has both; its Web Workers cannot be
  // unref'd (a script would never exit while the pool lives), so it gets worker_threads too.
  const web = typeof (globalThis as { Worker?: unknown }).Worker === "function";
  const deno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
  if (web && !deno) return { ok: true, api: "web-worker", canWait, cores };
  // Deno 2 always has node:worker_threads; importing it costs ~170 ms (its Node layer), so it
  // is left to the first worker start, which the default ready() does not wait for.
  if (deno) return { ok: true, api: "worker_threads", canWait, cores };
  if (await nodeWorkerCtor()) return { ok: true, api: "worker_threads", canWait, cores };
  if (web) return { ok: true, api: "web-worker", canWait, cores };
  return { ok: false, reason: "this runtime has no worker API (neither Web Workers nor node:worker_threads)", cores };
}

// The worker: instantiate on the shared memory, say ready, run the wasm loop until it
// returns (JOB_QUIT). A trap in a job is reported to the caller through the control
// block (thread_failed), and the worker goes back to waiting.
const WORKER_BODY = `
async function start(msg, post) {
  const { module, memory, id, generation } = msg;
  let k;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort() { throw new Error("kernel aborted in a worker"); } } });
    k = instance.exports;
  } catch (e) {
    post({ kind: "error", message: String((e && e.message) || e) });
    return;
  }
  post({ kind: "ready" });
  let seen = generation;
  for (;;) {
    try { k.thread_loop(id, seen); break; } catch (e) { seen = k.thread_failed(); }
  }
}
`;
// dynamic import: an eval worker is a CommonJS script or an ES module depending on the parent's flags
const NODE_SOURCE = `${WORKER_BODY}
import(${JSON.stringify(NODE_WORKER_THREADS)}).then(({ parentPort }) => {
  parentPort.once("message", (m) => { start(m, (x) => parentPort.postMessage(x)).then(() => parentPort.close()); });
});
`;
const WEB_SOURCE = `${WORKER_BODY}
self.onmessage = (e) => { self.onmessage = null; start(e.data, (x) => self.postMessage(x)).then(() => self.close()); };
`;

/** A started worker; stop() ends it (after threads_quit, or forcibly). */
export interface PoolWorker {
  stop(): void;
}

export interface SpawnArgs {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  id: number;
  generation: number;
}

/** Start one worker and resolve when its instance is ready to enter the wasm loop. */
export async function spawnWorker(api: WorkerApi, args: SpawnArgs): Promise<PoolWorker> {
  if (api === "worker_threads") {
    const Ctor = await nodeWorkerCtor();
    if (!Ctor) throw new Error("node:worker_threads is unavailable");
    const w = new Ctor(NODE_SOURCE, { eval: true });
    w.unref(); // never keep a Node process alive
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: unknown) => {
        w.off("error", onErr);
        const msg = m as { kind: string; message?: string };
        if (msg.kind === "ready") resolve();
        else reject(new Error(msg.message ?? "worker failed to start"));
      };
      const onErr = (e: unknown) => {
        w.off("message", onMsg);
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      w.once("message", onMsg);
      w.once("error", onErr);
      w.postMessage(args);
    });
    return { stop: () => void w.terminate() };
  }
  const url = URL.createObjectURL(new Blob([WEB_SOURCE], { type: "text/javascript" }));
  try {
    const w = new Worker(url, { type: "module" });
    await new Promise<void>((resolve, reject) => {
      w.onmessage = (e: MessageEvent) => {
        w.onmessage = null;
        w.onerror = null;
        const msg = e.data as { kind: string; message?: string };
        if (msg.kind === "ready") resolve();
        else reject(new Error(msg.message ?? "worker failed to start"));
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault?.();
        reject(new Error(e.message || "worker failed to start"));
      };
      w.postMessage(args);
    });
    return { stop: () => w.terminate() };
  } finally {
    URL.revokeObjectURL(url);
  }
}
