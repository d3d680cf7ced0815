// Deno entry for the shared kernel test vectors: runs them and prints one
// line `ODECOMP_VECTORS <json report>` for test/smoke/deno.test.ts to parse,
// then the threaded == single-threaded check as `ODECOMP_THREADS <json report>`.
// Imports only local files (src/ via test/vectors), so Deno runs it offline.
import { runVectors } from "../vectors/index.ts";
import { runThreadsCheck } from "./threads-check.ts";

const report = await runVectors("main");
console.log(`ODECOMP_VECTORS ${JSON.stringify(report)}`);
const threads = await runThreadsCheck();
console.log(`ODECOMP_THREADS ${JSON.stringify(threads)}`);
