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
// --variant=auto (issue 17: "auto vs the best fixed decompose-at epoch"): baseline, HOOI + warm-up at --keep
// decomposed after each fixed epoch in --fixed=1,2,3, and the auto schedule (switch when the stable ranks
// have converged, by epoch --auto-at=3 at the latest; scaled stable ranks under a --keep cost budget by the
// measured forward + backward cost model; Frobenius decay) — all ALTERNATED EPOCH BY EPOCH in one process
// (src/train/alternate.ts; order rotated by seed), seeds 1,2,3 by default, final accuracy on the full
// 10,000-image test set (--final-test-per-class=1000). Saved as elhoushi-seeds-auto.json; the table ends
// with auto against the best fixed epoch (the most accurate by mean, and the fastest by mean).
// --auto-cost=measured|flops (auto's cost model), --auto-rank=stable|stable:S|budget|any --rank-rule (auto's rank
// rule; budget: the FLOP budget's ranks), --auto-conv=<Conv2D method> (auto's; default channel-svd, tucker2 by HOOI
// as the fixed runs), --auto-skip=fc1,… (layers auto keeps dense), --auto-decay-every=N (auto's Frobenius decay every N steps at N·λ; default 4), --auto-lr-scale=S (auto's low-rank learning rate as a multiple of --lr; default LOW_RANK_LR_SCALE), --rank-multiple=8 (ranks rounded as the main job's; 1: exact), --lr-schedule=none|cosine[:min]|step… (every run; default
// none = constant, as the saved runs), --tag=NAME (saved as elhoushi-seeds-auto-NAME.json).
// --threads=auto|N (both variants): odecomp's kernel threads, default auto as npm start; runs saved before
// session 12 ran on 1 thread (bench/run.ts's default for every area) although their setup line said 2.
import * as tf from "@tensorflow/tfjs-core";
import { loadavg } from "node:os";
import { loadFashionMnist } from "../src/data/node.ts";
import { useBackend } from "../src/cli/backend.ts";
import { getThreads } from "../src/index.ts";
import { vggCnn } from "../src/train/models.ts";
import { baseline, decomposeAtEpoch, train, type Schedule, type TrainResult } from "../src/train/schedule.ts";
import { trainAlternated, type AlternatedRun } from "../src/train/alternate.ts";
import { evaluate } from "../src/train/loop.ts";
import type { CompressOptions } from "../src/compress/plan.ts";
import { isQuick, printTable, saveResults, setThreadsFlag, type Row } from "./lib.ts";
import { autoConvFlag, autoConvText, autoExtrasFlags, autoExtrasText, autoRankFlag, benchAutoSchedule, type AutoCost } from "./auto-schedule.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";
import { lrScheduleFlag, lrScheduleText } from "../src/cli/train.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

interface Case { name: string; schedule: Schedule; warmup: number }

export async function run(args: string[] = []): Promise<void> {
  if (flag(args, "variant", "main") === "auto") return runAutoVariant(args);
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
  await setThreadsFlag(flag(args, "threads", "auto"));
  const data = await loadFashionMnist({ trainPerClass, testPerClass });
  const setup = `Fashion-MNIST ${data.train.count} train / ${data.test.count} test, vgg CNN, ${epochs} epochs, decompose at epoch ${at}, batch ${batchSize}, Adam ${lr}, seeds ${seeds.join(",")}; wasm + odecomp kernels, ${getThreads()} thread(s)`;
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
    setup, minutes, variant, sizes: { seeds, epochs, at, trainPerClass, testPerClass, batchSize, lr, warmup, keep, keepFast, quick, threads: getThreads() },
    runs: Object.fromEntries([...results].map(([k, v]) => [k, { schedule: v.result.schedule, trainSeconds: v.result.trainSeconds, totalSeconds: v.result.totalSeconds, final: v.result.final, load: v.load,
      accuracyBeforeDecompose: v.before, accuracyAfterDecompose: v.after, epochs: v.result.epochs.map(({ prediction: _q, ...e }) => e), phases: v.result.phases.map(({ plan: _p, ...p }) => p) }])),
  });
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** --variant=auto: fixed decompose-at epochs against the auto schedule, alternated epoch by epoch. */
async function runAutoVariant(args: string[]): Promise<void> {
  const quick = isQuick(args);
  const seeds = flag(args, "seeds", quick ? "1" : "1,2,3").split(",").map(Number);
  const epochs = Number(flag(args, "epochs", quick ? "3" : "6"));
  const fixed = flag(args, "fixed", quick ? "1" : "1,2,3").split(",").map(Number);
  for (const k of fixed) if (!(Number.isInteger(k) && k >= 1 && k < epochs)) throw new Error(`elhoushi-seeds: --fixed=${k}; expected epochs between 1 and ${epochs - 1}`);
  const autoAt = Number(flag(args, "auto-at", quick ? "1" : "3"));
  const trainPerClass = Number(flag(args, "train-per-class", quick ? "20" : "400"));
  const testPerClass = Number(flag(args, "test-per-class", quick ? "10" : "100"));
  const finalTestPerClass = Number(flag(args, "final-test-per-class", quick ? "0" : "1000"));
  const batchSize = Number(flag(args, "batch-size", "64")), lr = Number(flag(args, "lr", "0.001"));
  const warmup = Number(flag(args, "warmup", "30")), keep = Number(flag(args, "keep", "0.4"));
  const autoCost = flag(args, "auto-cost", "measured") as AutoCost;
  if (autoCost !== "measured" && autoCost !== "flops") throw new Error(`elhoushi-seeds: --auto-cost=${autoCost}; expected measured or flops`);
  const lrSchedule = lrScheduleFlag(flag(args, "lr-schedule", "none"));
  const tag = flag(args, "tag", "");
  const t0 = performance.now();

  await useBackend("wasm");
  await setThreadsFlag(flag(args, "threads", "auto"));
  const data = await loadFashionMnist({ trainPerClass, testPerClass });
  const fullTest = finalTestPerClass > 0 ? (await loadFashionMnist({ trainPerClass: 1, testPerClass: finalTestPerClass })).test : null;
  const rankMultiple = Number(flag(args, "rank-multiple", String(TRAINING_RANK_MULTIPLE)));
  const autoRank = flag(args, "auto-rank", "stable"), autoSelect = autoRankFlag(autoRank, keep);
  const autoConv = flag(args, "auto-conv", ""), conv = autoConvFlag(autoConv);
  const extras = autoExtrasFlags(flag(args, "auto-skip", ""), flag(args, "auto-decay-every", ""), flag(args, "auto-lr-scale", ""));
  const plan: CompressOptions = { select: { kind: "budget", keep, metric: "flops" }, decomposition: { tucker: { method: "hooi" } }, rankMultiple };
  const schedulesFor = (e: number, fx: number[], aa: number): [string, Schedule][] => [
    ["baseline", baseline({ epochs: e })],
    ...fx.map((k): [string, Schedule] => [`decompose@${k}`, decomposeAtEpoch({ epochs: e, at: k, plan })]),
    ["auto", benchAutoSchedule({ epochs: e, autoAt: aa, budget: keep, cost: autoCost, rankMultiple, select: autoSelect, conv, ...extras })],
  ];
  const setup = `Fashion-MNIST ${data.train.count} train / ${data.test.count} test per epoch${fullTest ? ` + final on ${fullTest.count}` : ""}, vgg CNN, ${epochs} epochs; fixed decompose-at ${fixed.join(",")} (Tucker-2 HOOI, keep ${keep} of FLOPs, ranks ×${rankMultiple}, warm-up ${warmup}); auto switch ${Number.isInteger(autoAt) ? `by ${autoAt} at the latest` : `after epoch ${autoAt} (mid-epoch)`} (budget ${keep}, ${autoCost === "flops" ? "FLOP" : "measured"} cost model, ranks ${autoRank}, ${autoConvText(conv)} convs${autoExtrasText(extras)}); batch ${batchSize}, Adam ${lr}${lrSchedule.kind === "none" ? "" : ` with ${lrScheduleText(lrSchedule)}`}; alternated epoch by epoch; seeds ${seeds.join(",")}; wasm + odecomp kernels, ${getThreads()} thread(s)`;
  console.log(`elhoushi-seeds --variant=auto: ${setup}`);

  { // Warm-up pass (not measured): JIT, kernel set-up, heap growth.
    const tiny = await loadFashionMnist({ trainPerClass: 6, testPerClass: 2 });
    const runs = schedulesFor(2, [1], 1).map(([name, schedule]): AlternatedRun => ({ name, model: vggCnn({ seed: 0 }), schedule, options: { batchSize, seed: 0, warmupSteps: warmup, lrSchedule } }));
    const r = await trainAlternated(tiny, runs);
    r.runs.forEach((x, i) => { if (x.result.model !== runs[i].model) x.result.model.dispose(); runs[i].model.dispose(); });
  }

  type Out = { result: TrainResult; held: number; acc: number };
  const perSeed: { seed: number; runs: Record<string, Out>; load: string }[] = [];
  for (const [si, seed] of seeds.entries()) {
    const all = schedulesFor(epochs, fixed, autoAt);
    const rotated = [...all.slice(si % all.length), ...all.slice(0, si % all.length)];
    const runs = rotated.map(([name, schedule]): AlternatedRun => ({
      name, model: vggCnn({ seed }), schedule,
      options: { batchSize, seed, warmupSteps: warmup, lrSchedule, optimizer: () => tf.train.adam(lr),
        onEpochEnd: (e) => console.log(`  seed ${seed} ${name.padEnd(12)} epoch ${e.epoch} (${e.label}) ${e.trainSeconds.toFixed(1)} s, acc ${(100 * e.accuracy).toFixed(2)}%, load ${loadavg()[0].toFixed(2)}`) },
    }));
    const before = loadavg()[0];
    const alt = await trainAlternated(data, runs);
    const out: Record<string, Out> = {};
    for (const [i, x] of alt.runs.entries()) {
      const acc = fullTest ? await evaluate(x.result.model, fullTest, { batchSize: 500, layout: "image" }) : x.result.final.accuracy;
      out[x.name] = { result: x.result, held: x.heldSeconds, acc };
      if (x.result.model !== runs[i].model) x.result.model.dispose();
      runs[i].model.dispose();
    }
    perSeed.push({ seed, runs: out, load: `${before.toFixed(2)} → ${loadavg()[0].toFixed(2)}` });
  }

  const rows: Row[] = [];
  const names = schedulesFor(epochs, fixed, autoAt).map(([n]) => n).filter((n) => n !== "baseline");
  const summary: Record<string, { speedup: number; wall: number; dacc: number }> = {};
  for (const n of names) {
    const sp: number[] = [], wall: number[] = [], dacc: number[] = [];
    for (const s of perSeed) {
      const b = s.runs.baseline, x = s.runs[n];
      sp.push(b.result.trainSeconds / x.result.trainSeconds); wall.push(b.held / x.held); dacc.push(100 * (x.acc - b.acc));
      const a = x.result.auto;
      rows.push({ case: `${n} (seed ${s.seed})`, ours: x.result.schedule, peer: "baseline", oursMs: x.result.trainSeconds * 1000, peerMs: b.result.trainSeconds * 1000, speedup: sp.at(-1)!,
        extra: { "wall speed-up": wall.at(-1)!, "acc %": 100 * x.acc, "baseline acc %": 100 * b.acc, "Δacc pts": dacc.at(-1)!, switch: a ? (a.switchEpoch === null ? "none" : `after ${a.switchEpoch} (${a.reason})`) : "", "MFLOP/img": x.result.final.forwardFlops / 1e6, load: s.load } });
    }
    summary[n] = { speedup: mean(sp), wall: mean(wall), dacc: mean(dacc) };
    rows.push({ case: `${n} (mean of ${perSeed.length} seeds)`, ours: n, peer: "baseline", oursMs: NaN, peerMs: null, speedup: mean(sp),
      extra: { "wall speed-up": mean(wall), "Δacc pts": mean(dacc), "Δacc range": `${Math.min(...dacc).toFixed(2)}..${Math.max(...dacc).toFixed(2)}`, "speed-up range": `${Math.min(...sp).toFixed(2)}..${Math.max(...sp).toFixed(2)}` } });
  }
  // Auto against the best fixed epoch, by either criterion; "equal or better on both" is the issue's test.
  const fixedNames = names.filter((n) => n !== "auto");
  const mostAccurate = fixedNames.reduce((a, b) => (summary[b].dacc > summary[a].dacc ? b : a));
  const fastest = fixedNames.reduce((a, b) => (summary[b].speedup > summary[a].speedup ? b : a));
  const verdicts: Record<string, string> = {};
  for (const best of new Set([mostAccurate, fastest])) {
    const au = summary.auto, f = summary[best];
    const verdict = `auto ${au.speedup.toFixed(2)}× at ${au.dacc.toFixed(2)} pt vs ${best} ${f.speedup.toFixed(2)}× at ${f.dacc.toFixed(2)} pt: speed ${au.speedup >= f.speedup ? "equal or better" : "worse"}, accuracy ${au.dacc >= f.dacc ? "equal or better" : "worse"}`;
    verdicts[best] = verdict;
    rows.push({ case: `auto vs ${best === mostAccurate ? "most accurate" : "fastest"} fixed epoch (${best})`, ours: "auto", peer: best, oursMs: NaN, peerMs: null, speedup: au.speedup / f.speedup, extra: { verdict } });
  }
  const minutes = (performance.now() - t0) / 60000;
  printTable(`Elhoushi: fixed decompose-at epochs vs the auto schedule, alternated epoch by epoch (${setup}; ${minutes.toFixed(1)} min)`, rows);
  await saveResults(tag ? `elhoushi-seeds-auto-${tag}` : "elhoushi-seeds-auto", rows, {
    setup, minutes, variant: "auto", verdicts, sizes: { seeds, epochs, fixed, autoAt, autoRank, autoConv: autoConv || "channel-svd", autoSkip: extras.skip, decayEvery: extras.decayEvery ?? null, autoLrScale: extras.lrScale, trainPerClass, testPerClass, finalTestPerClass, batchSize, lr, warmup, keep, autoCost, lrSchedule: lrScheduleText(lrSchedule), quick, threads: getThreads() },
    seeds: perSeed.map((s) => ({ seed: s.seed, load: s.load, runs: Object.fromEntries(Object.entries(s.runs).map(([n, x]) => [n, {
      schedule: x.result.schedule, trainSeconds: x.result.trainSeconds, wallSeconds: x.held, accuracyFullTest: fullTest ? x.acc : null, final: x.result.final,
      epochs: x.result.epochs.map(({ prediction: _q, ...e }) => e),
      ...(x.result.auto ? { auto: { switchEpoch: x.result.auto.switchEpoch, reason: x.result.auto.reason, decisions: x.result.auto.plan?.decisions.map((d) => ({ layer: d.layer, action: d.action, method: d.method, ranks: d.ranks })) } } : {}),
    }])) })),
  });
}
