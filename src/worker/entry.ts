// The odecomp worker script: start it with createWorker() from "odecomp/worker"
// (or pass its URL / a Worker built from it). It answers requests on its own
// port: worker_threads in Node, the Web Worker scope in browsers and Deno.
import { serveHere } from "./serve.ts";

await serveHere();
