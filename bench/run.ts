// Runs the benchmark areas in sequence: `npm run bench [-- area ...]`.
// Each area module exports `run(): Promise<void>` which prints and saves its table.
const areas: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  gemm: () => import("./gemm.bench.ts"),
  train: () => import("./train-mlp.bench.ts"),
  tfjs: () => import("./tfjs.bench.ts"),
  decompose: () => import("./decompose.bench.ts"),
  svd: () => import("./svd.bench.ts"),
  lowrank: () => import("./lowrank.bench.ts"),
  models: () => import("./models.bench.ts"),
};

const args = process.argv.slice(2);
const picked = args.filter((a) => !a.startsWith("--"));
const unknown = picked.filter((a) => !(a in areas));
if (unknown.length) {
  console.error(`bench: unknown area(s) ${unknown.join(", ")}; expected one of ${Object.keys(areas).join(", ")}`);
  process.exit(2);
}
for (const name of picked.length ? picked : Object.keys(areas)) {
  const mod = await areas[name]();
  await mod.run(args);
}
