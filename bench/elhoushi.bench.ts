// Issue 6, Experiments 2 and 3 on a Fashion-MNIST subset with the reference CNN
// (`vgg`), one seed, same data, all runs side by side in one process on the tfjs
// wasm backend with odecomp's kernels registered:
//  2. Elhoushi: baseline trained E epochs vs decompose-at-epoch k (k ∈ --ks) with
//     the main job's default plan (convs "auto" = Tucker-2, Tucker-1 for the first
//     conv; Dense SVD; budget: keep 40% of the FLOPs); at k = --at also CP and
//     channel-SVD, and Tucker-2 with reconstruction at epoch E−1.
//  3. incremental (`incrementalDecompose`: budgets √0.4 then 0.4, fine-tuning
//     between) vs one-shot at the same final budget, same total epochs.
// Schedules come from the CLI's buildSchedule / runSchedule (src/cli/train.ts), so
// the rows are exactly what `odecomp train --schedule ...` runs.
// Flags: --epochs=N (6) --ks=1,2,3 --at=K (2) --train-per-class=N (200)
// --test-per-class=N (100) --budget=x (0.4) --batch-size=N (64) --lr=x (0.001)
// --seed=N (0); --quick: 30/20 per class, 3 epochs, k = 1 only.
import { loadFashionMnist } from "../src/data/node.ts";
import { buildModel, buildSchedule, runSchedule, type Run, type TrainFlags } from "../src/cli/train.ts";
import { useBackend } from "../src/cli/backend.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;

interface Case { name: string; flags: Partial<TrainFlags>; experiment: 2 | 3 }

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const epochs = Number(flag(args, "epochs", quick ? "3" : "6"));
  const ks = flag(args, "ks", quick ? "1" : "1,2,3").split(",").map(Number);
  const at = Number(flag(args, "at", quick ? "1" : "2"));
  const trainPerClass = Number(flag(args, "train-per-class", quick ? "30" : "200"));
  const testPerClass = Number(flag(args, "test-per-class", quick ? "20" : "100"));
  const budget = flag(args, "budget", "0.4");
  const batchSize = Number(flag(args, "batch-size", "64")), lr = Number(flag(args, "lr", "0.001")), seed = Number(flag(args, "seed", "0"));

  await useBackend("wasm");
  const data = await loadFashionMnist({ trainPerClass, testPerClass });
  const setup = `Fashion-MNIST ${data.train.count} train / ${data.test.count} test, vgg CNN, ${epochs} epochs, batch ${batchSize}, Adam ${lr}, seed ${seed}, budget keep ${budget} of FLOPs; wasm + odecomp kernels`;
  console.log(`elhoushi: ${setup}`);

  const plan = { budget, metric: "flops" };
  const cases: Case[] = [
    { name: "baseline", flags: { schedule: "baseline" }, experiment: 2 },
    ...ks.map((k): Case => ({ name: `Tucker-2 @${k}`, flags: { schedule: "decompose-at", at: String(k), ...plan }, experiment: 2 })),
    { name: `CP @${at}`, flags: { schedule: "decompose-at", at: String(at), method: "cp", ...plan }, experiment: 2 },
    { name: `channel-SVD @${at}`, flags: { schedule: "decompose-at", at: String(at), method: "channel", ...plan }, experiment: 2 },
    { name: `Tucker-2 @${at} + reconstruct @${epochs - 1}`, flags: { schedule: "decompose-at", at: String(at), reconstructAt: String(epochs - 1), ...plan }, experiment: 2 },
    { name: `incremental @${at} (√b→b)`, flags: { schedule: "incremental", at: String(at), ...plan }, experiment: 3 },
  ];
  if (!ks.includes(at)) cases.push({ name: `Tucker-2 @${at}`, flags: { schedule: "decompose-at", at: String(at), ...plan }, experiment: 2 });

  const runs = new Map<string, Run>();
  for (const c of cases) {
    const flags = { dataset: "fashion-mnist", model: "vgg", epochs: String(epochs), batchSize: String(batchSize), seed: String(seed), lr: String(lr), backend: "wasm", ...c.flags } as TrainFlags;
    const model = buildModel("vgg", seed);
    const schedule = buildSchedule(flags, model);
    const r = await runSchedule(c.name, model, data, schedule, { batchSize, seed, lr, quiet: true });
    if (r.result.model !== model) r.result.model.dispose();
    model.dispose();
    runs.set(c.name, r);
    console.log(`  ${c.name.padEnd(34)} ${r.result.schedule.padEnd(28)} train ${r.result.trainSeconds.toFixed(1)} s, wall ${r.result.totalSeconds.toFixed(1)} s, acc ${(r.result.final.accuracy * 100).toFixed(2)}%, ${r.result.final.params} params`);
  }

  const base = runs.get("baseline")!.result;
  const row = (c: Case, ref: { name: string; result: typeof base }): Row => {
    const r = runs.get(c.name)!;
    const res = r.result;
    return {
      case: c.name, ours: res.schedule, peer: ref.name,
      oursMs: res.trainSeconds * 1000, peerMs: ref.result.trainSeconds * 1000, speedup: ref.result.trainSeconds / res.trainSeconds,
      extra: {
        "wall s": res.totalSeconds, "wall speed-up": ref.result.totalSeconds / res.totalSeconds,
        "acc %": res.final.accuracy * 100, "Δacc pts": 100 * (res.final.accuracy - ref.result.final.accuracy),
        ...(r.decomposedAt?.accuracyBefore !== undefined ? { "acc before/after decomp %": `${(r.decomposedAt.accuracyBefore * 100).toFixed(1)}/${(r.decomposedAt.accuracyAfter * 100).toFixed(1)}` } : {}),
        params: res.final.params, "MFLOP/sample": res.final.forwardFlops / 1e6,
        "acc/epoch %": res.epochs.map((e) => (e.accuracy * 100).toFixed(1)).join(" "),
      },
    };
  };
  const rows2 = cases.filter((c) => c.experiment === 2).map((c) => row(c, { name: "baseline", result: base }));
  printTable(`Experiment 2 — Elhoushi decompose-at-epoch vs baseline (${setup}; train time = sum of epoch training, wall = incl. evaluation and decomposition)`, rows2);
  const oneShotName = `Tucker-2 @${at}`;
  const oneShot = runs.get(oneShotName)!.result;
  const rows3 = cases.filter((c) => c.experiment === 3).flatMap((c) => [row(c, { name: "baseline", result: base }), row(c, { name: oneShotName, result: oneShot })]);
  printTable(`Experiment 3 — incremental vs one-shot at the same final budget (keep ${budget} of FLOPs), ${epochs} epochs each (peer = baseline, then one-shot)`, rows3);
  await saveResults("elhoushi", [...rows2, ...rows3], {
    setup, sizes: { epochs, ks, at, trainPerClass, testPerClass, budget: Number(budget), metric: "flops", batchSize, lr, seed, quick },
    runs: Object.fromEntries([...runs].map(([name, r]) => [name, { schedule: r.result.schedule, trainSeconds: r.result.trainSeconds, totalSeconds: r.result.totalSeconds, final: r.result.final, decomposedAt: r.decomposedAt, phases: r.result.phases.map(({ plan: _p, ...p }) => p), epochs: r.result.epochs.map(({ prediction: _q, ...e }) => e) }])),
  });
}
