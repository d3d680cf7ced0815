// Public surface of `odecomp/worker`: the direct API, run in a worker (Web Worker in browsers and Deno,
// worker_threads in Node) behind the same signatures, returning promises. See docs/worker.md.
// The worker script itself is the `odecomp/worker/entry` export (src/worker/entry.ts).
export { createWorker, defaultWorkerUrl, type OdecompWorker, type CreateWorkerOptions, type WebWorkerLike, type NodeWorkerLike, type WorkerFinetuneOptions } from "./client.ts";
export type { WorkerInit, WorkerInfo, WorkerRequest, WorkerResponse, WorkerFunction, WorkerProgress } from "./protocol.ts";
export { CORE_FUNCTIONS as WORKER_CORE_FUNCTIONS } from "./protocol.ts";
