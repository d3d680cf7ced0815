// Issue 6, Experiment 4: the learning-curve predictor on real curves. Trains
// --curves cheap MLP runs (bench/predictor-curves.ts: MNIST and a Fashion-MNIST
// subset; full or factorized first layer; Adam / SGD at several rates; seeds
// from --first-seed, 101 by default — NOT the seeds 1..12 whose curves were used
// to choose the epoch ensemble's prior, so these are held-out curves), then
// scores the predictor before (free pow3 + exp3 + logpower, last session's
// default) and after (epochCurveFamilies: pow3 with c ∈ [0.5, 1.5] + error
// power law): MAE of the final accuracy predicted from the first 30% (and 50%)
// of the epochs, against the naive "last value seen"; early stopping
// (shouldStop, threshold 0.2 points over the remaining epochs): epochs saved and
// the accuracy it cost. Flags: --curves=12 --epochs=10 --first-seed=101; --quick: 4 curves × 6 epochs.
import { curveFamilies, epochCurveFamilies } from "../src/train/predictor.ts";
import { curveSpecs, trainCurves } from "./predictor-curves.ts";
import { scorePredictor } from "./predictor-eval.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";
import { loadavg } from "node:os";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const count = Number(flag(args, "curves", quick ? "4" : "12")), epochs = Number(flag(args, "epochs", quick ? "6" : "10"));
  const firstSeed = Number(flag(args, "first-seed", "101"));
  const t0 = performance.now();
  console.log(`predictor: ${count} MLP curves × ${epochs} epochs (seeds ${firstSeed}..${firstSeed + count - 1}), wasm + odecomp kernels`);
  const curves = await trainCurves(curveSpecs(count, firstSeed), epochs, { fashionPerClass: quick ? 100 : 400, log: console.log });
  const trainMinutes = (performance.now() - t0) / 60000;
  const rows: Row[] = [];
  const scores: Record<string, unknown> = {};
  for (const frac of [0.3, 0.5]) {
    const s0 = performance.now();
    const before = scorePredictor(curves, { frac, options: { families: curveFamilies } });
    const s1 = performance.now();
    const after = scorePredictor(curves, { frac, options: { families: epochCurveFamilies } });
    const s2 = performance.now();
    scores[`frac ${frac}`] = { before, after };
    rows.push({
      case: `final accuracy from first ${Math.round(frac * 100)}% of ${epochs} epochs (${curves.length} curves)`, ours: "epoch ensemble (pow3 c∈[0.5,1.5] + error-pow2)", peer: "free pow3+exp3+logpower",
      oursMs: s2 - s1, peerMs: s1 - s0, speedup: null,
      extra: {
        "MAE pts ours": after.mae, "MAE pts before": before.mae, "max err ours": after.maxErr, "max err before": before.maxErr, "MAE naive (last seen)": after.naiveMae,
        "early stop: epochs saved ours": `${after.epochsSaved}/${after.epochsTotal}`, "cost pts ours (mean/max)": `${after.meanCost.toFixed(2)}/${after.maxCost.toFixed(2)}`,
        "epochs saved before": `${before.epochsSaved}/${before.epochsTotal}`, "cost pts before (mean/max)": `${before.meanCost.toFixed(2)}/${before.maxCost.toFixed(2)}`,
      },
    });
  }
  const minutes = (performance.now() - t0) / 60000;
  printTable(`Predictor on real MLP learning curves (held-out seeds; run time ${minutes.toFixed(1)} min, load ${loadavg()[0].toFixed(1)}; ms = scoring time)`, rows);
  const s30 = scores["frac 0.3"] as { before: ReturnType<typeof scorePredictor>; after: ReturnType<typeof scorePredictor> };
  for (const [i, c] of s30.after.curves.entries()) {
    console.log(`  ${c.name.padEnd(44)} final ${(c.final * 100).toFixed(1)} | predicted@30% ours ${(c.predicted * 100).toFixed(1)} before ${(s30.before.curves[i].predicted * 100).toFixed(1)} | early stop at epoch ${c.stopEpoch} (${(c.accAtStop * 100).toFixed(1)})`);
  }
  await saveResults("predictor", rows, { minutes, trainMinutes, sizes: { count, epochs, firstSeed, quick }, curves, scores });
}
