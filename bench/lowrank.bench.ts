// Low-rank matmul x[256,1024]·U[1024,r]·V[r,1024] (ours, never forming U·V) vs the
// dense product x·W[1024,1024] on tfjs-wasm, with the FLOP ratio beside the measured
// speed-up (target: speed-up ≥ 0.85 × FLOP ratio for r ≥ 64).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { lowRankMatmul, ready, type Tensor } from "../src/index.ts";
import { getKernels } from "../src/core/loader.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

function rand(r: number, c: number): Tensor {
  const d = new Float32Array(r * c);
  for (let i = 0; i < d.length; i++) d[i] = Math.random() - 0.5;
  return { data: d, shape: [r, c] };
}

export async function run(args: string[] = []): Promise<void> {
  const time = args.includes("--quick") ? 150 : 400;
  await ready({ build: "simd" });
  await tf.setBackend("wasm");
  const tensorsBefore = tf.memory().numTensors;
  const m = 256, k = 1024, n = 1024;
  const x = rand(m, k), w = rand(k, n);
  const tx = tf.tensor2d(x.data, [m, k]), tw = tf.tensor2d(w.data, [k, n]);
  const bias: Tensor = { data: new Float32Array(n), shape: [n] };
  const rows: Row[] = [];
  for (const r of [32, 64, 128, 256]) {
    const u = rand(k, r), v = rand(r, n);
    // Resident variant: data already in wasm memory (as tfjs's is), kernel only.
    const kern = getKernels();
    const mark = kern.scratch_mark();
    const put = (t: Tensor) => { const p = kern.scratch_alloc(t.data.length * 4); new Float32Array(kern.memory.buffer, p, t.data.length).set(t.data); return p; };
    const px = put(x), pu = put(u), pv = put(v), py = kern.scratch_alloc(m * n * 4);
    try {
      const t = await medians({
        ours: () => lowRankMatmul(x, u, v, bias),
        kernel: () => kern.lowrank_matmul_f32(m, n, k, r, px, pu, pv, 0, py),
        peer: () => { const y = tf.matMul(tx, tw); y.dataSync(); y.dispose(); },
      }, { time, iterations: 3, warmupIterations: 1 });
      const flopRatio = (m * k * n) / (r * (m * k + m * n));
      rows.push({
        case: `x[256,1024]·U[1024,${r}]·V[${r},1024]`, ours: "odecomp lowRankMatmul", peer: "tfjs-wasm dense matMul",
        oursMs: t.ours, peerMs: t.peer, speedup: t.peer / t.ours,
        extra: {
          "FLOP ratio": flopRatio, "speed-up / FLOP ratio": t.peer / t.ours / flopRatio,
          "kernel speed-up": t.peer / t.kernel, "kernel / FLOP ratio": t.peer / t.kernel / flopRatio,
          "ours GFLOP/s": (2 * r * (m * k + m * n)) / 1e6 / t.ours, "peer GFLOP/s": (2 * m * k * n) / 1e6 / t.peer,
        },
      });
    } finally {
      kern.scratch_reset(mark);
    }
  }
  tx.dispose(); tw.dispose();
  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`bench lowrank leaked ${tf.memory().numTensors - tensorsBefore} tfjs tensors`);
  printTable("Low-rank matmul vs dense tfjs-wasm (single thread; ours includes copy-in, NaN check and a zero bias)", rows);
  await saveResults("lowrank", rows);
}
