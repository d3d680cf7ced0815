// Dedicated Web Worker entry: runs the shared kernel test vectors and the
// threaded == single-threaded check, and posts both reports.
import { runVectors } from "../vectors/index.ts";
import { runThreadsCheck } from "./threads-check.ts";

(async () => {
  const report = await runVectors("worker");
  return { ...report, threads: await runThreadsCheck() };
})().then(
  (report) => postMessage(report),
  (e: unknown) => postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
);
