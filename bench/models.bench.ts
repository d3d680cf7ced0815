// Models: time to compress VGG-16- and ResNet-18-sized CIFAR models (32×32×3,
// random weights) per method at a 0.25 parameter budget, and inference
// (batch 32, tfjs wasm backend, single thread) of the original vs the
// compressed model with the FLOP ratio beside the measured speed-up.
// Args: --quick (fewer methods/iterations), --models=vgg16,resnet18, --methods=tucker2,cp,...
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { ready } from "../src/index.ts";
import { compress } from "../src/models/index.ts";
import type { ConvMethod } from "../src/layers/types.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

type Builder = () => tfl.LayersModel;

function vgg16(): tfl.LayersModel {
  const m = tfl.sequential({ name: "vgg16" });
  const cfg: (number | "M")[] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"];
  let first = true;
  for (const c of cfg) {
    if (c === "M") { m.add(tfl.layers.maxPooling2d({ poolSize: 2 })); continue; }
    m.add(tfl.layers.conv2d({ ...(first ? { inputShape: [32, 32, 3] } : {}), filters: c, kernelSize: 3, padding: "same", activation: "relu" }));
    first = false;
  }
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 512, activation: "relu" }));
  m.add(tfl.layers.dense({ units: 512, activation: "relu" }));
  m.add(tfl.layers.dense({ units: 10, activation: "softmax" }));
  return m;
}

function resnet18(): tfl.LayersModel {
  const inp = tfl.input({ shape: [32, 32, 3] });
  const conv = (x: tfl.SymbolicTensor, f: number, k: number, s: number) =>
    tfl.layers.conv2d({ filters: f, kernelSize: k, strides: s, padding: "same", useBias: false }).apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor) => tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  const relu = (x: tfl.SymbolicTensor) => tfl.layers.activation({ activation: "relu" }).apply(x) as tfl.SymbolicTensor;
  let x = relu(bn(conv(inp, 64, 3, 1)));
  let ch = 64;
  for (const [f, s] of [[64, 1], [128, 2], [256, 2], [512, 2]]) {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 ? s : 1;
      let y = relu(bn(conv(x, f, 3, stride)));
      y = bn(conv(y, f, 3, 1));
      const short = stride !== 1 || ch !== f ? bn(conv(x, f, 1, stride)) : x;
      x = relu(tfl.layers.add().apply([y, short]) as tfl.SymbolicTensor);
      ch = f;
    }
  }
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, activation: "softmax" }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: inp, outputs: out, name: "resnet18" });
}

const MODELS: Record<string, Builder> = { vgg16, resnet18 };
const CP_ITERS = 3;

export async function run(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const pick = (name: string, all: string[]) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(",") ?? all;
  const models = pick("models", Object.keys(MODELS));
  const methods = pick("methods", quick ? ["tucker2"] : ["tucker2", "cp", "spatial-svd", "channel-svd"]) as ConvMethod[];
  await ready();
  await tf.setBackend("wasm");
  await tf.ready();
  const rows: Row[] = [];
  const x = tf.randomNormal([32, 32, 32, 3], 0, 1, "float32", 1);
  for (const name of models) {
    const model = MODELS[name]();
    // each output read back and disposed: the bench leaked one tensor per timed call before
    const orig = () => { const y = model.predict(x) as tf.Tensor; y.dataSync(); y.dispose(); };
    for (const method of methods) {
      const t0 = performance.now();
      let r;
      try {
        // CP at a 0.25 budget means ranks in the hundreds on 3×3×512×512 kernels: ALS sweeps cost
        // ~4·size·R flops each, so the benchmark caps them (cpIterations) and says so in the table.
        r = await compress(model, { select: { kind: "budget", keep: 0.25, metric: "params" }, convMethod: method, firstConvChannels: 0, decomposition: { cp: { maxIter: CP_ITERS } } });
      } catch (e) {
        console.error(`${name} ${method}: ${(e as Error).message}`);
        continue;
      }
      const compressMs = performance.now() - t0;
      const comp = r.model;
      const small = () => { const y = comp.predict(x) as tf.Tensor; y.dataSync(); y.dispose(); };
      const t = await medians({ orig, small }, { time: quick ? 200 : 1000, iterations: quick ? 2 : 5, warmupIterations: 1 });
      const flopRatio = r.plan.totals.flopsBefore / r.plan.totals.flopsAfter;
      const factorized = r.plan.entries.filter((e) => e.action === "factorize").length;
      rows.push({
        case: `${name} ${method}${method === "cp" ? ` (${CP_ITERS} ALS sweeps)` : ""} @0.25 params`, ours: "compressed", peer: "original", oursMs: t.small, peerMs: t.orig, speedup: t.orig / t.small,
        extra: {
          "compress s": compressMs / 1e3, "FLOP ratio": flopRatio, "params kept": r.plan.totals.paramsAfter / r.plan.totals.paramsBefore,
          "layers factorized": factorized, "params M": r.plan.totals.paramsBefore / 1e6,
        },
      });
      console.log(`${name} ${method}: compress ${(compressMs / 1e3).toFixed(2)} s, infer ${t.orig.toFixed(1)} → ${t.small.toFixed(1)} ms, FLOP ratio ${flopRatio.toFixed(2)}`);
      comp.dispose();
    }
    model.dispose();
  }
  x.dispose();
  printTable("Models: compress time (budget 0.25 of params) and inference batch 32 on tfjs-wasm (1 thread)", rows);
  await saveResults("models", rows, { note: "ours = compressed model, peer = original model; speed-up = original ms / compressed ms; compress s = wall time of compress() (plan + decompositions + rebuild)" });
}
