// Page entry served WITHOUT COOP/COEP (test/smoke/chromium.test.ts, path /plain): the
// page is not cross-origin isolated, so there is no SharedArrayBuffer; odecomp must run
// its single-thread build, say why, and still compute.
import { matmul, ready, runtimeInfo, setThreads, threadsInfo } from "../../src/index.ts";

interface Plain { done: boolean; error?: string; info?: unknown; runtime?: unknown; after?: unknown; product?: number[] }
const out: Plain = { done: false };
(globalThis as { __odecompPlain?: Plain }).__odecompPlain = out;
try {
  await ready();
  out.info = threadsInfo();
  out.runtime = runtimeInfo();
  out.after = await setThreads(2);
  out.product = Array.from(matmul({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, { data: new Float32Array([1, 0, 0, 1]), shape: [2, 2] }).data);
} catch (e) {
  out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
out.done = true;
