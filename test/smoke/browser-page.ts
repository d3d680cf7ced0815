// Browser page entry (bundled by test/smoke/chromium.test.ts with esbuild):
// runs the shared kernel test vectors and the threaded == single-threaded check
// on the main thread (which may not block: it spins while the kernel workers
// finish), then both once more in a dedicated module Web Worker, and publishes
// the reports on globalThis.
import { runVectors, type VectorReport } from "../vectors/index.ts";
import { runThreadsCheck, type ThreadsReport } from "./threads-check.ts";

type WithThreads = VectorReport & { threads: ThreadsReport };
interface Published { main?: WithThreads; worker?: WithThreads; error?: string; done: boolean }
const out: Published = { done: false };
(globalThis as { __odecomp?: Published }).__odecomp = out;

function inWorker(): Promise<WithThreads> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.js", location.href), { type: "module" });
    worker.onmessage = (e: MessageEvent<WithThreads | { error: string }>) => {
      worker.terminate();
      if ("error" in e.data) reject(new Error(`worker: ${e.data.error}`));
      else resolve(e.data);
    };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(`worker failed to load or run: ${e.message}`)); };
  });
}

try {
  const main = await runVectors("main");
  out.main = { ...main, threads: await runThreadsCheck() };
  out.worker = await inWorker();
} catch (e) {
  out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
out.done = true;
