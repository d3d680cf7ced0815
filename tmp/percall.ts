import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { setThreads } from "../src/index.ts";
import { registerWasmKernels } from "../src/tfjs/index.ts";
import { compress } from "../src/models/index.ts";
import { referenceModels, type ReferenceModel } from "../src/train/models.ts";
import { fuseBatchNorm } from "../src/train/fused-bn.ts";
import { fuseAdam } from "../src/train/fused-adam.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";
import { fuseConvActivation } from "../src/train/fused-conv.ts";

const modelName = (process.argv[2] ?? "vgg") as ReferenceModel;
const threads = Number(process.argv[3] ?? 2);
await tf.setBackend("wasm"); await registerWasmKernels(); await setThreads(threads);
const base0 = referenceModels[modelName]({ seed: 0 });
const c = await compress(base0, { select: { kind: "budget", keep: 0.4, metric: "flops" }, decomposition: { tuckerMethod: "hooi" }, rankMultiple: TRAINING_RANK_MULTIPLE });
console.log(c.plan.entries.filter((e) => e.action === "factorize").map((e) => `${e.layer}:${e.ranks.join("×")}`).join(" "));
const x = tf.randomUniform([64, 28, 28, 1]) as tf.Tensor4D;
const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32") as tf.Tensor1D, 10);
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
for (const [name, model] of [["base", base0], ["dec", c.model]] as [string, tfl.LayersModel][]) {
  fuseBatchNorm(model); if (process.argv[4] === "fc") fuseConvActivation(model);
  const opt = tf.train.adam(1e-3); fuseAdam(opt);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossOf = () => tf.mean(tfl.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
  for (let i = 0; i < 4; i++) { const l = opt.minimize(lossOf, true, vars)!; l.dataSync(); l.dispose(); }
  const acc = new Map<string, number[]>();
  for (let rep = 0; rep < 5; rep++) {
    const info = await tf.profile(() => { const r = tf.variableGrads(lossOf, vars); return [...Object.values(r.grads), r.value]; });
    const seen = new Map<string, number>();
    for (const k of info.kernels) {
      if (!tf.getKernel(k.name, tf.getBackend())) continue;
      const ms = (await k.kernelTimeMs) as number;
      const ins = (k.inputShapes ?? []) as number[][];
      let key = `${k.name} ${ins.map((s) => s ? s.join("x") : "-").join(" ")}`;
      const n = (seen.get(key) ?? 0) + 1; seen.set(key, n); key += ` #${n}`;
      if (!acc.has(key)) acc.set(key, []);
      acc.get(key)!.push(ms);
    }
    tf.dispose(info.result as tf.Tensor[]);
  }
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const rows = [...acc].map(([k, v]) => [k, med(v)] as [string, number]).filter(([, m]) => m > 0.25).sort((a, b) => b[1] - a[1]);
  let tot = 0; for (const [, v] of acc) tot += med(v);
  console.log(`== ${name} Σ ${tot.toFixed(1)} ms`);
  for (const [k, m] of rows) {
    // GFLOP/s
    const p = k.split(" "); const nm = p[0]; const sh = p.slice(1, -1).map((s) => s.split("x").map(Number));
    let fl = 0;
    if (nm === "Conv2D" || nm === "FusedConv2D") { /* out unknown: approx x spatial same */ }
    console.log(m.toFixed(2).padStart(7), k);
  }
}
