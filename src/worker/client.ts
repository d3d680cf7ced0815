// The caller side of the worker API: createWorker() starts (or adopts) a worker
// running src/worker/entry.ts and returns an object whose methods have the
// signatures of the direct API, returning promises. One pending call per id;
// progress messages go to the call's onProgress; errors come back re-thrown.
import { OdecompError, fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { CompressOptions, Plan } from "../compress/plan.ts";
import type { Artifacts } from "../compress/artifacts.ts";
import type { ImageSet } from "../data/dataset.ts";
import type { FinetuneOptions, FinetuneResult } from "../train/finetune.ts";
import type { EvaluateOptions, EvaluateResult } from "../train/evaluate.ts";
import type { ArtifactsResult, CompressResult, ReconstructResult, reconstructModelArtifacts } from "../models/compress.ts";
import {
  CORE_FUNCTIONS, type CoreFunctions, decodeResult, deserializeError, transferables,
  type WorkerProgressFn, type WorkerRequest, type WorkerResponse, type WorkerFunction, type WorkerInfo, type WorkerInit,
} from "./protocol.ts";

/** A browser / Deno Web Worker (or anything with the same four members). */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message" | "error" | "messageerror", handler: (e: Event) => void): void;
  terminate(): void;
}

/** A Node worker_threads Worker. */
export interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: string, handler: (...args: unknown[]) => void): unknown;
  terminate(): Promise<number> | void;
  ref?(): void;
  unref?(): void;
}

export interface CreateWorkerOptions {
  /**
   * URL of the worker script. Default: the entry module next to this one (`dist/worker/entry.js` in the
   * package, `src/worker/entry.ts` in a source checkout). A bundled app should build
   * `odecomp/worker/entry` as its own file and pass its URL here (or pass `worker`).
   */
  url?: string | URL;
  /** A worker already started on the odecomp worker script (Web Worker or worker_threads Worker); `url` is then ignored. */
  worker?: WebWorkerLike | NodeWorkerLike;
  /**
   * Inputs are copied into the worker by default (the caller's arrays stay usable, as with the direct API).
   * With true, every input Float32Array that spans its whole ArrayBuffer is transferred instead: no copy,
   * and the caller's array is detached (length 0) after the call is sent. Results are always transferred.
   */
  transferInputs?: boolean;
  /** Set-up of the worker: tfjs backend, wasm paths, threads. */
  init?: WorkerInit;
  /**
   * How long to wait for the worker to answer init (load odecomp and tfjs, compile the kernels) before
   * giving up with an OdecompError, in milliseconds; default 60000. Infinity waits forever. A worker that
   * is not running the odecomp script never answers, so without a limit createWorker would never settle.
   */
  initTimeoutMs?: number;
}

/** createWorker's default initTimeoutMs: generous for a cold browser start (tfjs + two wasm compiles). */
export const DEFAULT_INIT_TIMEOUT_MS = 60_000;

type Async<F extends (...args: never[]) => unknown> = (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;

/** The proxied root functions (CoreFunctions in protocol.ts), run in the worker: same arguments, results as promises. */
export type OdecompCoreWorker = { [K in keyof CoreFunctions]: Async<CoreFunctions[K]> };

/** The direct API's functions, run in the worker: same arguments, results as promises. */
export interface OdecompWorker extends OdecompCoreWorker {
  /** What the worker runs on (odecomp build, tfjs backend and threads, cross-origin isolation). */
  readonly info: WorkerInfo;
  /** compress() of odecomp/models: the model goes to the worker as artifacts, the result comes back as a new LayersModel. */
  compress(model: tfl.LayersModel, options?: CompressOptions): Promise<CompressResult>;
  /** planCompression() of odecomp/models. */
  planCompression(model: tfl.LayersModel, options?: CompressOptions): Promise<{ plan: Plan; report: string }>;
  /** reconstruct() of odecomp/models. */
  reconstruct(model: tfl.LayersModel): Promise<ReconstructResult>;
  /** compressArtifacts() of odecomp/models (tfjs is not needed on the caller's side). */
  compressArtifacts(artifacts: Artifacts, options?: CompressOptions): Promise<ArtifactsResult>;
  reconstructModelArtifacts: Async<typeof reconstructModelArtifacts>;
  /**
   * finetune() of odecomp/train: the model (and `teacher`) go to the worker as artifacts, the data as a
   * copy; `onStep` reports progress; the fine-tuned model comes back as a new LayersModel (the input is untouched).
   */
  finetune(model: tfl.LayersModel, train: ImageSet, options?: WorkerFinetuneOptions): Promise<{ model: tfl.LayersModel; result: FinetuneResult }>;
  /** evaluateModel() of odecomp/train (with `teacher`: top-1 agreement). */
  evaluate(model: tfl.LayersModel, set: ImageSet, options?: Omit<EvaluateOptions, "teacher" | "onProgress"> & { teacher?: tfl.LayersModel }): Promise<EvaluateResult>;
  /** finetune() on artifacts (tfjs is not needed on the caller's side): the fine-tuned model comes back as artifacts. */
  finetuneArtifacts(artifacts: Artifacts, train: ImageSet, options?: Omit<WorkerFinetuneOptions, "teacher">, teacher?: Artifacts): Promise<{ artifacts: Artifacts; result: FinetuneResult }>;
  /** evaluateModel() on artifacts (with `teacher`: top-1 agreement). */
  evaluateArtifacts(artifacts: Artifacts, set: ImageSet, options?: Omit<EvaluateOptions, "teacher" | "onProgress">, teacher?: Artifacts): Promise<EvaluateResult>;
  /** Stop the worker; pending calls reject with an OdecompError. Idempotent. */
  terminate(): Promise<void>;
}

/** finetune's options in the worker: the teacher as a model (sent as artifacts); no optimizer factory or epoch callback (functions cannot be posted). */
export type WorkerFinetuneOptions = Omit<FinetuneOptions, "teacher" | "optimizer" | "onEpochEnd"> & { teacher?: tfl.LayersModel };

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: WorkerProgressFn;
}

const WHERE = "worker";
const isNode = () => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string" && typeof (globalThis as { Deno?: unknown }).Deno === "undefined";

/** The worker script next to this module (works from dist/worker/, dist/chunks/ and src/worker/). */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return new URL(`../worker/entry.${/\.ts($|\?)/.test(here) ? "ts" : "js"}`, here);
}

async function startWorker(url: URL | string): Promise<WebWorkerLike | NodeWorkerLike> {
  const WebWorker = (globalThis as { Worker?: new (u: URL | string, o: { type: "module" }) => WebWorkerLike }).Worker;
  if (typeof WebWorker === "function") return new WebWorker(url, { type: "module" });
  if (!isNode()) fail(WHERE, "no Worker here: expected a Web Worker (browsers, Deno) or Node's worker_threads");
  const { Worker } = await import("node:worker_threads");
  const href = String(url);
  if (!href.endsWith(".ts")) return new Worker(href.startsWith("file:") ? new URL(href) : href) as unknown as NodeWorkerLike;
  // A source checkout's .ts entry: Node 20 does not pass the parent's module hooks to worker threads, so
  // the thread registers tsx itself (resolved next to the entry), then imports the entry.
  const { createRequire } = await import("node:module");
  const { pathToFileURL } = await import("node:url");
  let tsx: string;
  try {
    // The package's "import" condition of tsx/esm/api (createRequire resolves the "require" one).
    const pkgPath = createRequire(href).resolve("tsx/package.json");
    const { readFileSync } = await import("node:fs");
    const entry = JSON.parse(readFileSync(pkgPath, "utf8")).exports["./esm/api"].import.default as string;
    tsx = new URL(entry, pathToFileURL(pkgPath)).href;
  } catch {
    return fail(WHERE, `the worker script ${href} is TypeScript and tsx is not installed next to it; use the built package (dist/worker/entry.js) or pass options.url / options.worker`);
  }
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(href)}); });`;
  return new Worker(boot, { eval: true }) as unknown as NodeWorkerLike;
}

/**
 * Start a worker running odecomp (or adopt `options.worker`) and resolve once it is ready. The returned
 * object has the direct API's functions with the same signatures, returning promises.
 */
export async function createWorker(options: CreateWorkerOptions = {}): Promise<OdecompWorker> {
  const initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
  if (typeof initTimeoutMs !== "number" || !(initTimeoutMs > 0)) {
    fail(WHERE, `initTimeoutMs must be a number of milliseconds > 0 (or Infinity), got ${show(initTimeoutMs)}`);
  }
  const worker = options.worker ?? await startWorker(options.url ?? defaultWorkerUrl());
  const node = typeof (worker as NodeWorkerLike).on === "function";
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: string | null = null;
  let terminated = false;

  const settleAll = (why: string) => {
    for (const p of pending.values()) p.reject(new OdecompError(`${WHERE}: ${why}`));
    pending.clear();
  };
  const onMessage = (m: WorkerResponse) => {
    const p = pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case "progress": p.onProgress?.(m.progress); return;
      case "ready": pending.delete(m.id); p.resolve(m.info); break;
      case "result": pending.delete(m.id); p.resolve(decodeResult(m.value)); break;
      case "error": pending.delete(m.id); p.reject(deserializeError(m.error)); break;
    }
    if (pending.size === 0) (worker as NodeWorkerLike).unref?.();
  };
  const onFailure = (why: string) => {
    dead = why;
    settleAll(why);
  };
  if (node) {
    const w = worker as NodeWorkerLike;
    w.on("message", (m) => onMessage(m as WorkerResponse));
    w.on("error", (e) => onFailure(`the worker failed: ${e instanceof Error ? e.message : String(e)}`));
    w.on("exit", (code) => { if (!dead) onFailure(`the worker exited (code ${code as number})`); });
  } else {
    const w = worker as WebWorkerLike;
    w.addEventListener("message", (e) => onMessage((e as MessageEvent).data as WorkerResponse));
    w.addEventListener("error", (e) => {
      e.preventDefault?.();
      const ev = e as ErrorEvent;
      onFailure(`the worker failed to load or crashed: ${ev.message || "no message (check the worker URL and the server's headers)"}`);
    });
    w.addEventListener("messageerror", () => onFailure("a message from the worker could not be deserialized"));
  }

  const send = (req: WorkerRequest, p: Pending, transfer: ArrayBuffer[]) => {
    if (dead) { p.reject(new OdecompError(`${WHERE}: ${dead}`)); return; }
    pending.set(req.id, p);
    (worker as NodeWorkerLike).ref?.();
    try {
      worker.postMessage(req, transfer);
    } catch (e) {
      pending.delete(req.id);
      p.reject(new OdecompError(`${WHERE}: the arguments of ${req.type === "call" ? req.fn : req.type} cannot be sent to the worker (${e instanceof Error ? e.message : String(e)}); expected plain data: tensors, numbers, strings, arrays and objects`));
    }
  };

  const call = <T>(fn: WorkerFunction, args: unknown[], onProgress?: WorkerProgressFn, ownedInputs = false): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const transfer = ownedInputs ? transferables(args) : options.transferInputs ? transferables(args, true) : [];
      send({ type: "call", id, fn, args, progress: onProgress !== undefined }, { resolve: resolve as (v: unknown) => void, reject, onProgress }, transfer);
    });

  /** Options without the callback (functions cannot be posted); the worker calls back through progress messages. */
  const split = (o: CompressOptions | undefined): [CompressOptions | undefined, CompressOptions["onProgress"]] => {
    if (o === undefined || o === null || typeof o !== "object") return [o, undefined];
    const { onProgress, ...rest } = o;
    if (onProgress !== undefined && typeof onProgress !== "function") fail("compress", `onProgress is ${typeof onProgress}; expected a function`);
    return [rest, onProgress];
  };
  const convert = () => import("../models/convert.ts");

  let info: WorkerInfo;
  try {
    info = await new Promise<WorkerInfo>((resolve, reject) => {
      const id = nextId++;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = <T>(f: (v: T) => void) => (v: T) => { if (timer !== undefined) clearTimeout(timer); f(v); };
      if (Number.isFinite(initTimeoutMs)) {
        timer = setTimeout(() => {
          pending.delete(id);
          (worker as NodeWorkerLike).unref?.(); // a silent worker must not keep the process alive
          const why = `the worker did not answer init within ${initTimeoutMs} ms; expected a worker running the odecomp worker script (src/worker/entry.ts, dist/worker/entry.js) — raise options.initTimeoutMs if it is only slow to start`;
          dead = why;
          reject(new OdecompError(`${WHERE}: ${why}`));
        }, initTimeoutMs);
      }
      send({ type: "init", id, init: options.init ?? {} }, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) }, []);
    });
  } catch (e) {
    if (!options.worker) await worker.terminate(); // ours: do not leave a half-started worker behind
    throw e;
  }

  const api: Record<string, unknown> = {
    info,
    async compress(model: tfl.LayersModel, o?: CompressOptions) {
      const { modelToArtifacts, artifactsToModel } = await convert();
      const [rest, onProgress] = split(o);
      const r = await call<ArtifactsResult>("compressArtifacts", [await modelToArtifacts(model), rest], onProgress as WorkerProgressFn | undefined, true);
      return { model: await artifactsToModel(r.artifacts), plan: r.plan, report: r.report };
    },
    async planCompression(model: tfl.LayersModel, o?: CompressOptions) {
      const { modelToArtifacts } = await convert();
      return call("planArtifacts", [await modelToArtifacts(model), split(o)[0]], undefined, true);
    },
    async reconstruct(model: tfl.LayersModel) {
      const { modelToArtifacts, artifactsToModel } = await convert();
      const r = await call<{ artifacts: Artifacts; folded: ReconstructResult["folded"]; notes: string[] }>("reconstructModelArtifacts", [await modelToArtifacts(model)], undefined, true);
      return { model: await artifactsToModel(r.artifacts), folded: r.folded, notes: r.notes };
    },
    compressArtifacts(artifacts: Artifacts, o?: CompressOptions) {
      const [rest, onProgress] = split(o);
      return call("compressArtifacts", [artifacts, rest], onProgress as WorkerProgressFn | undefined);
    },
    async finetune(model: tfl.LayersModel, train: ImageSet, o: WorkerFinetuneOptions = {}) {
      const { modelToArtifacts, artifactsToModel } = await convert();
      const { teacher, onStep, ...rest } = o;
      if (onStep !== undefined && typeof onStep !== "function") fail("finetune", `onStep is ${typeof onStep}; expected a function`);
      const r = await call<{ artifacts: Artifacts; result: FinetuneResult }>("finetuneArtifacts", [await modelToArtifacts(model), train, rest, teacher ? await modelToArtifacts(teacher) : undefined], onStep as WorkerProgressFn | undefined);
      return { model: await artifactsToModel(r.artifacts), result: r.result };
    },
    async evaluate(model: tfl.LayersModel, set: ImageSet, o: Omit<EvaluateOptions, "teacher" | "onProgress"> & { teacher?: tfl.LayersModel } = {}) {
      const { modelToArtifacts } = await convert();
      const { teacher, ...rest } = o;
      return call("evaluateArtifacts", [await modelToArtifacts(model), set, rest, teacher ? await modelToArtifacts(teacher) : undefined]);
    },
    reconstructModelArtifacts: (artifacts: Artifacts) => call("reconstructModelArtifacts", [artifacts]),
    finetuneArtifacts(artifacts: Artifacts, train: ImageSet, o: Omit<WorkerFinetuneOptions, "teacher"> = {}, teacher?: Artifacts) {
      const { onStep, ...rest } = o;
      if (onStep !== undefined && typeof onStep !== "function") fail("finetune", `onStep is ${typeof onStep}; expected a function`);
      return call("finetuneArtifacts", [artifacts, train, rest, teacher], onStep as WorkerProgressFn | undefined);
    },
    evaluateArtifacts: (artifacts: Artifacts, set: ImageSet, o: Omit<EvaluateOptions, "teacher" | "onProgress"> = {}, teacher?: Artifacts) => call("evaluateArtifacts", [artifacts, set, o, teacher]),
    async terminate() {
      if (terminated) return;
      terminated = true;
      settleAll("the worker was terminated before the call finished");
      dead = "this worker was terminated; create a new one with createWorker()";
      await worker.terminate();
    },
  };
  for (const name of CORE_FUNCTIONS) api[name] = (...args: unknown[]) => call(name, args);
  return api as unknown as OdecompWorker;
}
