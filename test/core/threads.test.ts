import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import {
  getThreads, lowRankMatmul, matmul, ready, runtimeInfo, setThreads, svd, terminateThreads, threadsInfo, tucker, wasmMemoryBytes,
} from "../../src/index.ts";
import { getKernels, resetForTesting } from "../../src/core/loader.ts";
import { withScratch } from "../../src/core/heap.ts";
import { runThreadsCheck } from "../smoke/threads-check.ts";
import { randn } from "../helpers/random.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

afterAll(() => terminateThreads());

/** Elements whose bits differ (toEqual on large typed arrays is slow). */
function differing(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d++;
  return d;
}

/** gemm_f32 with every argument under control (alpha, beta, C input); returns C and the parallel jobs run. */
function gemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, beta: number, seed: number) {
  const a = randn(m * k, seed), b = randn(k * n, seed + 1), c0 = randn(m * n, seed + 2);
  return withScratch((s) => {
    const pa = s.put(a), pb = s.put(b), pc = s.put(c0);
    const g0 = s.k.threads_generation();
    s.k.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha, pa, ta ? m : k, pb, tb ? k : n, beta, pc, n);
    return { c: s.take(pc, m * n), jobs: s.k.threads_generation() - g0 };
  });
}

describe("threaded kernels equal single-threaded ones", () => {
  it("runs the shared check (gemm all transposes, lowRankMatmul, svd, qr, eigh, Tucker-2, cp) bitwise equal", async () => {
    await ready();
    const report = await runThreadsCheck();
    expect(report.info.threads).toBe(2);
    expect(report.info.reason).toBeNull();
    expect(report.info.api).toBe("worker_threads");
    expect(report.threadsAfter).toBe(1);
    const bad = report.cases.filter((c) => c.differing !== 0);
    expect(bad.map((c) => `${c.name}: ${c.differing} differ, max ${c.maxDiff}`)).toEqual([]);
    // the large cases really ran split (a job counter in the control block counts dispatches)
    const jobs = Object.fromEntries(report.cases.map((c) => [c.name, c.jobs]));
    expect(jobs["matmul 1×1×1"]).toBe(0);
    expect(jobs["matmul 129×257×300 Aᵀ Bᵀ"]).toBeGreaterThan(0);
    expect(jobs["svd 300×200"]).toBeGreaterThan(0);
    expect(jobs["tucker-2 hosvd (96,96,3,3) r=24"]).toBeGreaterThan(0);
    expect(jobs["tucker-2 hooi (160,144,3,3) r=[32,24] (subspace steps)"]).toBeGreaterThan(0);
    // a small QR stays on the calling thread (its updates are too small to pay for the workers)
    expect(jobs["qr 400×150"]).toBe(0);
    expect(jobs["qr 700×260 (large enough to split its updates)"]).toBeGreaterThan(0);
    for (const g of ["(300,150) mode 1 (Xᵀ·X)", "(3,130,70) mode 1 (per leading index)", "(40,150,9) mode 1 (unfolded copy)"]) {
      expect(jobs[`unfoldGram ${g}`], g).toBeGreaterThan(0);
    }
    expect(jobs["lowRankMatmul 256×200 r=48 → 300 (+bias)"]).toBeGreaterThan(0);
  });

  it("gemm with alpha/beta and C input, row, column and grid splits (2, 4, 6 threads), block and SIMD edges: bitwise equal", async () => {
    const sizes = [[5, 1024, 129], [1024, 5, 129], [257, 257, 257], [129, 65, 1030], [64, 2100, 17]] as const;
    const params = [[1, 0], [-1.5, 1], [0.75, -0.5]] as const; // (alpha, beta), rotated over the cases
    const cases = sizes.flatMap(([m, n, k], si) => [0, 1, 2, 3].map((t) => ({ m, n, k, t, al: params[(si + t) % 3][0], be: params[(si + t) % 3][1] })));
    await setThreads(1);
    const single = cases.map(({ m, n, k, t, al, be }) => gemm(!!(t & 1), !!(t & 2), m, n, k, al, be, m + n + k + t).c);
    // 4 and 6 parts cut a square product into a 2 × 2 or 2 × 3 grid of blocks (assembly/linalg/gemm.ts)
    for (const threads of [2, 4, 6]) {
      await setThreads(threads);
      let split = 0;
      cases.forEach(({ m, n, k, t, al, be }, i) => {
        const r = gemm(!!(t & 1), !!(t & 2), m, n, k, al, be, m + n + k + t);
        split += r.jobs;
        expect(differing(r.c, single[i]), `${threads} threads: ${m}×${n}×${k} alpha ${al} beta ${be} trans ${t}`).toBe(0);
      });
      expect(split, `${threads} threads`).toBe(cases.length);
    }
    await setThreads(2);
  });

  it("threads_spins (how long workers poll before they sleep) changes no bits, at 1, 2^20 and the default", async () => {
    await setThreads(1);
    const single = gemm(false, true, 129, 65, 1030, 1, 0, 7).c;
    await setThreads(2);
    try {
      for (const spins of [1, 1 << 20, 0]) {
        withScratch((s) => s.k.threads_spins(spins));
        for (let rep = 0; rep < 3; rep++) {
          const r = gemm(false, true, 129, 65, 1030, 1, 0, 7);
          expect(r.jobs, `spins ${spins}`).toBe(1);
          expect(differing(r.c, single), `spins ${spins}`).toBe(0);
        }
      }
    } finally {
      withScratch((s) => s.k.threads_spins(0));
    }
  });
});

describe("more threads than parts or cores", () => {
  it("3 and 5 threads give the same bits as 1 (uneven bands, eigensolves on 3 threads, bidiagonalisation chunks)", async () => {
    const a = { data: randn(257 * 257, 21), shape: [257, 257] };
    const w = { data: randn(40 * 36 * 30, 22), shape: [40, 36, 30] };
    const s = { data: randn(380 * 370, 23), shape: [380, 370] };
    const run = () => [matmul(a, a, { transposeB: true }).data, ...tucker(w, { rank: 6 }).factors.map((f) => f.data), svd(s).s];
    await setThreads(1);
    const one = run();
    for (const n of [3, 5]) {
      await setThreads(n);
      const g0 = getKernels().threads_generation();
      const many = run();
      expect(getKernels().threads_generation() - g0, `${n} threads dispatched jobs`).toBeGreaterThan(0);
      many.forEach((x, i) => expect(differing(x, one[i]), `${n} threads, output ${i}`).toBe(0));
    }
    await setThreads(2);
  });
});

describe("a trap in a worker", () => {
  it("reaches the caller as a RuntimeError, and the pool keeps working", async () => {
    await setThreads(2);
    const m = 64, n = 1024, kk = 64;
    // C placed so that only the last row's right half (the worker's column band) lies past the end of memory
    expect(() => withScratch((s) => {
      const a = s.put(randn(m * kk, 1)), b = s.put(randn(kk * n, 2));
      const end = s.k.memory.buffer.byteLength;
      s.k.gemm_f32(0, 0, m, n, kk, 1, a, kk, b, n, 0, end - m * n * 4 + 2048, n);
    })).toThrow(WebAssembly.RuntimeError);
    const x = { data: randn(300 * 300, 3), shape: [300, 300] };
    const r = gemm(false, false, 300, 300, 300, 1, 0, 4);
    expect(r.jobs).toBe(1);
    await setThreads(1);
    const one = matmul(x, x).data;
    await setThreads(2);
    expect(differing(matmul(x, x).data, one)).toBe(0);
  });
});

describe("setThreads / threadsInfo / terminateThreads", () => {
  it("switches 1 → 2 → 1 → 2 and reports each state", async () => {
    await ready();
    let info = await setThreads(1);
    expect(info).toMatchObject({ threads: 1, requested: 1, reason: "1 thread requested" });
    expect(getThreads()).toBe(1);
    info = await setThreads(2);
    expect(info).toMatchObject({ threads: 2, requested: 2, reason: null, blockingWait: true });
    expect(getThreads()).toBe(2);
    expect(runtimeInfo().sharedMemory).toBe(true);
    expect(runtimeInfo().features.threads).toBe(true);
    await setThreads(1);
    expect(threadsInfo().threads).toBe(1);
    await setThreads(2);
    expect(threadsInfo().threads).toBe(2);
    // "auto" is the core count (at most 8)
    info = await setThreads("auto");
    expect(info.requested).toBe(Math.min(info.cores, 8));
    await setThreads(2);
  });

  it("serialises overlapping setThreads calls; the last one wins", async () => {
    await ready();
    const [a, b, c] = await Promise.all([setThreads(1), setThreads(3), setThreads(2)]);
    expect([a.threads, b.threads, c.threads]).toEqual([1, 3, 2]);
    expect(getThreads()).toBe(2);
  });

  it("wasm memory does not grow across repeated threaded calls", async () => {
    await setThreads(2);
    const x = { data: randn(400 * 300, 1), shape: [400, 300] };
    const u = { data: randn(300 * 64, 2), shape: [300, 64] };
    const v = { data: randn(64 * 500, 3), shape: [64, 500] };
    const w = { data: randn(48 * 40 * 9, 4), shape: [48, 40, 3, 3] };
    const round = () => {
      matmul(x, x, { transposeB: true });
      lowRankMatmul(x, u, v);
      tucker(w, { rank: 12, modes: [0, 1], method: "hooi", maxIter: 2 });
    };
    round();
    const before = wasmMemoryBytes();
    for (let i = 0; i < 5; i++) round();
    expect(wasmMemoryBytes()).toBe(before);
  });

  it("rejects bad thread counts, naming the value and what is expected", async () => {
    for (const bad of [0, -1, NaN, 1.5, 65, 1e9, Infinity, "4", null]) {
      await expect(setThreads(bad as never), String(bad)).rejects.toThrow(/setThreads: threads must be an integer in 1…64 or 'auto' \(the core count\), got/);
    }
    await expect(setThreads(1.5)).rejects.toThrow(/got 1\.5$/);
    await expect(setThreads("4" as never)).rejects.toThrow(/got '4'$/);
    await expect(setThreads(0)).rejects.toThrow(/got 0$/);
    resetForTesting();
    await expect(ready({ threads: -1 })).rejects.toThrow(/ready: threads must be an integer in 1…64 .*got -1/);
    await ready({ threads: 2 });
    expect(getThreads()).toBe(2);
  });

  it("terminateThreads stops the workers synchronously and says so; setThreads starts them again", async () => {
    await setThreads(2);
    terminateThreads();
    expect(threadsInfo()).toMatchObject({ threads: 1, reason: "stopped by terminateThreads()" });
    const a = { data: randn(300 * 300, 5), shape: [300, 300] };
    const one = matmul(a, a);
    await setThreads(2);
    expect(differing(matmul(a, a).data, one.data)).toBe(0);
  });

  it("a Node process using 2 threads exits by itself (workers never hold it open)", async () => {
    const script = `import { ready, setThreads, matmul } from "./src/index.ts";
      await ready({ threads: 1 });
      const a = { data: Float32Array.from({ length: 300 * 300 }, (_, i) => Math.sin(i)), shape: [300, 300] };
      const one = matmul(a, a).data;
      const info = await setThreads(2);
      const two = matmul(a, a).data;
      console.log("RESULT", info.threads, one.every((v, i) => Object.is(v, two[i])));`;
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("RESULT 2 true");
  });
});

describe("fallback to one thread", () => {
  it("without SharedArrayBuffer: 1 thread, the plain build, and the reason", async () => {
    resetForTesting({ sharedArrayBuffer: false });
    await ready({ threads: 4 });
    expect(threadsInfo()).toMatchObject({ threads: 1, requested: 4, api: null, reason: "SharedArrayBuffer is unavailable in this runtime" });
    expect(runtimeInfo().sharedMemory).toBe(false);
    expect(runtimeInfo().features.threads).toBe(false);
    // setThreads resolves (no throw) with the same reason; kernels still work
    const info = await setThreads(2);
    expect(info).toMatchObject({ threads: 1, requested: 2, reason: "SharedArrayBuffer is unavailable in this runtime" });
    const a = { data: randn(200 * 200, 6), shape: [200, 200] };
    const plain = matmul(a, a);
    expect(getKernels().memory.buffer).toBeInstanceOf(ArrayBuffer);
    // a page without cross-origin isolation names the headers to send
    resetForTesting({ sharedArrayBuffer: false, crossOriginIsolated: false });
    await ready();
    expect(threadsInfo().reason).toMatch(/not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/);
    // back to the real runtime: the threaded build gives the same product
    resetForTesting();
    await ready({ threads: 2 });
    expect(getThreads()).toBe(2);
    expect(getKernels().memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(differing(matmul(a, a).data, plain.data)).toBe(0);
  });

  it("threadsInfo before ready names the problem; getThreads is 1", () => {
    resetForTesting();
    expect(getThreads()).toBe(1);
    expect(() => threadsInfo()).toThrow(/threadsInfo: odecomp is not initialised/);
  });

  it("default ready() starts the pool in the background; terminateThreads during the start wins", async () => {
    resetForTesting();
    await ready();
    const starting = threadsInfo();
    if (Math.min(starting.cores, 8) > 1) {
      expect(starting).toMatchObject({ threads: 1, requested: Math.min(starting.cores, 8) });
      expect(starting.reason).toMatch(/^starting \d+ worker\(s\) in the background \(await setThreads\(n\) to wait for them\)$/);
    }
    const a = { data: randn(200 * 200, 7), shape: [200, 200] };
    const early = matmul(a, a).data; // usable at once, whatever the pool's state
    terminateThreads();
    await new Promise((r) => setTimeout(r, 400)); // let the background start finish
    expect(threadsInfo()).toMatchObject({ threads: 1, reason: "stopped by terminateThreads()" });
    const info = await setThreads("auto");
    expect(info.threads).toBe(Math.min(info.cores, 8));
    expect(differing(matmul(a, a).data, early)).toBe(0);
  });

  it("setThreads before ready loads the kernels with that many threads", async () => {
    resetForTesting();
    const info = await setThreads(2);
    expect(info.threads).toBe(2);
    expect(getKernels()).toBeTruthy();
  });
});
