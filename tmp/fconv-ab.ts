import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { execSync } from "node:child_process";
import { setThreads } from "../src/index.ts";
import { registerWasmKernels } from "../src/tfjs/index.ts";
import { compress } from "../src/models/index.ts";
import { referenceModels, type ReferenceModel } from "../src/train/models.ts";
import { fuseBatchNorm } from "../src/train/fused-bn.ts";
import { fuseAdam } from "../src/train/fused-adam.ts";
import { fuseConvActivation, fusedConvCounts } from "../src/train/fused-conv.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";

const modelName = (process.argv[2] ?? "vgg") as ReferenceModel;
const threads = Number(process.argv[3] ?? 2);
const steps = Number(process.argv[4] ?? 12);
await tf.setBackend("wasm"); await registerWasmKernels(); await setThreads(threads);
console.log(execSync("uptime").toString().trim());
const base0 = referenceModels[modelName]({ seed: 0 });
const c = await compress(base0, { select: { kind: "budget", keep: 0.4, metric: "flops" }, decomposition: { tuckerMethod: "hooi" }, rankMultiple: TRAINING_RANK_MULTIPLE });
const x = tf.randomUniform([64, 28, 28, 1], 0, 1, "float32", 3) as tf.Tensor4D;
const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32", 4) as tf.Tensor1D, 10);
// gradient check: fused vs stock on the same weights
for (const [name, model] of [["base", base0], ["dec", c.model]] as [string, tfl.LayersModel][]) {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossOf = () => tf.mean(tfl.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
  const g0 = tf.variableGrads(lossOf, vars);
  const un = fuseConvActivation(model);
  const before = { ...fusedConvCounts };
  const g1 = tf.variableGrads(lossOf, vars);
  un();
  let worst = 0, wname = "";
  for (const k of Object.keys(g0.grads)) {
    const a = g0.grads[k].dataSync(), b = g1.grads[k].dataSync();
    let m = 0, s = 0; for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(a[i])); }
    const rel = m / (s || 1); if (rel > worst) { worst = rel; wname = k; }
  }
  console.log(`${name}: loss ${g0.value.dataSync()[0]} vs ${g1.value.dataSync()[0]}; worst grad rel err ${worst.toExponential(2)} (${wname}); fused calls ${fusedConvCounts.fused - before.fused}`);
  tf.dispose([g0.value, g1.value, ...Object.values(g0.grads), ...Object.values(g1.grads)]);
}
// A/B timing
const models = [["base", base0], ["dec", c.model]] as [string, tfl.LayersModel][];
const st = models.map(([name, model]) => {
  fuseBatchNorm(model);
  const opt = tf.train.adam(1e-3); fuseAdam(opt);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossOf = () => tf.mean(tfl.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
  return { name, model, opt, vars, lossOf, t: { on: [] as number[], off: [] as number[] } };
});
const n0 = tf.memory().numTensors;
for (let i = 0; i < steps + 2; i++) {
  for (const on of (i % 2 ? [true, false] : [false, true])) for (const m of st) {
    const un = on ? fuseConvActivation(m.model) : () => {};
    const t0 = performance.now();
    const l = m.opt.minimize(m.lossOf, true, m.vars)!; l.dataSync(); l.dispose();
    const dt = performance.now() - t0; un();
    if (i >= 2) m.t[on ? "on" : "off"].push(dt);
  }
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
for (const m of st) console.log(`${m.name}: fused ${med(m.t.on).toFixed(1)} ms, stock ${med(m.t.off).toFixed(1)} ms, ratio ${(med(m.t.off) / med(m.t.on)).toFixed(3)}`);
console.log(`dec/base speed-up: fused ${(med(st[0].t.on) / med(st[1].t.on)).toFixed(3)}, stock ${(med(st[0].t.off) / med(st[1].t.off)).toFixed(3)}; tensors ${n0} -> ${tf.memory().numTensors}`);
console.log(execSync("uptime").toString().trim());
