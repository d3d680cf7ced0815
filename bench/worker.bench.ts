// The cost of running through odecomp/worker instead of calling the direct API on the same thread:
// the round trip of a tiny call (message latency), a Tucker-2 of a (512, 512, 3, 3) kernel with its
// 9.4 MB input copied (default) or transferred, and compress() of the demo's VGG-style CNN (model →
// artifacts → worker → artifacts → model). "peer" is the direct call; speed-up < 1 is the overhead.
// The worker runs on the other core, so a long call costs about the same either way. Long cases are
// measured in interleaved rounds (tinybench runs one case after the other, and load on this shared
// machine drifts between them: that showed a 30 % "overhead" for Tucker-2 that interleaving removes).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { ready, svd, tucker, type Tensor } from "../src/index.ts";
import { compress } from "../src/models/index.ts";
import { createWorker } from "../src/worker/index.ts";
import { fileSystem } from "../src/models/io.ts";
import { fileURLToPath } from "node:url";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

const rand = (shape: number[], seed: number): Tensor => {
  let s = seed;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  return { data, shape };
};

/** Median ms of each function over `rounds` interleaved rounds, after one warm-up round. */
async function interleaved(fns: Record<string, () => unknown>, rounds: number): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r <= rounds; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      const t0 = performance.now();
      await fn();
      if (r > 0) times[name].push(performance.now() - t0);
    }
  }
  const median = (a: number[]) => { const b = [...a].sort((x, y) => x - y); return b[b.length >> 1]; };
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export async function run(args: string[] = []): Promise<void> {
  const quick = args.includes("--quick");
  await ready();
  await tf.setBackend("cpu");
  const w = await createWorker();
  const wt = await createWorker({ transferInputs: true });
  const rows: Row[] = [];
  try {
    const small = rand([8, 8], 1);
    let t = await medians({ worker: () => w.svd(small), direct: () => svd(small) }, { time: quick ? 200 : 600, iterations: 20 });
    rows.push({ case: "svd 8×8 (round trip)", ours: "worker", peer: "direct", oursMs: t.worker, peerMs: t.direct, speedup: t.direct / t.worker, extra: { "overhead ms": t.worker - t.direct } });

    const k = rand([512, 512, 3, 3], 2);
    const opts = { rank: [128, 128], modes: [0, 1] };
    // Interleaved rounds (one warm-up), so load changes on this shared machine hit every variant alike.
    // A fresh copy of the input per transferred call (the transfer detaches it).
    t = await interleaved({
      copied: () => w.tucker(k, opts),
      transferred: () => wt.tucker({ data: k.data.slice(), shape: k.shape }, opts),
      direct: () => tucker(k, opts),
    }, quick ? 3 : 7);
    rows.push({ case: "Tucker-2 (512,512,3,3) r=128², input copied", ours: "worker", peer: "direct", oursMs: t.copied, peerMs: t.direct, speedup: t.direct / t.copied, extra: { "overhead ms": t.copied - t.direct } });
    rows.push({ case: "Tucker-2 (512,512,3,3) r=128², input transferred", ours: "worker", peer: "direct", oursMs: t.transferred, peerMs: t.direct, speedup: t.direct / t.transferred, extra: { "overhead ms": t.transferred - t.direct } });

    const model = await tfl.loadLayersModel(fileSystem(fileURLToPath(new URL("../demo/model/model.json", import.meta.url))));
    const o = { select: { kind: "budget" as const, keep: 0.3 } };
    t = await interleaved({
      worker: async () => (await w.compress(model, o)).model.dispose(),
      direct: async () => (await compress(model, o)).model.dispose(),
    }, quick ? 3 : 9);
    rows.push({ case: "compress demo CNN (468k params, budget 0.3)", ours: "worker", peer: "direct", oursMs: t.worker, peerMs: t.direct, speedup: t.direct / t.worker, extra: { "overhead ms": t.worker - t.direct } });
    model.dispose();
  } finally {
    await w.terminate();
    await wt.terminate();
  }
  printTable("odecomp/worker vs the direct call on the calling thread (Node worker_threads, single kernel thread)", rows);
  await saveResults("worker", rows);
}
