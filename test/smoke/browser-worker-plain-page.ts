// Page entry for chromium-worker.test.ts served WITHOUT COOP/COEP: no cross-origin isolation, so no
// SharedArrayBuffer; odecomp/worker still runs, and useWasmBackend falls back to the plain SIMD binary
// on one thread and says why.
import { createWorker } from "../../src/worker/index.ts";

interface Published { info?: unknown; isolated?: boolean; error?: string; done: boolean }
const out: Published = { done: false };
(globalThis as { __odecompPlain?: Published }).__odecompPlain = out;
try {
  const w = await createWorker({ url: new URL("./odecomp-worker.js", location.href), init: { backend: "wasm", wasmPaths: new URL("./tfjs/", location.href).href } });
  out.info = w.info;
  out.isolated = globalThis.crossOriginIsolated;
  const r = await w.svd({ data: new Float32Array([3, 0, 0, 4]), shape: [2, 2] });
  if (Array.from(r.s).join() !== "4,3") throw new Error(`svd gave ${Array.from(r.s)}`);
  await w.terminate();
} catch (e) {
  out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
out.done = true;
