// Real learning curves for the predictor bench: cheap MLP runs (784→150→10,
// optionally factorized at a rank from initialisation) on MNIST and a
// Fashion-MNIST subset, with different seeds, ranks and learning rates — test
// accuracy after every epoch. Wasm backend with odecomp's kernels.
import * as tf from "@tensorflow/tfjs-core";
import { loadFashionMnist, loadMnist } from "../src/data/node.ts";
import { useBackend } from "../src/cli/backend.ts";
import { mlp } from "../src/train/models.ts";
import { baseline, train } from "../src/train/schedule.ts";

export interface CurveSpec { dataset: "mnist" | "fashion-mnist"; rank?: number; lr: number; seed: number; optimizer: "adam" | "sgd" }
export interface Curve extends CurveSpec { name: string; accuracy: number[]; seconds: number }

/** `count` specs cycling through both data sets × six (rank, optimizer, rate) configs; seeds firstSeed, firstSeed + 1, ... */
export function curveSpecs(count = 12, firstSeed = 1): CurveSpec[] {
  const out: CurveSpec[] = [];
  const configs: Omit<CurveSpec, "dataset" | "seed">[] = [
    { lr: 1e-3, optimizer: "adam" }, { rank: 10, lr: 3e-4, optimizer: "adam" }, { rank: 30, lr: 0.05, optimizer: "sgd" },
    { lr: 1e-4, optimizer: "adam" }, { rank: 5, lr: 1e-3, optimizer: "adam" }, { lr: 0.02, optimizer: "sgd" },
  ];
  for (let i = 0; i < count; i++) out.push({ dataset: i % 2 === 0 ? "mnist" : "fashion-mnist", ...configs[Math.floor(i / 2) % configs.length], seed: firstSeed + i });
  return out;
}

export async function trainCurves(specs: CurveSpec[], epochs: number, o: { fashionPerClass?: number; batchSize?: number; log?: (s: string) => void } = {}): Promise<Curve[]> {
  await useBackend("wasm");
  const sets = {
    mnist: await loadMnist({}),
    "fashion-mnist": await loadFashionMnist({ trainPerClass: o.fashionPerClass ?? 400, testPerClass: 100 }),
  };
  const out: Curve[] = [];
  for (const s of specs) {
    const model = mlp({ seed: s.seed, rank: s.rank });
    const t0 = performance.now();
    const r = await train(model, sets[s.dataset], baseline({ epochs }), {
      batchSize: o.batchSize ?? 128, seed: s.seed, optimizer: () => (s.optimizer === "adam" ? tf.train.adam(s.lr) : tf.train.sgd(s.lr)),
    });
    model.dispose();
    const name = `${s.dataset} ${s.rank ? `rank ${s.rank}` : "full"} ${s.optimizer} ${s.lr} seed ${s.seed}`;
    const c = { ...s, name, accuracy: r.epochs.map((e) => e.accuracy), seconds: (performance.now() - t0) / 1000 };
    o.log?.(`  ${name}: ${c.accuracy.map((a) => (a * 100).toFixed(1)).join(" ")} (${c.seconds.toFixed(0)} s)`);
    out.push(c);
  }
  return out;
}
