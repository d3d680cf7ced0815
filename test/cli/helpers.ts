// Tiny saved models for the CLI tests (cpu backend, seeded weights), written with
// odecomp's node:fs IOHandler exactly as tfjs model.save writes them.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSystem } from "../../src/models/index.ts";
import { main } from "../../src/cli/main.ts";

const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });

/** Sequential: conv 3×3 1→8, conv 3×3 8→16, flatten, dense → 10. */
export function tinyCnn(): tfl.LayersModel {
  return tfl.sequential({
    name: "tiny_cnn",
    layers: [
      tfl.layers.conv2d({ name: "conv1", inputShape: [8, 8, 1], filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1) }),
      tfl.layers.conv2d({ name: "conv2", filters: 16, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(2) }),
      tfl.layers.flatten({ name: "flatten" }),
      tfl.layers.dense({ name: "fc", units: 10, activation: "softmax", kernelInitializer: init(3) }),
    ],
  });
}

/** Functional with a residual add and a nested Sequential block. */
export function tinyFunctional(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 2], name: "inp" });
  const a = tfl.layers.conv2d({ name: "c1", filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(4) }).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ name: "c2", filters: 8, kernelSize: 3, padding: "same", kernelInitializer: init(5) }).apply(a) as tfl.SymbolicTensor;
  const s = tfl.layers.add({ name: "add" }).apply([a, b]) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: "flat" }).apply(s) as tfl.SymbolicTensor;
  const head = tfl.sequential({ name: "head", layers: [tfl.layers.dense({ name: "h1", inputShape: [512], units: 32, activation: "relu", kernelInitializer: init(6) }), tfl.layers.dense({ name: "h2", units: 4, kernelInitializer: init(7) })] });
  const out = head.apply(f) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: "tiny_func" });
}

export function tmp(prefix = "odecomp-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Save `model` under a fresh temp folder; returns the folder. */
export async function saved(model: tfl.LayersModel, dir = tmp()): Promise<string> {
  await tf.setBackend("cpu");
  await model.save(fileSystem(dir));
  return dir;
}

/** Run the CLI in-process; returns exit code and captured output. */
export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await main(argv, { out: (s) => { out += s + "\n"; }, err: (s) => { err += s + "\n"; } });
  return { code, out, err };
}

/** Load a saved folder with stock tfjs only (tf.io.fromMemory). */
export async function loadStock(dir: string): Promise<tfl.LayersModel> {
  const j = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const bins = j.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p))));
  const buf = Buffer.concat(bins);
  const weightSpecs = j.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs, weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }), { strict: true });
}

export function predictClose(a: tfl.LayersModel, b: tfl.LayersModel, shape: number[], seed = 1): number {
  return tf.tidy(() => {
    const x = tf.randomUniform(shape, 0, 1, "float32", seed);
    const ya = a.predict(x) as tf.Tensor, yb = b.predict(x) as tf.Tensor;
    return tf.div(tf.norm(tf.sub(ya, yb)), tf.norm(ya)).dataSync()[0];
  });
}

/** Replace every Dense / Conv2D kernel by a low-rank one (rank `r` in each unfolding), seeded. */
export function plantLowRank(model: tfl.LayersModel, r = 3): void {
  let seed = 100;
  const layers = (m: tfl.LayersModel): tfl.layers.Layer[] => m.layers.flatMap((l) => (l instanceof tfl.LayersModel ? layers(l) : [l]));
  for (const l of layers(model)) {
    const cls = l.getClassName();
    if (cls !== "Dense" && cls !== "Conv2D") continue;
    const [k, ...rest] = l.getWeights();
    const planted = tf.tidy(() => {
      if (cls === "Dense") {
        const [n, m] = k.shape;
        return tf.matMul(tf.randomNormal([n, r], 0, 0.3, "float32", seed++), tf.randomNormal([r, m], 0, 0.3, "float32", seed++));
      }
      const [kh, kw, s, t] = k.shape;
      const ri = Math.min(r, s), ro = Math.min(r, t);
      const core = tf.randomNormal([kh * kw, ri, ro], 0, 0.5, "float32", seed++);
      const u = tf.randomNormal([s, ri], 0, 0.5, "float32", seed++), v = tf.randomNormal([ro, t], 0, 0.5, "float32", seed++);
      // K[p, s, t] = Σ u[s, a] core[p, a, b] v[b, t]
      const left = tf.einsum("sa,pab->psb", u, core);
      return tf.reshape(tf.einsum("psb,bt->pst", left, v), [kh, kw, s, t]);
    });
    l.setWeights([planted, ...rest]);
    planted.dispose();
  }
}

/** A copy of the model folder `good`, changed by `edit`. */
export function variant(good: string, edit: (dir: string) => void): string {
  const dir = tmp();
  cpSync(good, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** Rewrite `dir`/model.json through `f`. */
export function editJSON(dir: string, f: (j: any) => void): void {
  const p = join(dir, "model.json");
  const j = JSON.parse(readFileSync(p, "utf8"));
  f(j);
  writeFileSync(p, JSON.stringify(j));
}
