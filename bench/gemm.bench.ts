// GEMM: ours vs tfjs-wasm matMul with the same transposes (placeholder sizes; extended by the GEMM work).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { matmul, ready, type Tensor } from "../src/index.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

function rand(r: number, c: number): Tensor {
  const d = new Float32Array(r * c);
  for (let i = 0; i < d.length; i++) d[i] = Math.random() - 0.5;
  return { data: d, shape: [r, c] };
}

export async function run(): Promise<void> {
  await ready();
  await tf.setBackend("wasm");
  const rows: Row[] = [];
  for (const n of [256, 512]) {
    const a = rand(n, n), b = rand(n, n);
    const ta = tf.tensor2d(a.data, [n, n]), tb = tf.tensor2d(b.data, [n, n]);
    const t = await medians({
      ours: () => matmul(a, b),
      peer: () => tf.matMul(ta, tb).dataSync(),
    });
    const gflop = (2 * n * n * n) / 1e9;
    rows.push({ case: `GEMM ${n}²`, ours: "odecomp", peer: "tfjs-wasm", oursMs: t.ours, peerMs: t.peer, speedup: t.peer / t.ours,
      extra: { "ours GFLOP/s": gflop / (t.ours / 1e3), "peer GFLOP/s": gflop / (t.peer / 1e3) } });
    ta.dispose(); tb.dispose();
  }
  printTable("GEMM (single thread)", rows);
  await saveResults("gemm", rows);
}
