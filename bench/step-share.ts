// Issue 16's "share": how much of the decomposed model's FLOP cut one training step turns into time.
// Base and decomposed steps alternate (30 pairs, order flipped each pair) in one process, so drift and
// load hit both alike; run it in several processes and compare medians. Usage: npx tsx bench/step-share.ts [vgg|wide-vgg|resnet20|resnet|mlp] [threads]
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { setThreads } from "../src/index.ts";
import { registerWasmKernels } from "../src/tfjs/index.ts";
import { compress } from "../src/models/index.ts";
import { referenceModels } from "../src/train/models.ts";
import { fuseAdam } from "../src/train/fused-adam.ts";
import { fuseBatchNorm } from "../src/train/fused-bn.ts";
import { fuseConvActivation } from "../src/train/fused-conv.ts";
await tf.setBackend("wasm"); await registerWasmKernels();
const name = (process.argv[2] ?? "vgg") as keyof typeof referenceModels;
const base = referenceModels[name]({ seed: 0 });
const dec = (await compress(base, { select: { kind: "budget", keep: 0.4, metric: "flops" }, decomposition: { tuckerMethod: "hooi" }, rankMultiple: 8 })).model;
const ms = [base, dec].map((model) => { fuseConvActivation(model); if (model.layers.some((l) => l.getClassName() === "BatchNormalization")) fuseBatchNorm(model); return { model, vars: model.trainableWeights.map((w) => w.read() as tf.Variable), opt: tf.train.adam(1e-3) }; });
for (const m of ms) fuseAdam(m.opt);
const x = tf.randomUniform([64, 28, 28, 1]); const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32") as tf.Tensor1D, 10);
const step = (m: (typeof ms)[number]) => { const l = m.opt.minimize(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, m.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true, m.vars)!; l.dataSync(); l.dispose(); };
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const flops = (model: tfl.LayersModel) => model.layers.reduce((f, l) => { const w = l.getWeights()[0]?.shape; const out = l.outputShape as number[]; const c = l.getClassName(); return f + (c === "Conv2D" && w ? 2 * out.slice(1).reduce((a, b) => a * b, 1) * w[0]! * w[1]! * w[2]! : c === "Dense" && w ? 2 * w[0]! * w[1]! : 0); }, 0);
const ratio = flops(base) / flops(dec);
await setThreads(Number(process.argv[3] ?? 2));
for (let i = 0; i < 3; i++) ms.forEach(step);
const t: number[][] = [[], []];
for (let r = 0; r < 30; r++) for (const j of r % 2 ? [0, 1] : [1, 0]) { const t0 = performance.now(); step(ms[j]); t[j].push(performance.now() - t0); }
const b = med(t[0]), d = med(t[1]);
console.log(`${name} ${process.argv[3] ?? 2}t: base ${b.toFixed(1)} dec ${d.toFixed(1)} speed-up ${(b / d).toFixed(3)} FLOP ratio ${ratio.toFixed(3)} share ${(b / d / ratio).toFixed(3)} (load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
