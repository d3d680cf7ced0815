// Issue 6, Experiment 2 (Elhoushi target) with several seeds on more data:
// baseline CNN (`vgg`) trained E epochs vs decompose-at-epoch k on the same
// Fashion-MNIST subset, one seed per row, every row of a seed measured in one
// process (wasm backend + odecomp's kernels). Cases:
//   - Tucker-2 @k, HOSVD, budget keep 0.4 of FLOPs, Adam rebuilt (last session's default);
//   - Tucker-2 @k, HOOI, keep 0.4, Adam rebuilt with a learning-rate warm-up;
//   - channel-SVD @k, keep --keep-fast (0.25), warm-up (fewer, cheaper layers: the fast variant).
// The order of the cases alternates between seeds (forward, then reversed) so
// drifting machine load does not favour one case. Speed-up = baseline's summed
// epoch training time / the case's (evaluation excluded; decomposition time is
// reported in the wall column, which includes it).
// Flags: --seeds=1,2 --epochs=6 --at=1 --train-per-class=400 --test-per-class=100
// --batch-size=64 --lr=0.001 --warmup=30 --keep=0.4 --keep-fast=0.25 --variant=main|handover
// (handover: baseline, HOOI + warm-up at keep 0.5 @k, and at --keep @k+1; saved as elhoushi-seeds-handover.json); --quick: 30/10 per class, 2 epochs, one seed.
import * as tf from "@tensorflow/tfjs-core";
import { loadavg } from "node:os";
import { loadFashionMnist } from "../src/data/node.ts";
import { useBackend } from "../src/cli/backend.ts";
import { vggCnn } from "../src/train/models.ts";
import { baseline, decomposeAtEpoch, train, type Schedule, type TrainResult } from "../src/train/schedule.ts";
import type { CompressOptions } from "../src/compress/plan.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

interface Case { name: string; schedule: Schedule; warmup: number }

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const seeds = flag(args, "seeds", quick ? "1" : "1,2").split(",").map(Number);
  const epochs = Number(flag(args, "epochs", quick ? "2" : "6"));
  const at = Number(flag(args, "at", "1"));
  const trainPerClass = Number(flag(args, "train-per-class", quick ? "30" : "400"));
  const testPerClass = Number(flag(args, "test-per-class", quick ? "10" : "100"));
  const batchSize = Number(flag(args, "batch-size", "64")), lr = Number(flag(args, "lr", "0.001"));
  const warmup = Number(flag(args, "warmup", "30"));
  const keep = Number(flag(args, "keep", "0.4")), keepFast = Number(flag(args, "keep-fast", "0.25"));
  const t0 = performance.now();

  await useBackend("wasm");
  const data = await loadFashionMnist({ trainPerClass, testPerClass });
  const setup = `Fashion-MNIST ${data.train.count} train / ${data.test.count} test, vgg CNN, ${epochs} epochs, decompose at epoch ${at}, batch ${batchSize}, Adam ${lr}, seeds ${seeds.join(",")}; wasm + odecomp kernels`;
  console.log(`elhoushi-seeds: ${setup}`);

  const budget = (k: number): CompressOptions["select"] => ({ kind: "budget", keep: k, metric: "flops" });
  const variant = flag(args, "variant", "main");
  const hooi = (k: number, a: number): Case => ({ name: `Tucker-2 @${a} HOOI keep ${k} + warm-up`, schedule: decomposeAtEpoch({ epochs, at: a, plan: { select: budget(k), decomposition: { tucker: { method: "hooi" } } } }), warmup });
  // --variant=handover: the best main case (HOOI + warm-up) at a milder budget, and decomposed one epoch later.
  const cases: Case[] = variant === "handover" ? [
    { name: "baseline", schedule: baseline({ epochs }), warmup: 0 }, hooi(0.5, at), hooi(keep, at + 1),
  ] : [
    { name: "baseline", schedule: baseline({ epochs }), warmup: 0 },
    { name: `Tucker-2 @${at} HOSVD keep ${keep}`, schedule: decomposeAtEpoch({ epochs, at, plan: { select: budget(keep) } }), warmup: 0 },
    { name: `Tucker-2 @${at} HOOI keep ${keep} + warm-up`, schedule: decomposeAtEpoch({ epochs, at, plan: { select: budget(keep), decomposition: { tucker: { method: "hooi" } } } }), warmup },
    { name: `channel-SVD @${at} keep ${keepFast} + warm-up`, schedule: decomposeAtEpoch({ epochs, at, plan: { select: budget(keepFast), convMethod: "channel-svd" } }), warmup },
  ];

  // Warm-up pass (not measured): JIT, kernel set-up and heap growth otherwise land on whichever case runs first.
  const tiny = await loadFashionMnist({ trainPerClass: 13, testPerClass: 2 });
  for (const c of cases) {
    const model = vggCnn({ seed: 0 });
    const r = await train(model, tiny, decomposeAtEpoch({ epochs: 2, at: 1, plan: (c.schedule.phases.find((p) => p.kind === "decompose") as { options?: CompressOptions } | undefined)?.options ?? { select: budget(keep) } }), { batchSize, seed: 0 });
    if (r.model !== model) r.model.dispose();
    model.dispose();
  }

  const results = new Map<string, { result: TrainResult; before?: number; after?: number; load: number }>();
  for (const [si, seed] of seeds.entries()) {
    for (const c of si % 2 === 0 ? cases : [...cases].reverse()) {
      const model = vggCnn({ seed });
      const r = await train(model, data, c.schedule, { batchSize, seed, warmupSteps: c.warmup, optimizer: () => tf.train.adam(lr) });
      const d = r.phases.find((p) => p.kind === "decompose");
      if (r.model !== model) r.model.dispose();
      model.dispose();
      const load = loadavg()[0];
      results.set(`${c.name}|${seed}`, { result: r, before: d?.accuracyBefore, after: d?.accuracy, load });
      console.log(`  seed ${seed} ${c.name.padEnd(40)} train ${r.trainSeconds.toFixed(1)} s, wall ${r.totalSeconds.toFixed(1)} s, acc ${(r.final.accuracy * 100).toFixed(2)}% (load ${load.toFixed(1)})`);
    }
  }

  const rows: Row[] = [];
  for (const c of cases) {
    const sp: number[] = [], dacc: number[] = [];
    for (const seed of seeds) {
      const base = results.get(`baseline|${seed}`)!.result, x = results.get(`${c.name}|${seed}`)!;
      const res = x.result;
      sp.push(base.trainSeconds / res.trainSeconds);
      dacc.push(100 * (res.final.accuracy - base.final.accuracy));
      rows.push({
        case: `${c.name} (seed ${seed})`, ours: res.schedule, peer: "baseline", oursMs: res.trainSeconds * 1000, peerMs: base.trainSeconds * 1000, speedup: base.trainSeconds / res.trainSeconds,
        extra: {
          "wall speed-up": base.totalSeconds / res.totalSeconds, "acc %": res.final.accuracy * 100, "Δacc pts": 100 * (res.final.accuracy - base.final.accuracy),
          "acc before/after decomp %": x.before !== undefined ? `${(x.before * 100).toFixed(1)}/${(x.after! * 100).toFixed(1)}` : "",
          "MFLOP/sample": res.final.forwardFlops / 1e6, "acc/epoch %": res.epochs.map((e) => (e.accuracy * 100).toFixed(1)).join(" "), load: x.load,
        },
      });
    }
    if (seeds.length > 1 && c.name !== "baseline") {
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      rows.push({ case: `${c.name} (mean of ${seeds.length} seeds)`, ours: "", peer: "baseline", oursMs: NaN, peerMs: null, speedup: mean(sp),
        extra: { "Δacc pts": mean(dacc), "Δacc range": `${Math.min(...dacc).toFixed(2)}..${Math.max(...dacc).toFixed(2)}` } });
    }
  }
  const minutes = (performance.now() - t0) / 60000;
  printTable(`Elhoushi decompose-at-epoch vs baseline, several seeds (${setup}; train time = summed epoch training; run time ${minutes.toFixed(1)} min)`, rows);
  await saveResults(variant === "main" ? "elhoushi-seeds" : `elhoushi-seeds-${variant}`, rows, {
    setup, minutes, variant, sizes: { seeds, epochs, at, trainPerClass, testPerClass, batchSize, lr, warmup, keep, keepFast, quick },
    runs: Object.fromEntries([...results].map(([k, v]) => [k, { schedule: v.result.schedule, trainSeconds: v.result.trainSeconds, totalSeconds: v.result.totalSeconds, final: v.result.final, load: v.load,
      accuracyBeforeDecompose: v.before, accuracyAfterDecompose: v.after, epochs: v.result.epochs.map(({ prediction: _q, ...e }) => e), phases: v.result.phases.map(({ plan: _p, ...p }) => p) }])),
  });
}
