// Dedicated Web Worker entry: runs the shared kernel test vectors and posts the report.
import { runVectors } from "../vectors/index.ts";

runVectors("worker").then(
  (report) => postMessage(report),
  (e: unknown) => postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
);
