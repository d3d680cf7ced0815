// Browser page entry (bundled by test/smoke/chromium.test.ts with esbuild):
// runs the shared kernel test vectors on the main thread, then once more in a
// dedicated module Web Worker, and publishes both reports on globalThis.
import { runVectors, type VectorReport } from "../vectors/index.ts";

interface Published { main?: VectorReport; worker?: VectorReport; error?: string; done: boolean }
const out: Published = { done: false };
(globalThis as { __odecomp?: Published }).__odecomp = out;

function inWorker(): Promise<VectorReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.js", location.href), { type: "module" });
    worker.onmessage = (e: MessageEvent<VectorReport | { error: string }>) => {
      worker.terminate();
      if ("error" in e.data) reject(new Error(`worker: ${e.data.error}`));
      else resolve(e.data);
    };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(`worker failed to load or run: ${e.message}`)); };
  });
}

try {
  out.main = await runVectors("main");
  out.worker = await inWorker();
} catch (e) {
  out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
out.done = true;
