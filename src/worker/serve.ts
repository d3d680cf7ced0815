// The worker side: answers the requests of src/worker/client.ts on one port
// (a Web Worker's global scope or Node's worker_threads parentPort). A plain
// switch over the message union; every call runs the library function of the
// same name and posts its result with the result's buffers transferred.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as odecomp from "../index.ts";
import { fail } from "../core/errors.ts";
import { type CompressOptions, formatPlan } from "../compress/plan.ts";
import type { Artifacts } from "../compress/artifacts.ts";
import { planArtifacts } from "../compress/compress.ts";
import { compressArtifacts, reconstructModelArtifacts } from "../models/compress.ts";
import { artifactsToModel, layerShapes } from "../models/convert.ts";
import type { ImageSet } from "../data/dataset.ts";
import type { FinetuneOptions } from "../train/finetune.ts";
import type { EvaluateOptions } from "../train/evaluate.ts";
import {
  CORE_FUNCTIONS, MODEL_FUNCTIONS, encodeResult, serializeError, transferables,
  type CoreFunction, type WorkerProgress, type WorkerProgressFn, type WorkerRequest, type WorkerResponse, type WorkerFunction, type WorkerInfo, type WorkerInit,
} from "./protocol.ts";

/** The two halves of a message port this module needs. */
export interface ServePort {
  post(message: WorkerResponse, transfer: ArrayBuffer[]): void;
  listen(handler: (message: WorkerRequest) => void): void;
}

type Impl = (args: unknown[], onProgress?: WorkerProgressFn) => unknown;

const withProgress = (o: unknown, onProgress: WorkerProgressFn | undefined): CompressOptions =>
  onProgress ? { ...(o as CompressOptions ?? {}), onProgress } : (o as CompressOptions);

/** finetune / evaluateModel of odecomp/train on artifacts: the models are built here and disposed after. */
async function onModels<T>(a: Artifacts, teacher: Artifacts | undefined, fn: (m: Awaited<ReturnType<typeof artifactsToModel>>, t: Awaited<ReturnType<typeof artifactsToModel>> | undefined) => Promise<T>): Promise<T> {
  const model = await artifactsToModel(a);
  const t = teacher ? await artifactsToModel(teacher) : undefined;
  try {
    return await fn(model, t);
  } finally {
    model.dispose(); t?.dispose();
  }
}

async function finetuneOnArtifacts(args: unknown[], onStep?: WorkerProgressFn) {
  const { finetune } = await import("../train/finetune.ts");
  const { modelToArtifacts } = await import("../models/convert.ts");
  const o = (args[2] ?? {}) as FinetuneOptions;
  return onModels(args[0] as Artifacts, args[3] as Artifacts | undefined, async (m, teacher) => {
    const result = await finetune(m, args[1] as ImageSet, { ...o, teacher, ...(onStep ? { onStep } : {}) });
    return { artifacts: await modelToArtifacts(m), result };
  });
}

async function evaluateOnArtifacts(args: unknown[]) {
  const { evaluateModel } = await import("../train/evaluate.ts");
  return onModels(args[0] as Artifacts, args[3] as Artifacts | undefined, (m, teacher) => evaluateModel(m, args[1] as ImageSet, { ...(args[2] ?? {}) as EvaluateOptions, teacher }));
}

/** planCompression on artifacts (the client sends a LayersModel's artifacts). */
async function planOnArtifacts(a: Artifacts, options: CompressOptions) {
  const model = await artifactsToModel(a);
  try {
    const plan = planArtifacts(a, layerShapes(model), options);
    return { plan, report: formatPlan(plan) };
  } finally {
    model.dispose();
  }
}

const core = odecomp as unknown as Record<string, (...a: unknown[]) => unknown>;
const IMPLS: Record<WorkerFunction, Impl> = {
  ...(Object.fromEntries(CORE_FUNCTIONS.map((name) => [name, (args: unknown[]) => core[name](...args)])) as Record<CoreFunction, Impl>),
  compressArtifacts: (args, p) => compressArtifacts(args[0] as Artifacts, withProgress(args[1], p)),
  reconstructModelArtifacts: (args) => reconstructModelArtifacts(args[0] as Artifacts),
  planArtifacts: (args) => planOnArtifacts(args[0] as Artifacts, (args[1] ?? {}) as CompressOptions),
  finetuneArtifacts: (args, p) => finetuneOnArtifacts(args, p),
  evaluateArtifacts: (args) => evaluateOnArtifacts(args),
};

async function init(o: WorkerInit, kind: WorkerInfo["kind"]): Promise<WorkerInfo> {
  await odecomp.ready();
  // setThreads resolves with the reason when it gets fewer threads than asked for
  const threadsNote = o.threads !== undefined ? (await odecomp.setThreads(o.threads)).reason : null;
  const threads = odecomp.getThreads();
  const backend = o.backend ?? "cpu";
  let tfjs: WorkerInfo["tfjs"];
  if (backend === "wasm") {
    const { useWasmBackend } = await import("../tfjs/backend.ts");
    tfjs = await useWasmBackend({ wasmPaths: o.wasmPaths, threads: o.tfjsThreads });
  } else if (backend === "cpu") {
    await tf.setBackend("cpu");
    await tf.ready();
    tfjs = { backend: tf.getBackend(), binary: null, threads: 1, note: "cpu backend" };
  } else {
    fail("createWorker", `backend is '${backend as string}'; expected 'cpu' or 'wasm'`);
  }
  return {
    odecomp: odecomp.runtimeInfo(), threads, threadsNote, tfjs,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, kind,
  };
}

/** Answer requests on `port` until the worker is terminated. */
export function serve(port: ServePort, kind: WorkerInfo["kind"]): void {
  const reply = (m: WorkerResponse, transfer: ArrayBuffer[] = []) => port.post(m, transfer);
  port.listen(async (m) => {
    try {
      switch (m.type) {
        case "init":
          reply({ type: "ready", id: m.id, info: await init(m.init ?? {}, kind) });
          break;
        case "call": {
          const impl = IMPLS[m.fn];
          if (!impl || !(CORE_FUNCTIONS as readonly string[]).concat(MODEL_FUNCTIONS).includes(m.fn)) fail("worker", `unknown function '${String(m.fn)}'; expected one of ${[...CORE_FUNCTIONS, ...MODEL_FUNCTIONS].join(", ")}`);
          const onProgress = m.progress ? (progress: WorkerProgress) => reply({ type: "progress", id: m.id, progress }) : undefined;
          const value = encodeResult(await impl(m.args, onProgress));
          reply({ type: "result", id: m.id, value }, transferables(value));
          break;
        }
        default:
          fail("worker", `unknown message type '${(m as { type: unknown }).type}'; expected 'init' or 'call'`);
      }
    } catch (e) {
      reply({ type: "error", id: (m as { id?: number }).id ?? -1, error: serializeError(e) });
    }
  });
}

/** Serve on this worker's own port: Node worker_threads' parentPort, else the Web Worker scope (browsers, Deno). */
export async function serveHere(): Promise<void> {
  const g = globalThis as unknown as { postMessage?: (m: unknown, t: Transferable[]) => void; addEventListener?: (t: string, h: (e: MessageEvent) => void) => void };
  if (typeof g.postMessage === "function" && typeof g.addEventListener === "function") {
    serve({ post: (m, t) => g.postMessage!(m, t), listen: (h) => g.addEventListener!("message", (e) => h(e.data as WorkerRequest)) }, "web");
    return;
  }
  const { parentPort } = await import("node:worker_threads");
  if (!parentPort) fail("worker", "serveHere() runs in a worker; here there is no Web Worker scope and no worker_threads parentPort");
  serve({ post: (m, t) => parentPort.postMessage(m, t), listen: (h) => parentPort.on("message", h) }, "node");
}
