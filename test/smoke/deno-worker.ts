// Deno entry for odecomp/worker: createWorker() starts src/worker/entry.ts as a module Web Worker
// (Deno runs the TypeScript directly; tfjs resolves from node_modules), runs a decomposition and an
// error case, and prints one line `ODECOMP_WORKER <json>` for test/smoke/deno.test.ts.
import { createWorker } from "../../src/worker/index.ts";
import { OdecompError } from "../../src/index.ts";
import { artifactsFromJSON } from "../../src/models/io.ts";

declare const Deno: { readFile(path: string | URL): Promise<Uint8Array>; readTextFile(path: string | URL): Promise<string> };
const w = await createWorker();
const t = await w.tucker({ data: Float32Array.from({ length: 60 }, (_, i) => Math.cos(i)), shape: [3, 4, 5] }, { rank: 2 });
let err = "";
try { await w.svd({ data: new Float32Array([NaN]), shape: [1, 1] }); } catch (e) { err = e instanceof OdecompError ? e.message : "wrong " + e; }
const model = artifactsFromJSON(await Deno.readTextFile(new URL("../../demo/model/model.json", import.meta.url)), await Deno.readFile(new URL("../../demo/model/weights.bin", import.meta.url)));
const fractions: number[] = [];
const r = await w.compressArtifacts(model, { select: { kind: "budget", keep: 0.3 }, onProgress: (p) => fractions.push(p.fraction) });
const kept = r.plan.totals.paramsAfter / r.plan.totals.paramsBefore;
console.log("ODECOMP_WORKER " + JSON.stringify({ kind: w.info.kind, build: w.info.odecomp.build, ranks: t.ranks, cls: t.constructor.name, err, fractions, kept }));
await w.terminate();
