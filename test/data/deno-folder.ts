// Deno entry for test/data/deno.test.ts: loads the image folder named in Deno.args[0]
// with the Node/Deno walker (node:fs under Deno), twice with the cache dir Deno.args[1]
// (a miss, then a hit), and prints `ODECOMP_FOLDER <json>` with the reports and a checksum.
import { loadImageFolder } from "../../src/data/node-folder.ts";
import { loadNpz } from "../../src/data/node-folder.ts";

declare const Deno: { args: string[] };
const [root, cacheDir, npz] = Deno.args;
const sum = (a: Uint8Array) => { let h = 2166136261; for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 16777619); return h >>> 0; };
const a = await loadImageFolder(root, { cacheDir, seed: 5 });
const b = await loadImageFolder(root, { cacheDir, seed: 5 });
const z = await loadNpz(npz);
console.log("ODECOMP_FOLDER " + JSON.stringify({
  first: a.report, second: b.report,
  train: sum(a.dataset.train.images), test: sum(a.dataset.test.images), again: sum(b.dataset.train.images),
  labels: Array.from(a.dataset.train.labels ?? []), npz: z.report.counts, npzSum: sum(z.dataset.train.images),
}));
