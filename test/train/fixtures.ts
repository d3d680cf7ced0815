// Fixtures for the fine-tuning tests, written by the tests: a small RGB task
// (the class sets the dominant colour and the stripe direction, plus noise) and
// a small functional CNN with BatchNormalization (momentum 0.8, so a few dozen
// steps move the moving statistics the way a long training run would) and Dropout.
import * as tfl from "@tensorflow/tfjs-layers";
import type { ImageSet } from "../../src/data/dataset.ts";
import { seededRandom } from "../../src/data/dataset.ts";

/** count images of h×w×3 in `classes` classes (round-robin labels), seeded. */
export function stripesSet(count: number, classes: number, seed: number, h = 12, w = 12, labeled = true): ImageSet {
  const r = seededRandom(seed);
  const images = new Uint8Array(count * h * w * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % classes;
    labels[i] = k;
    const ch = k % 3, vertical = Math.floor(k / 3) % 2 === 1, phase = Math.floor(r() * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const on = ((vertical ? x : y) + phase) % 4 < 2;
      for (let c = 0; c < 3; c++) {
        const base = c === ch ? (on ? 200 : 90) : 70;
        images[((i * h + y) * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + (r() - 0.5) * 120)));
      }
    }
  }
  return { images, labels: labeled ? labels : null, count, height: h, width: w, channels: 3, classes: labeled ? classes : 0, classNames: labeled ? Array.from({ length: classes }, (_, k) => `c${k}`) : undefined };
}

/** A small functional CNN: conv–BN–relu–pool, conv–BN–relu, global pool, dropout, dense (softmax or logits). */
export function smallCnn(o: { classes: number; h?: number; w?: number; channels?: number; seed?: number; logits?: boolean }): tfl.LayersModel {
  const seed = o.seed ?? 1;
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + s });
  const input = tfl.input({ shape: [o.h ?? 12, o.w ?? 12, o.channels ?? 3], name: "image" });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", kernelInitializer: init(1), name: "conv1" }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: "bn1", momentum: 0.8 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: "relu" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", kernelInitializer: init(2), name: "conv2" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: "bn2", momentum: 0.8 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: "relu" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 32, activation: "relu", kernelInitializer: init(3), name: "fc1" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: 0.3, seed }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: o.classes, activation: o.logits ? "linear" : "softmax", kernelInitializer: init(4), name: "out" }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: "small_rgb_cnn" });
}

/** The same CNN as a Sequential model (the factorize-from-initialisation schedules need Sequential). */
export function smallSeqCnn(o: { classes: number; seed?: number }): tfl.LayersModel {
  const seed = o.seed ?? 1;
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + s });
  return tfl.sequential({
    name: "small_rgb_seq",
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: "same", kernelInitializer: init(1), name: "conv1" }),
      tfl.layers.batchNormalization({ name: "bn1", momentum: 0.8 }),
      tfl.layers.activation({ activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 32, activation: "relu", kernelInitializer: init(3), name: "fc1" }),
      tfl.layers.dropout({ rate: 0.3, seed }),
      tfl.layers.dense({ units: o.classes, activation: "softmax", kernelInitializer: init(4), name: "out" }),
    ],
  });
}
