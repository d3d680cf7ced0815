// Thread scaling to many cores (issue 16: "16 threads: thin SVD 1024² ≥ 5×, Tucker-2 HOSVD ≥ 5×, GEMM
// 2048² ≥ 10×"), as one prepared run for a many-core machine that has no Node or npm registry: plain ESM
// JavaScript against the built package ('odecomp', dist/), packed with Node by
// ../shared/tools/pack-node-bench.sh — scripts/device-scaling.sh does the packing and prints the command.
//
// For each call and each thread count (1, 2, 4, 8, 16 by default, capped at the cores): set the pool, one
// untimed call, then the median of --reps timed calls. Every thread count's output is compared bitwise with
// the 1-thread output (the kernels promise identical results for any thread count), and a pure-JS control
// (the same loop in k workers at once) says how much parallelism the machine gave at that moment.
// Usage: node scaling.mjs [--threads=1,2,4,8,16] [--reps=5] [--quick] [--out=FILE.json]
import { cpus, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { writeFileSync } from "node:fs";
import { ready, setThreads, threadsInfo, runtimeInfo, matmul, lowRankMatmul, svd, tucker } from "odecomp";

const arg = (name, dflt) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const quick = process.argv.includes("--quick");
const cores = cpus().length;
const threadList = arg("threads", "1,2,4,8,16").split(",").map(Number).filter((t) => Number.isInteger(t) && t >= 1 && t <= cores);
if (!threadList.includes(1)) threadList.unshift(1);
const reps = Number(arg("reps", quick ? "2" : "5"));
const out = arg("out", "");

// A fixed seeded input (xorshift32), so reruns time the same numbers.
function rand(shape, seed) {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1), data = new Float32Array(n);
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; data[i] = s / 4294967296 - 0.5; }
  return { data, shape };
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** Every float of the result, as raw bits: equal fingerprints mean bitwise-equal outputs. */
function fingerprint(arrays) {
  let h1 = 0x811c9dc5, h2 = 0x9e3779b9, n = 0;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) { h1 = Math.imul(h1 ^ u[i], 16777619) >>> 0; h2 = (Math.imul(h2 ^ u[i], 2246822519) + i) >>> 0; }
    n += a.length;
  }
  return `${n}:${h1.toString(16)}:${h2.toString(16)}`;
}

const size = quick ? 0.5 : 1;
const n1 = 1024 * size, n2 = 2048 * size, c0 = 512 * size;
const A1 = rand([n1, n1], 1), A2 = rand([n2, n2], 2), X = rand([n1, n1], 3), U = rand([n1, 128], 4), V = rand([128, n1], 5), W = rand([c0, c0, 3, 3], 6);
const cases = [
  { label: `GEMM ${n2}² (matmul)`, flop: 2 * n2 ** 3, target: 10, fn: () => { const r = matmul(A2, A2); return [r.data]; } },
  { label: `GEMM ${n1}² (matmul)`, flop: 2 * n1 ** 3, fn: () => { const r = matmul(A1, A1); return [r.data]; } },
  { label: `lowRankMatmul ${n1}×${n1} · (${n1}×128 · 128×${n1})`, flop: 2 * 128 * n1 * n1 * 2, fn: () => { const r = lowRankMatmul(X, U, V); return [r.data]; } },
  { label: `thin SVD ${n1}²`, target: 5, fn: () => { const r = svd(A1); return [r.u.data, r.s, r.v.data]; } },
  { label: `Tucker-2 HOSVD (${c0},${c0},3,3) r=128`, target: 5, fn: () => { const r = tucker(W, { rank: 128, modes: [0, 1] }); return [r.core.data, ...r.factors.map((f) => f.data)]; } },
  { label: `Tucker-2 HOOI (${c0},${c0},3,3) r=128, 3 sweeps`, fn: () => { const r = tucker(W, { rank: 128, modes: [0, 1], method: "hooi", maxIter: 3, tol: 0 }); return [r.core.data, ...r.factors.map((f) => f.data)]; } },
];

/** The same pure-JS loop in k workers at once: k × (1-worker time) / (k-worker time) ≈ k on an idle machine. */
async function control(k) {
  const src = `const { parentPort } = require("node:worker_threads");
    parentPort.once("message", (n) => { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); parentPort.postMessage(x); });`;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: k }, () => new Promise((res) => {
    const w = new Worker(src, { eval: true });
    w.once("message", () => { res(); void w.terminate(); });
    w.postMessage(quick ? 2e7 : 1e8);
  })));
  return performance.now() - t0;
}

await ready();
const load0 = loadavg();
console.log(`scaling: ${cores} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, build ${runtimeInfo().build}; threads ${threadList.join(", ")}; ${reps} timed calls each; load ${load0.map((x) => x.toFixed(2)).join(" ")}`);
const rows = [];
const ctl1 = await control(1);
for (const c of cases) {
  let base = null, ref = null;
  for (const t of threadList) {
    const info = await setThreads(t);
    if (info.threads !== t) { rows.push({ case: c.label, threads: t, skipped: `pool runs ${info.threads}: ${info.reason}` }); continue; }
    const fp = fingerprint(c.fn());
    const times = [];
    for (let r = 0; r < reps; r++) { const t0 = performance.now(); c.fn(); times.push(performance.now() - t0); }
    const ms = median(times);
    if (t === 1) { base = ms; ref = fp; }
    const row = { case: c.label, threads: t, ms, speedup: base / ms, bitwiseEqualTo1Thread: fp === ref, runsMs: times.map((x) => +x.toFixed(1)) };
    if (c.flop) row.gflops = c.flop / 1e6 / ms;
    if (c.target && t === 16) row.target = `≥ ${c.target}×: ${base / ms >= c.target ? "met" : "missed"}`;
    rows.push(row);
    console.log(`  ${c.label.padEnd(44)} ${String(t).padStart(2)} threads ${ms.toFixed(1).padStart(9)} ms  ${(base / ms).toFixed(2)}×${row.gflops ? `  ${row.gflops.toFixed(1)} GFLOP/s` : ""}  ${fp === ref ? "bitwise = 1 thread" : "DIFFERS from 1 thread"}`);
  }
}
const controls = [];
for (const t of threadList.filter((t) => t > 1)) {
  const ms = await control(t);
  controls.push({ workers: t, parallelism: (t * ctl1) / ms });
  console.log(`  control: pure-JS loop in ${t} workers at once: parallelism ${((t * ctl1) / ms).toFixed(2)} of ${t}`);
}
const load1 = loadavg();
console.log(`load ${load0.map((x) => x.toFixed(2)).join(" ")} → ${load1.map((x) => x.toFixed(2)).join(" ")}; threads api ${threadsInfo().api}`);
const result = { area: "scaling", date: new Date().toISOString(), cores, cpu: cpus()[0]?.model, node: process.version, build: runtimeInfo().build, threads: threadList, reps, quick, load: { before: load0, after: load1 }, rows, controls };
if (out) writeFileSync(out, JSON.stringify(result, null, 1));
await setThreads(1);
