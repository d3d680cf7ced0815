// Deno entry for the shared kernel test vectors: runs them and prints one
// line `ODECOMP_VECTORS <json report>` for test/smoke/deno.test.ts to parse.
// Imports only local files (src/ via test/vectors), so Deno runs it offline.
import { runVectors } from "../vectors/index.ts";

const report = await runVectors("main");
console.log(`ODECOMP_VECTORS ${JSON.stringify(report)}`);
