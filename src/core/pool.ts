// Worker threads for the threaded kernel builds: what the runtime allows
// (capability probe with a reason when threads are impossible), how to start
// and stop workers, and the ThreadPool the loader's ready state holds (its size,
// what was asked for and why fewer threads run). The loader owns when a pool
// exists; the pool owns its workers.
//
// A worker needs no file of ours: the compiled WebAssembly.Module and the shared
// WebAssembly.Memory are posted to it (structured clone works for both in Node
// worker_threads, Deno and browsers), and its source is the inline string below
// (Blob URL for Web Workers, `eval: true` for worker_threads). The worker
// instantiates the module on the shared memory, reports "ready", then enters the
// wasm-side loop (thread_loop in assembly/threads.ts) and sleeps in
// memory.atomic.wait32 until the calling thread hands it work.
import { OdecompError } from "./errors.ts";
import type { KernelFunctions } from "./kernels.generated.ts";

/** Every thread-count limit: the highest count accepted (setThreads / ready({ threads })) and the cap of "auto". */
export const THREAD_LIMITS = { max: 64, auto: 8 } as const;
/** Highest accepted thread count (THREAD_LIMITS.max). */
export const MAX_THREADS = THREAD_LIMITS.max;
/** Default pool size cap when the core count is used (THREAD_LIMITS.auto). */
export const DEFAULT_MAX_THREADS = THREAD_LIMITS.auto;

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

export interface ThreadsInfo {
  /** Threads the kernels use now (the calling thread plus threads − 1 workers). */
  threads: number;
  /** What was asked for (ready({ threads }) or setThreads), resolved: "auto" becomes the core count. */
  requested: number;
  /** Why fewer threads run than requested, or why only 1 runs; null when threads === requested > 1. */
  reason: string | null;
  /** Worker API of the pool, or null when no threads are possible. */
  api: WorkerApi | null;
  /** False on a browser page's main thread: it may not block, so it spins while waiting for workers. */
  blockingWait: boolean;
  /** Logical cores reported by the runtime. */
  cores: number;
}

/** What the pool needs of the kernel module: its shared memory and the thread controls. */
export type PoolKernels = Pick<KernelFunctions, "threads_config" | "threads_generation" | "threads_quit"> & { memory: WebAssembly.Memory };

/** A thread count as given (an integer in 1…THREAD_LIMITS.max, or "auto"), checked. */
export function checkThreads(where: string, n: unknown): number | "auto" {
  if (n === "auto") return n;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > THREAD_LIMITS.max) {
    throw new OdecompError(`${where}: threads must be an integer in 1…${THREAD_LIMITS.max} or 'auto' (the core count), got ${typeof n === "string" ? `'${n}'` : String(n)}`);
  }
  return n;
}

/**
 * The kernel threads of one loaded module: the calling thread plus workers on its shared
 * memory. Changes are serialised (one resize after another); kernels called meanwhile run on
 * the calling thread. terminate() bumps an epoch so that a start still in flight stops what it
 * started instead of installing it.
 */
export class ThreadPool {
  private workers: PoolWorker[] = [];
  /** Serialises pool changes (setThreads calls in a row). */
  private chain: Promise<unknown> = Promise.resolve();
  private epoch = 0;
  private current: ThreadsInfo;

  constructor(
    private readonly k: PoolKernels,
    readonly support: ThreadSupport,
    /** The compiled threads build for the workers, or null where threads are impossible. */
    private readonly module: WebAssembly.Module | null,
  ) {
    this.current = this.single(1, null);
  }

  /** A copy of what runs now. */
  get info(): ThreadsInfo {
    return { ...this.current };
  }

  get threads(): number {
    return this.current.threads;
  }

  /** "auto" → the core count, capped at THREAD_LIMITS.auto. */
  resolve(n: number | "auto"): number {
    return n === "auto" ? Math.max(1, Math.min(this.support.cores, THREAD_LIMITS.auto)) : n;
  }

  /** Bring the pool to n threads and wait for it (ready({ threads }) given explicitly). */
  start(n: number): Promise<void> {
    const p = this.resize(n, this.epoch);
    this.chain = p;
    return p;
  }

  /**
   * Bring the pool to n threads from the next task on, without waiting: the kernels are usable
   * at once (on the calling thread) and the workers join in tens of ms (Deno's
   * node:worker_threads import alone blocks ~50–170 ms, which must not count against ready()).
   */
  startInBackground(n: number): void {
    const epoch = this.epoch;
    this.current = this.single(n, n > 1 && this.support.ok ? `starting ${n - 1} worker(s) in the background (await setThreads(n) to wait for them)` : null);
    this.chain = new Promise((r) => setTimeout(r, 0)).then(() => this.resize(n, epoch));
  }

  /** Queue a resize to `wanted` after the ones before it; resolves with what runs then. */
  async set(wanted: number | "auto"): Promise<ThreadsInfo> {
    const next = this.chain.then(() => this.resize(this.resolve(wanted), this.epoch));
    this.chain = next.catch(() => undefined);
    await next;
    return this.info;
  }

  /** Stop the workers now (synchronously); a start in flight stops what it started. */
  terminate(reason: string): void {
    this.epoch++;
    this.stopWorkers();
    this.current = this.single(1, reason);
  }

  private single(requested: number, reason: string | null): ThreadsInfo {
    const support = this.support;
    return {
      threads: 1, requested,
      reason: reason ?? (support.ok ? (requested === 1 ? "1 thread requested" : null) : support.reason),
      api: support.ok ? support.api : null,
      blockingWait: support.ok ? support.canWait : true,
      cores: support.cores,
    };
  }

  /** Stop every worker (they leave the wasm loop first) and run on the calling thread alone. */
  private stopWorkers(): void {
    if (this.workers.length === 0) return;
    this.k.threads_quit();
    for (const w of this.workers) w.stop();
    this.workers = [];
  }

  /** Bring the pool to n threads (or 1 with a reason). Kernels run single-threaded meanwhile. */
  private async resize(n: number, epoch: number): Promise<void> {
    if (this.epoch !== epoch) return; // terminate() came first
    const support = this.support;
    const k = this.k;
    if (!support.ok || !this.module || n === 1) {
      this.stopWorkers();
      this.current = this.single(n, null);
      return;
    }
    if (this.workers.length === n - 1) {
      this.current = { ...this.current, requested: n, reason: null };
      return;
    }
    this.stopWorkers();
    this.current = this.single(n, `starting ${n - 1} worker(s)`);
    const generation = k.threads_generation();
    const module = this.module;
    const started = await Promise.allSettled(
      Array.from({ length: n - 1 }, (_, i) => spawnWorker(support.api, { module, memory: k.memory, id: i + 1, generation })),
    );
    const ok = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const bad = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (this.epoch !== epoch) {
      // terminate() (or a reset) ran meanwhile: these workers never entered a job
      for (const w of ok) w.stop();
      return;
    }
    if (bad) {
      for (const w of ok) w.stop(); // never entered a job: safe to terminate
      this.current = this.single(n, `workers failed to start: ${(bad.reason as Error)?.message ?? String(bad.reason)}`);
      return;
    }
    this.workers = ok;
    k.threads_config(n, support.canWait ? 1 : 0);
    this.current = { threads: n, requested: n, reason: null, api: support.api, blockingWait: support.canWait, cores: support.cores };
  }
}
