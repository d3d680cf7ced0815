// GEMM: ours vs tfjs-wasm tf.matMul with the same transposes, single thread.
// "ours" is the public matmul() (copy-in with NaN/Inf check, kernel, copy-out);
// "kernel" is gemm_f32 on data already resident in wasm memory (as tfjs's is).
// Also: our transposed paths vs our untransposed one (target ≥ 0.85×), and the
// relaxed-SIMD build at 512² in a child process run with --experimental-wasm-relaxed-simd.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { matmul, ready, runtimeInfo, type Tensor } from "../src/index.ts";
import { getKernels } from "../src/core/loader.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

function rand(r: number, c: number): Tensor {
  const d = new Float32Array(r * c);
  for (let i = 0; i < d.length; i++) d[i] = Math.random() - 0.5;
  return { data: d, shape: [r, c] };
}

const gflops = (flop: number, ms: number) => flop / 1e9 / (ms / 1e3);

/** A resident-data gemm_f32 call for op(a)·op(b); release() frees its scratch. */
function resident(a: Tensor, b: Tensor, ta: boolean, tb: boolean) {
  const k = getKernels();
  const mark = k.scratch_mark();
  const m = ta ? a.shape[1] : a.shape[0], kk = ta ? a.shape[0] : a.shape[1], n = tb ? b.shape[0] : b.shape[1];
  const pa = k.scratch_alloc(a.data.length * 4), pb = k.scratch_alloc(b.data.length * 4), pc = k.scratch_alloc(m * n * 4);
  new Float32Array(k.memory.buffer, pa, a.data.length).set(a.data);
  new Float32Array(k.memory.buffer, pb, b.data.length).set(b.data);
  return {
    run: () => k.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, kk, 1, pa, a.shape[1], pb, b.shape[1], 0, pc, n),
    release: () => k.scratch_reset(mark),
  };
}

/** One case: ours (public + resident kernel) vs tfjs-wasm with the same transposes. */
async function versusTfjs(label: string, a: Tensor, b: Tensor, ta: boolean, tb: boolean, time: number): Promise<Row> {
  const m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1], n = tb ? b.shape[0] : b.shape[1];
  const flop = 2 * m * n * k;
  const xa = tf.tensor2d(a.data, a.shape as [number, number]), xb = tf.tensor2d(b.data, b.shape as [number, number]);
  const kern = resident(a, b, ta, tb);
  try {
    const t = await medians({
      ours: () => matmul(a, b, { transposeA: ta, transposeB: tb }),
      kernel: kern.run,
      peer: () => { const c = tf.matMul(xa, xb, ta, tb); c.dataSync(); c.dispose(); },
    }, { time, iterations: 3, warmupIterations: 1 });
    return {
      case: label, ours: "odecomp matmul", peer: "tfjs-wasm matMul", oursMs: t.ours, peerMs: t.peer, speedup: t.peer / t.ours,
      extra: {
        "ours GFLOP/s": gflops(flop, t.ours), "kernel GFLOP/s": gflops(flop, t.kernel), "peer GFLOP/s": gflops(flop, t.peer),
        "kernel speed-up": t.peer / t.kernel,
      },
    };
  } finally {
    kern.release();
    xa.dispose(); xb.dispose();
  }
}

/** Ours transposed vs ours untransposed, same shape of op(A)·op(B), resident data. */
async function transposedVsPlain(label: string, m: number, n: number, k: number, ta: boolean, tb: boolean, time: number): Promise<Row> {
  const flop = 2 * m * n * k;
  const a = rand(m, k), b = rand(k, n);
  const at = ta ? rand(k, m) : a, bt = tb ? rand(n, k) : b;
  const plain = resident(a, b, false, false);
  const trans = resident(at, bt, ta, tb);
  try {
    const t = await medians({ trans: trans.run, plain: plain.run }, { time, iterations: 3, warmupIterations: 1 });
    return {
      case: label, ours: `kernel ${ta ? "Aᵀ" : "A"}·${tb ? "Bᵀ" : "B"}`, peer: "kernel A·B", oursMs: t.trans, peerMs: t.plain, speedup: t.plain / t.trans,
      extra: { "ours GFLOP/s": gflops(flop, t.trans), "kernel GFLOP/s": gflops(flop, t.trans), "peer GFLOP/s": gflops(flop, t.plain) },
    };
  } finally {
    trans.release();
    plain.release();
  }
}

/** Child-process mode: measure GEMM 512² with the relaxed build (needs --experimental-wasm-relaxed-simd on Node 20). */
async function relaxedChild(n: number): Promise<void> {
  await ready({ build: "relaxed", threads: 1 });
  await tf.setBackend("wasm");
  const row = await versusTfjs(`GEMM ${n}² relaxed`, rand(n, n), rand(n, n), false, false, 400);
  console.log("RELAXED_RESULT " + JSON.stringify(row));
}

function relaxedRow(n: number): Row {
  const self = fileURLToPath(import.meta.url);
  const res = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--import", "tsx", self, "--relaxed-child", String(n)], {
    encoding: "utf8", timeout: 120_000,
  });
  const line = (res.stdout ?? "").split("\n").find((l) => l.startsWith("RELAXED_RESULT "));
  const label = `GEMM ${n}², relaxed-SIMD build (child: node --experimental-wasm-relaxed-simd)`;
  if (!line) {
    const why = (res.stderr ?? "").split("\n").find((l) => /rejects relaxed|Error/.test(l)) ?? `exit ${res.status}`;
    return { case: label, ours: "odecomp matmul", peer: "tfjs-wasm matMul", oursMs: NaN, peerMs: null, speedup: null, extra: { note: `not measured: ${why}` } };
  }
  return { ...(JSON.parse(line.slice("RELAXED_RESULT ".length)) as Row), case: label };
}

export async function run(args: string[] = []): Promise<void> {
  const quick = args.includes("--quick");
  const time = quick ? 150 : 400;
  await ready({ build: "simd" });
  await tf.setBackend("wasm");
  const tensorsBefore = tf.memory().numTensors;
  const rows: Row[] = [];
  for (const n of [256, 512, 1024]) rows.push(await versusTfjs(`GEMM ${n}² (plain SIMD build)`, rand(n, n), rand(n, n), false, false, time));
  // Training shapes: dense backprop products 64×1024 · 1024×1024.
  rows.push(await versusTfjs("64×1024·1024×1024 A·B", rand(64, 1024), rand(1024, 1024), false, false, time));
  rows.push(await versusTfjs("Aᵀ·B, A stored 1024×64", rand(1024, 64), rand(1024, 1024), true, false, time));
  rows.push(await versusTfjs("A·Bᵀ, B stored 1024×1024", rand(64, 1024), rand(1024, 1024), false, true, time));
  printTable(`GEMM vs tfjs-wasm (single thread, build ${runtimeInfo().build})`, rows);

  const trows: Row[] = [];
  for (const n of [512, 1024]) {
    for (const [ta, tb] of [[true, false], [false, true], [true, true]] as [boolean, boolean][]) {
      trows.push(await transposedVsPlain(`${n}² ${ta ? "Aᵀ" : "A"}·${tb ? "Bᵀ" : "B"}`, n, n, n, ta, tb, time));
    }
  }
  for (const [ta, tb] of [[true, false], [false, true]] as [boolean, boolean][]) {
    trows.push(await transposedVsPlain(`64×1024·1024×1024 ${ta ? "Aᵀ" : "A"}·${tb ? "Bᵀ" : "B"}`, 64, 1024, 1024, ta, tb, time));
  }
  printTable("Ours transposed vs ours untransposed (speed-up = transposed speed / untransposed speed; target ≥ 0.85)", trows);

  const rrows = [relaxedRow(512)];
  printTable("Relaxed-SIMD build (separate process; compare with the plain-build 512² row above)", rrows);
  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`bench gemm leaked ${tf.memory().numTensors - tensorsBefore} tfjs tensors`);
  await saveResults("gemm", [...rows, ...trows, ...rrows]);
}

if (process.argv.includes("--relaxed-child")) {
  await relaxedChild(Number(process.argv[process.argv.indexOf("--relaxed-child") + 1]));
}
