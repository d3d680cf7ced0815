// Runs the benchmark areas in sequence: `npm run bench [-- area ...]`.
// Each area module exports `run(args)` which prints and saves its table.
// `--summary` (what `npm start` runs) and `--quick` ask every area for a short
// run (few sizes and repetitions: about a minute in all); see isQuick in lib.ts.
import { setThreads } from "../src/index.ts";

const areas: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  startup: () => import("./startup.bench.ts"),
  gemm: () => import("./gemm.bench.ts"),
  decompose: () => import("./decompose.bench.ts"),
  svd: () => import("./svd.bench.ts"),
  train: () => import("./train-mlp.bench.ts"),
  tfjs: () => import("./tfjs.bench.ts"),
  lowrank: () => import("./lowrank.bench.ts"),
  worker: () => import("./worker.bench.ts"),
  models: () => import("./models.bench.ts"),
  elhoushi: () => import("./elhoushi.bench.ts"),
  threads: () => import("./threads.bench.ts"),
  "elhoushi-seeds": () => import("./elhoushi-seeds.bench.ts"),
  predictor: () => import("./predictor.bench.ts"),
  "time-plan": () => import("./time-plan.bench.ts"),
  incremental: () => import("./incremental.bench.ts"),
  recovery: () => import("./recovery.bench.ts"),
  data: () => import("./data.bench.ts"),
  engine: () => import("./engine.bench.ts"),
  workloads: () => import("./workloads.bench.ts"),
  "stable-rank": () => import("./stable-rank.bench.ts"),
  timer: () => import("./timer.bench.ts"),
};

const args = process.argv.slice(2);
const picked = args.filter((a) => !a.startsWith("--"));
const unknown = picked.filter((a) => !(a in areas));
if (unknown.length) {
  console.error(`bench: unknown area(s) ${unknown.join(", ")}; expected one of ${Object.keys(areas).join(", ")}`);
  process.exit(2);
}
const quick = args.includes("--summary") || args.includes("--quick");
if (quick && !args.includes("--quick")) args.push("--quick"); // areas may check either flag
if (quick) console.log(`odecomp benchmark summary (quick mode: fewer sizes and repetitions; \`npm run bench\` for the full run; single thread, noisy figures)`);
for (const name of picked.length ? picked : Object.keys(areas)) {
  const mod = await areas[name]();
  // every area but `threads` measures one kernel thread (its peers run single-threaded too)
  if (name !== "threads") await setThreads(1); // workloads then sets its own (--threads, default auto as npm start)
  await mod.run(args);
}
