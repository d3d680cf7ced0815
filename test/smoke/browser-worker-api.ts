// odecomp/worker in the browser (run from browser-worker-api-page.ts): the worker script is bundled as its own
// file (odecomp-worker.js) and passed by URL, as a bundled app would. Compares the worker's results
// with the same calls on the page's main thread and checks errors, transfer and termination.
import { OdecompError, ready, svd, tucker, TuckerTensor } from "../../src/index.ts";
import { createWorker } from "../../src/worker/index.ts";

export interface WorkerApiReport {
  kind: string;
  crossOriginIsolated: boolean;
  tuckerEqual: boolean;
  isTuckerTensor: boolean;
  svdEqual: boolean;
  errorName: string;
  errorMessage: string;
  directMessage: string;
  inputKeptLength: number;
  transferredLength: number;
  afterTerminate: string;
  /** tfjs-backend-wasm in a worker that reports 4 cores: binary and threads. */
  wasm4: { binary: string | null; threads: number; note: string | null };
}

const gauss = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 3 % 1);

export async function workerApiCheck(): Promise<WorkerApiReport> {
  await ready(); // for the same calls on this thread
  const url = new URL("./odecomp-worker.js", location.href);
  const w = await createWorker({ url });
  const x = { data: gauss(6 * 5 * 4, 1), shape: [6, 5, 4] };
  const m = { data: gauss(40 * 24, 2), shape: [40, 24] };
  const [wt, ws] = await Promise.all([w.tucker(x, { rank: [3, 3, 2] }), w.svd(m, { rank: 4 })]);
  const dt = tucker(x, { rank: [3, 3, 2] }), ds = svd(m, { rank: 4 });
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  const bad = { data: new Float32Array([1, 2, NaN, 4]), shape: [2, 2] };
  let directMessage = "";
  try { svd(bad); } catch (e) { directMessage = (e as Error).message; }
  const err = await w.svd(bad).then(() => null, (e: Error) => e);
  await w.terminate();
  const after = await w.svd(m).then(() => "resolved", (e: Error) => (e instanceof OdecompError ? e.message : `wrong type ${e}`));

  const w4 = await createWorker({ url: new URL("./odecomp-worker-4cores.js", location.href), init: { backend: "wasm", wasmPaths: new URL("./tfjs/", location.href).href } });
  const wasm4 = { binary: w4.info.tfjs.binary, threads: w4.info.tfjs.threads, note: w4.info.tfjs.note };
  await w4.terminate();

  const t = await createWorker({ url, transferInputs: true });
  const moved = { data: gauss(30, 3), shape: [6, 5] };
  await t.svd(moved);
  await t.terminate();
  return {
    kind: w.info.kind,
    crossOriginIsolated: w.info.crossOriginIsolated,
    tuckerEqual: same(wt.core.data, dt.core.data) && wt.factors.every((f, i) => same(f.data, dt.factors[i].data)),
    isTuckerTensor: wt instanceof TuckerTensor,
    svdEqual: same(ws.s, ds.s) && same(ws.u.data, ds.u.data) && same(ws.v.data, ds.v.data),
    errorName: err instanceof OdecompError ? err.name : `not an OdecompError: ${err}`,
    errorMessage: err?.message ?? "",
    directMessage,
    inputKeptLength: m.data.length,
    transferredLength: moved.data.length,
    afterTerminate: after,
    wasm4,
  };
}
