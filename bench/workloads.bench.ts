// Issue 17 item 3: the workloads that show the training speed-up claim honestly. Per workload × seed, the
// baseline and the accelerated schedules — decompose-at (the main job's plan: Tucker-2 by HOOI / SVD at
// 40 % of the FLOPs, Adam rebuilt with a 30-step warm-up) and `auto` (the main job's auto settings:
// switch on stable-rank convergence by epoch --auto-at at the latest, scaled stable ranks under a 40 %
// cost budget, measured forward + backward cost model, Frobenius decay) — train at equal epochs, ALTERNATED
// EPOCH BY EPOCH in one process (src/train/alternate.ts: baseline epoch 1, decompose-at epoch 1, auto
// epoch 1, baseline epoch 2, …; the order rotates by seed), so load from other work lands on every run
// alike. Train time = the summed epoch training times (evaluation excluded); wall = the time the run
// held the turn (training, evaluation, decomposition or the auto switch with its cost measurements).
// Accuracy: the per-epoch curve on the workload's test subset; the final figure on the full 10,000-image
// test set (--final-test-per-class=1000, 0 to skip), which the Δacc columns use.
//
// Workloads (--workloads=main,wide-vgg,resnet20; default main):
//   main      the main job (`npm start`): reference `vgg` CNN, 250 / 100 images per class, 10 epochs,
//             decompose after epoch 1, auto switch by epoch 1; no augmentation. One seed ≈ 6 min (3 runs) on
//             2 quiet cores, plus ≈ 1 min for the 3 full-test evaluations; ≈ 15 min at load 8.
//             (bench/results/workloads.json: the earlier 6 epochs / after epoch 2, `--epochs=6 --at=2`;
//             workloads-main-10ep.json: the current default, decompose-at only.)
//   wide-vgg  wideVgg (64–256 channels, ≈ 0.23 GFLOP/image forward): 500 images per class (5,000), 50 per class
//             tested per epoch, 10 epochs, decompose after 1, auto switch by 1, crop (pad 2) + flip augmentation.
//             One seed (3 runs) ≈ 31 min at load 1.5–3 (dense epochs 59–101 s, factorized 27–47 s).
//             (workloads-wide-vgg-cosine-s6.json: 2,000 images, `--train-per-class=200`.)
//             --full: 6,000 per class, 12 epochs, decompose after 3 (days here).
//   resnet20  resNet20 (16/32/64 channels, BN): 200 per class (2,000), 50 per class tested per epoch, 10 epochs,
//             decompose after 1, auto switch by 1, same augmentation. 3 seeds ≈ 23 min at load 1–4.5.
// Flags: --seeds=1,2,3 --workloads=main --epochs= --at= --auto-at= --train-per-class= --test-per-class=
// --final-test-per-class=1000 --keep=0.4 --rank-multiple=8 (ranks rounded as the main job rounds them; 1: exact) --auto-keep=(--keep) --auto-rank=stable|stable:S|budget|any --rank-rule (auto's rank rule; budget: the FLOP budget's ranks) --auto-conv=<Conv2D method> (auto's; default channel-svd, tucker2 by HOOI as decompose-at) --auto-skip=fc1,… (layers auto keeps dense besides its own first-conv / classifier rule) --auto-decay-every=N (auto's Frobenius decay every N steps at N·λ; default 4) --auto-lr-scale=S (auto's low-rank learning rate as a multiple of --lr; default LOW_RANK_LR_SCALE) --auto-cost=measured|flops (auto's cost model: the measured
// forward + backward time, or FLOPs — deterministic, so the plan cannot move with the load) --schedules=decompose-at,auto --threads=auto (as npm start)
// --batch-size=64 --lr=0.001 --warmup=30 --lr-schedule=cosine|none|cosine[:min]|step[:fractions[:gamma]] (default cosine, as npm start) (TrainOptions.lrSchedule,
// the same for every run, baseline and accelerated; default none = constant) --full --tag=NAME (results in workloads-NAME.json);
// --quick: main only, 20 / 10 per class, 2 epochs, one seed, no full-test evaluation.
// Results: bench/results/workloads.json — every seed's runs (per-epoch train seconds, their ratio to the
// baseline's same epoch, accuracies, the decomposition point, auto's decisions) with os.loadavg before and
// after each seed, and the mean over seeds.
import * as tf from "@tensorflow/tfjs-core";
import { loadavg, uptime } from "node:os";
import { loadFashionMnist } from "../src/data/node.ts";
import type { ImageSet } from "../src/data/dataset.ts";
import type { Augment } from "../src/data/augment.ts";
import { useBackend } from "../src/cli/backend.ts";
import { getThreads } from "../src/index.ts";
import { referenceModels, type ReferenceModel } from "../src/train/models.ts";
import { evaluate } from "../src/train/loop.ts";
import { baseline, decomposeAtEpoch, type Schedule, type TrainResult } from "../src/train/schedule.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";
import { epochRatios, trainAlternated, type AlternatedRun } from "../src/train/alternate.ts";
import type { CompressOptions } from "../src/compress/plan.ts";
import { lrScheduleFlag, lrScheduleText } from "../src/cli/train.ts";
import { isQuick, median, printTable, saveResults, setThreadsFlag, type Row } from "./lib.ts";
import { autoConvFlag, autoConvText, autoExtrasFlags, autoExtrasText, autoRankFlag, benchAutoSchedule, type AutoCost } from "./auto-schedule.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

interface Workload { model: ReferenceModel; trainPerClass: number; testPerClass: number; epochs: number; at: number; autoAt: number; augment?: Augment }

const AUGMENT: Augment = { pad: 2, flip: true };
const WORKLOADS: Record<string, { quick: Workload; full: Workload }> = {
  main: {
    quick: { model: "vgg", trainPerClass: 250, testPerClass: 100, epochs: 10, at: 1, autoAt: 1 },
    full: { model: "vgg", trainPerClass: 6000, testPerClass: 1000, epochs: 10, at: 3, autoAt: 2 },
  },
  "wide-vgg": {
    quick: { model: "wide-vgg", trainPerClass: 500, testPerClass: 50, epochs: 10, at: 1, autoAt: 1, augment: AUGMENT },
    full: { model: "wide-vgg", trainPerClass: 6000, testPerClass: 1000, epochs: 12, at: 3, autoAt: 2, augment: AUGMENT },
  },
  resnet20: {
    quick: { model: "resnet20", trainPerClass: 200, testPerClass: 50, epochs: 10, at: 1, autoAt: 1, augment: AUGMENT },
    full: { model: "resnet20", trainPerClass: 6000, testPerClass: 1000, epochs: 12, at: 3, autoAt: 2, augment: AUGMENT },
  },
};

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
/** Epoch labels of the full-rank part of each schedule (the baseline's own epochs are "train"). */
const FULL_RANK_LABELS = new Set(["train", "original", "full-rank"]);
/** The per-epoch time ratios (baseline ÷ run) of `other`'s factorized epochs. */
const factorizedRatios = (base: TrainResult, other: TrainResult) => epochRatios(base, other).filter((r) => !FULL_RANK_LABELS.has(r.label)).map((r) => r.ratio);
const load = () => loadavg().map((v) => Math.round(v * 100) / 100);
const fmtLoad = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args), full = args.includes("--full");
  const seeds = flag(args, "seeds", quick ? "1" : "1,2,3").split(",").map(Number);
  const names = flag(args, "workloads", "main").split(",");
  for (const n of names) if (!(n in WORKLOADS)) throw new Error(`workloads: unknown workload '${n}'; expected one of ${Object.keys(WORKLOADS).join(", ")}`);
  const schedules = flag(args, "schedules", "decompose-at,auto").split(",");
  for (const s of schedules) if (s !== "decompose-at" && s !== "auto") throw new Error(`workloads: unknown schedule '${s}'; expected decompose-at and/or auto`);
  const batchSize = Number(flag(args, "batch-size", "64")), lr = Number(flag(args, "lr", "0.001")), warmup = Number(flag(args, "warmup", "30"));
  const keep = Number(flag(args, "keep", "0.4"));
  const rankMultiple = Number(flag(args, "rank-multiple", String(TRAINING_RANK_MULTIPLE)));
  const autoKeep = Number(flag(args, "auto-keep", String(keep)));
  const autoCost = flag(args, "auto-cost", "measured") as AutoCost;
  if (autoCost !== "measured" && autoCost !== "flops") throw new Error(`workloads: --auto-cost=${autoCost}; expected measured or flops`);
  const autoRank = flag(args, "auto-rank", "stable"), autoSelect = autoRankFlag(autoRank, autoKeep);
  const autoConv = flag(args, "auto-conv", ""), autoConvPlan = autoConvFlag(autoConv);
  const extras = autoExtrasFlags(flag(args, "auto-skip", ""), flag(args, "auto-decay-every", ""), flag(args, "auto-lr-scale", ""));
  const lrSchedule = lrScheduleFlag(flag(args, "lr-schedule", "cosine"));
  const finalTestPerClass = Number(flag(args, "final-test-per-class", quick ? "0" : "1000"));
  const tag = flag(args, "tag", "");
  const t0 = performance.now();

  await useBackend("wasm");
  await setThreadsFlag(flag(args, "threads", "auto"));
  const fullTest = finalTestPerClass > 0 ? (await loadFashionMnist({ trainPerClass: 1, testPerClass: finalTestPerClass })).test : null;

  const rows: Row[] = [];
  const saved: Record<string, unknown>[] = [];
  for (const name of names) {
    const d = (full ? WORKLOADS[name].full : WORKLOADS[name].quick);
    const w: Workload = {
      ...d,
      trainPerClass: Number(flag(args, "train-per-class", quick ? "20" : String(d.trainPerClass))),
      testPerClass: Number(flag(args, "test-per-class", quick ? "10" : String(d.testPerClass))),
      epochs: Number(flag(args, "epochs", quick ? "2" : String(d.epochs))),
      at: Number(flag(args, "at", quick ? "1" : String(d.at))),
      autoAt: Number(flag(args, "auto-at", String(d.autoAt))),
    };
    const data = await loadFashionMnist({ trainPerClass: w.trainPerClass, testPerClass: w.testPerClass });
    const plan: CompressOptions = { select: { kind: "budget", keep, metric: "flops" }, decomposition: { tucker: { method: "hooi" } }, rankMultiple };
    const makeSchedules = (o: { epochs: number; at: number; autoAt: number }): Record<string, Schedule> => ({
      baseline: baseline({ epochs: o.epochs }),
      ...(schedules.includes("decompose-at") ? { "decompose-at": decomposeAtEpoch({ epochs: o.epochs, at: o.at, plan }) } : {}),
      ...(schedules.includes("auto") ? { auto: benchAutoSchedule({ epochs: o.epochs, autoAt: o.autoAt, budget: autoKeep, cost: autoCost, rankMultiple, select: autoSelect, conv: autoConvPlan, ...extras }) } : {}),
    });
    const setup = `${name}: model ${w.model}, Fashion-MNIST ${data.train.count} train / ${data.test.count} test per epoch${fullTest ? ` + final on ${fullTest.count}` : ""}, ${w.epochs} epochs, decompose-at ${w.at} (keep ${keep} of FLOPs, ranks ×${rankMultiple}, HOOI, warm-up ${warmup}), auto switch ${Number.isInteger(w.autoAt) ? `by ${w.autoAt}` : `after ${w.autoAt} (mid-epoch)`} (budget ${autoKeep}, ${autoCost === "flops" ? "FLOP" : "measured"} cost model, ranks: ${autoRank === "budget" ? "the FLOP budget's" : JSON.stringify(autoSelect)}, ${autoConvText(autoConvPlan)} convs${autoExtrasText(extras)}), batch ${batchSize}, Adam ${lr}${lrSchedule.kind === "none" ? "" : ` with ${lrScheduleText(lrSchedule)} (every run)`}${w.augment ? `, augment pad ${w.augment.pad} + flip` : ""}; wasm + odecomp kernels, ${getThreads()} thread(s); seeds ${seeds.join(",")}`;
    console.log(`\nworkloads ${setup}`);

    // Warm-up pass, not measured: JIT, kernel set-up and heap growth otherwise land on whichever run goes first.
    {
      const tiny = await loadFashionMnist({ trainPerClass: 6, testPerClass: 2 });
      const s = makeSchedules({ epochs: 2, at: 1, autoAt: 1 });
      const runs = Object.entries(s).map(([n, schedule]): AlternatedRun => ({ name: n, model: referenceModels[w.model]({ seed: 0 }), schedule, options: { batchSize, seed: 0, warmupSteps: warmup, lrSchedule } }));
      const r = await trainAlternated(tiny, runs);
      r.runs.forEach((x, i) => { if (x.result.model !== runs[i].model) x.result.model.dispose(); runs[i].model.dispose(); });
    }

    const perSeed: { seed: number; results: Record<string, { result: TrainResult; held: number; fullAccuracy: number | null }>; loadBefore: number[]; loadAfter: number[] }[] = [];
    for (const [si, seed] of seeds.entries()) {
      const all = Object.entries(makeSchedules(w));
      const rotated = [...all.slice(si % all.length), ...all.slice(0, si % all.length)];
      const runs = rotated.map(([n, schedule]): AlternatedRun => ({
        name: n, model: referenceModels[w.model]({ seed }), schedule,
        options: {
          batchSize, seed, warmupSteps: warmup, lrSchedule, augment: w.augment, optimizer: () => tf.train.adam(lr),
          onEpochEnd: (e) => console.log(`  ${name} seed ${seed} ${n.padEnd(12)} epoch ${e.epoch} (${e.label}) ${e.trainSeconds.toFixed(1)} s train, acc ${(100 * e.accuracy).toFixed(2)}%${e.learningRate !== undefined ? `, lr ${e.learningRate.toExponential(2)}` : ""}, load ${fmtLoad(load())}`),
        },
      }));
      const loadBefore = load();
      const alt = await trainAlternated(data, runs);
      const loadAfter = load();
      const results: (typeof perSeed)[number]["results"] = {};
      for (const [i, x] of alt.runs.entries()) {
        const fullAccuracy = fullTest ? await evaluate(x.result.model, fullTest, { batchSize: 500, layout: "image" }) : null;
        results[x.name] = { result: x.result, held: x.heldSeconds, fullAccuracy };
        if (x.result.model !== runs[i].model) x.result.model.dispose();
        runs[i].model.dispose();
      }
      perSeed.push({ seed, results, loadBefore, loadAfter });

      // Per-epoch table of this seed: every run's epoch training time and its ratio to the baseline's same epoch.
      const base = results.baseline.result;
      const accNames = Object.keys(results).filter((n) => n !== "baseline");
      console.log(`\n  ${name} seed ${seed}, order ${rotated.map(([n]) => n).join(" → ")}, load ${fmtLoad(loadBefore)} → ${fmtLoad(loadAfter)} (uptime ${(uptime() / 3600).toFixed(2)} h)`);
      console.log(`  | epoch | baseline s | ${accNames.map((n) => `${n} s | ratio`).join(" | ")} |`);
      for (let k = 0; k < base.epochs.length; k++) {
        console.log(`  | ${k + 1} | ${base.epochs[k].trainSeconds.toFixed(1)} | ${accNames.map((n) => { const e = results[n].result.epochs[k]; return e ? `${e.trainSeconds.toFixed(1)} (${e.label}) | ${(base.epochs[k].trainSeconds / e.trainSeconds).toFixed(2)}×` : "— | —"; }).join(" | ")} |`);
      }
      console.log(`  final accuracy${fullTest ? ` on the ${fullTest.count}-image test set` : ""}: ${Object.entries(results).map(([n, x]) => `${n} ${(100 * (x.fullAccuracy ?? x.result.final.accuracy)).toFixed(2)}% (train ${x.result.trainSeconds.toFixed(1)} s, wall ${x.held.toFixed(1)} s)`).join(", ")}`);
      for (const n of Object.keys(results)) {
        const x = results[n], b = results.baseline;
        const accOf = (r: typeof x) => r.fullAccuracy ?? r.result.final.accuracy;
        const dec = x.result.phases.find((p) => p.kind === "decompose");
        const a = x.result.auto;
        rows.push({
          case: `${name} ${n} (seed ${seed})`, ours: x.result.schedule, peer: "baseline", oursMs: x.result.trainSeconds * 1000, peerMs: b.result.trainSeconds * 1000,
          speedup: b.result.trainSeconds / x.result.trainSeconds,
          extra: {
            "wall speed-up": b.held / x.held, "acc %": 100 * accOf(x), "Δacc pts": 100 * (accOf(x) - accOf(b)),
            "subset acc %": 100 * x.result.final.accuracy,
            "epoch ratios": epochRatios(b.result, x.result).map((r) => r.ratio.toFixed(2)).join(" "),
            // A load spike on one side of an alternated pair moves the summed ratio; the median of the
            // factorized epochs' ratios does not (the first epochs are full-rank on both sides).
            "median factorized-epoch ratio": median(factorizedRatios(b.result, x.result)),
            switch: dec ? `after ${x.result.phases.slice(0, dec.index).reduce((s, p) => s + p.epochs, 0)} (${dec.seconds.toFixed(1)} s)` : a ? (a.switchEpoch === null ? "none" : `after ${a.switchEpoch}`) : "",
            "MFLOP/img": x.result.final.forwardFlops / 1e6, load: `${fmtLoad(loadBefore)} → ${fmtLoad(loadAfter)}`,
          },
        });
      }
    }
    for (const n of Object.keys(perSeed[0].results)) {
      if (n === "baseline" || perSeed.length < 2) continue;
      const accOf = (r: { result: TrainResult; fullAccuracy: number | null }) => r.fullAccuracy ?? r.result.final.accuracy;
      const sp = perSeed.map((s) => s.results.baseline.result.trainSeconds / s.results[n].result.trainSeconds);
      const wall = perSeed.map((s) => s.results.baseline.held / s.results[n].held);
      const dacc = perSeed.map((s) => 100 * (accOf(s.results[n]) - accOf(s.results.baseline)));
      rows.push({ case: `${name} ${n} (mean of ${perSeed.length} seeds)`, ours: n, peer: "baseline", oursMs: mean(perSeed.map((s) => s.results[n].result.trainSeconds)) * 1000, peerMs: mean(perSeed.map((s) => s.results.baseline.result.trainSeconds)) * 1000, speedup: mean(sp),
        extra: { "wall speed-up": mean(wall), "acc %": mean(perSeed.map((s) => 100 * accOf(s.results[n]))), "Δacc pts": mean(dacc), "Δacc range": `${Math.min(...dacc).toFixed(2)}..${Math.max(...dacc).toFixed(2)}`, "speed-up range": `${Math.min(...sp).toFixed(2)}..${Math.max(...sp).toFixed(2)}`,
          "median factorized-epoch ratio": median(perSeed.flatMap((s) => factorizedRatios(s.results.baseline.result, s.results[n].result))) } });
    }
    saved.push({
      workload: name, setup, sizes: { ...w, keep, rankMultiple, autoKeep, autoCost, autoRank, autoConv: autoConv || "channel-svd", autoSkip: extras.skip, decayEvery: extras.decayEvery ?? null, autoLrScale: extras.lrScale, batchSize, lr, lrSchedule, warmup, finalTestPerClass, threads: getThreads() },
      seeds: perSeed.map((s) => ({
        seed: s.seed, loadBefore: s.loadBefore, loadAfter: s.loadAfter,
        runs: Object.fromEntries(Object.entries(s.results).map(([n, x]) => [n, {
          schedule: x.result.schedule, trainSeconds: x.result.trainSeconds, wallSeconds: x.held, finalAccuracySubset: x.result.final.accuracy, finalAccuracyFullTest: x.fullAccuracy,
          params: x.result.final.params, forwardFlops: x.result.final.forwardFlops,
          epochs: x.result.epochs.map((e) => ({ epoch: e.epoch, label: e.label, trainSeconds: e.trainSeconds, evalSeconds: e.evalSeconds, accuracy: e.accuracy, loss: e.loss, ...(e.learningRate !== undefined ? { learningRate: e.learningRate } : {}), ratioToBaseline: s.results.baseline.result.epochs[e.epoch - 1] ? s.results.baseline.result.epochs[e.epoch - 1].trainSeconds / e.trainSeconds : null })),
          phases: x.result.phases.map(({ plan: _p, auto: _a, report: _r, ...p }) => p),
          ...(x.result.auto ? { auto: { switchEpoch: x.result.auto.switchEpoch, reason: x.result.auto.reason, accuracyBefore: x.result.auto.accuracyBefore, accuracyAfter: x.result.auto.accuracyAfter,
            decisions: x.result.auto.plan?.decisions.map((dd) => ({ layer: dd.layer, action: dd.action, method: dd.method, ranks: dd.ranks, denseCost: dd.denseCost, factorizedCost: dd.factorizedCost, why: dd.why })) } } : {}),
        }])),
      })),
    });
  }
  const minutes = (performance.now() - t0) / 60000;
  printTable(`Workloads, baseline vs accelerated, alternated epoch by epoch (train = summed epoch training; wall = held time incl. evaluation and decomposition; acc on the full test set where evaluated; ${minutes.toFixed(1)} min)`, rows);
  await saveResults(tag ? `workloads-${tag}` : "workloads", rows, { minutes, workloads: saved, args });
}
