// Browser page entry for chromium-worker.test.ts: runs the odecomp/worker checks and publishes the report.
import { workerApiCheck, type WorkerApiReport } from "./browser-worker-api.ts";

interface Published { report?: WorkerApiReport; error?: string; done: boolean }
const out: Published = { done: false };
(globalThis as { __odecompWorkerApi?: Published }).__odecompWorkerApi = out;
try {
  out.report = await workerApiCheck();
} catch (e) {
  out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
out.done = true;
