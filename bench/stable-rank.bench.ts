// Stable rank ‖W‖²_F / σ_max² of every Dense / Conv2D kernel (issue 17: the auto schedule measures it
// twice per epoch and at the switch): one model measurement by the power iteration on each kernel's Gram
// matrix formed by odecomp's SIMD GEMM (stableRankGram, what StableRankTracker uses once the kernels are
// loaded) against the same power iteration run on the matrix in plain JS (stableRank, the plain
// reference, and what the tracker used before). Both start cold from the same vector, as the first
// measurement of a run does; alternated, medians. Also the largest relative difference between the two
// figures over all layers. One odecomp thread. Args: --quick (vgg only), --models=vgg,wide-vgg,resnet20
import * as tf from "@tensorflow/tfjs-core";
import { execSync } from "node:child_process";
import { useBackend } from "../src/cli/backend.ts";
import { referenceModels, type ReferenceModel } from "../src/train/models.ts";
import { kernelMatrixShape, stableRank, stableRankGram, trackedLayers } from "../src/train/hooks/stable-rank.ts";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const flag = (args: string[], name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

export async function run(args: string[] = []): Promise<void> {
  const quick = isQuick(args);
  const names = flag(args, "models", quick ? "vgg" : "vgg,wide-vgg,resnet20").split(",") as ReferenceModel[];
  for (const n of names) if (!(n in referenceModels)) throw new Error(`stable-rank: unknown model '${n}'; expected one of ${Object.keys(referenceModels).join(", ")}`);
  const reps = quick ? 3 : 7;
  await useBackend("wasm");
  const up0 = execSync("uptime").toString().trim();
  const rows: Row[] = [];
  for (const name of names) {
    const model = referenceModels[name]({ seed: 1 });
    const kernels = trackedLayers(model).map((l) => {
      const w = model.getLayer(l).weights[0];
      const [r, c] = kernelMatrixShape(w.shape as number[])!;
      return { data: w.read().dataSync() as Float32Array, rows: r, cols: c };
    });
    const measure = (f: typeof stableRankGram) => kernels.map((k) => f(k.data, k.rows, k.cols).stableRank);
    const tGram: number[] = [], tPlain: number[] = [];
    let a: number[] = [], b: number[] = [];
    for (let i = 0; i < reps; i++) {
      for (const which of i % 2 ? ["plain", "gram"] : ["gram", "plain"]) {
        const t0 = performance.now();
        if (which === "gram") a = measure(stableRankGram); else b = measure(stableRank);
        (which === "gram" ? tGram : tPlain).push(performance.now() - t0);
      }
    }
    const diff = Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(b[i], 1e-30)));
    const entries = kernels.reduce((s, k) => s + k.rows * k.cols, 0);
    rows.push({ case: `${name}: one measurement of ${kernels.length} kernels (${(entries / 1e6).toFixed(2)} M weights)`, ours: "Gram by SIMD GEMM", peer: "plain JS power iteration",
      oursMs: median(tGram), peerMs: median(tPlain), speedup: median(tPlain) / median(tGram), extra: { "max rel. diff": diff } });
    model.dispose();
  }
  const up1 = execSync("uptime").toString().trim();
  printTable(`stable rank of every Dense / Conv2D kernel, cold start, medians of ${reps} alternated (load: ${up0.split("load average: ")[1]} → ${up1.split("load average: ")[1]})`, rows);
  await saveResults("stable-rank", rows, { quick, uptimeStart: up0, uptimeEnd: up1, tensors: tf.memory().numTensors });
}
