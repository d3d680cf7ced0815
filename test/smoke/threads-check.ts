// Threaded == single-threaded, runnable in every runtime (Node via vitest, Deno,
// a Chromium page and a Chromium Web Worker): the same public calls with 1 and
// then 2 kernel threads, compared element by element. Imports only src/ and the
// npm-free seeded-data helper, so it bundles for the browser and runs in Deno offline.
import {
  cp, eigh, getThreads, lowRankMatmul, matmul, qr, setThreads, svd, threadsInfo, tucker, unfoldGram,
  type Tensor, type ThreadsInfo,
} from "../../src/index.ts";
import { getKernels } from "../../src/core/loader.ts";
import { randn } from "../helpers/random.ts";

export interface ThreadCase {
  name: string;
  /** Elements whose 2-thread value differs from the 1-thread value (bitwise). */
  differing: number;
  /** Largest |difference|. */
  maxDiff: number;
  /** Parallel jobs the 2-thread run dispatched (0: too small to split). */
  jobs: number;
}

export interface ThreadsReport {
  info: ThreadsInfo;
  threadsAfter: number;
  cases: ThreadCase[];
}

const T = (shape: number[], seed: number): Tensor => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed), shape });

/** Flatten every Float32Array of a result (depth-first, in key order). */
function flat(x: unknown, out: Float32Array[] = []): Float32Array[] {
  if (x instanceof Float32Array) out.push(x);
  else if (Array.isArray(x)) x.forEach((v) => flat(v, out));
  else if (x && typeof x === "object") for (const k of Object.keys(x).sort()) flat((x as Record<string, unknown>)[k], out);
  return out;
}

export const threadCases: { name: string; run: () => unknown }[] = [
  ...([[1, 1, 1], [3, 5, 17], [64, 129, 257], [257, 129, 64], [129, 257, 300], [300, 65, 129]] as const).flatMap(([m, n, k]) =>
    [[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) => ({
      name: `matmul ${m}×${n}×${k}${ta ? " Aᵀ" : ""}${tb ? " Bᵀ" : ""}`,
      run: () => matmul(T(ta ? [k, m] : [m, k], m * 7 + k), T(tb ? [n, k] : [k, n], n * 11 + k), { transposeA: ta, transposeB: tb }),
    })),
  ),
  { name: "lowRankMatmul 256×200 r=48 → 300 (+bias)", run: () => lowRankMatmul(T([256, 200], 1), T([200, 48], 2), T([48, 300], 3), T([300], 4)) },
  { name: "svd 300×200", run: () => svd(T([300, 200], 5)) },
  { name: "svd 130×260 (wide)", run: () => svd(T([130, 260], 6)) },
  { name: "svd 360×360 (threaded bidiagonalisation)", run: () => svd(T([360, 360], 12)) },
  { name: "qr 400×150", run: () => qr(T([400, 150], 7)) },
  { name: "qr 700×260 (large enough to split its updates)", run: () => qr(T([700, 260], 19)) },
  {
    name: "eigh 200×200",
    run: () => {
      const a = matmul(T([200, 240], 8), T([200, 240], 8), { transposeB: true });
      return eigh(a);
    },
  },
  {
    name: "eigh 400×400 (threaded tridiagonalisation)",
    run: () => {
      const a = matmul(T([400, 420], 13), T([400, 420], 13), { transposeB: true });
      return eigh(a);
    },
  },
  { name: "tucker-2 hosvd (96,96,3,3) r=24", run: () => tucker(T([96, 96, 3, 3], 9), { rank: 24, modes: [0, 1] }) },
  { name: "tucker-2 hooi (96,80,3,3) r=[20,16]", run: () => tucker(T([96, 80, 3, 3], 10), { rank: [20, 16], modes: [0, 1], method: "hooi", maxIter: 3 }) },
  { name: "tucker hosvd all modes (40,36,30) r=8 (3 eigensolves on 2 threads)", run: () => tucker(T([40, 36, 30], 14), { rank: 8 }) },
  { name: "tucker-2 hooi (160,144,3,3) r=[32,24] (subspace steps)", run: () => tucker(T([160, 144, 3, 3], 15), { rank: [32, 24], modes: [0, 1], method: "hooi", maxIter: 2, tol: 0 }) },
  // the three Gram paths, each over several upper-triangle row blocks
  { name: "unfoldGram (300,150) mode 1 (Xᵀ·X)", run: () => unfoldGram(T([300, 150], 16), 1) },
  { name: "unfoldGram (3,130,70) mode 1 (per leading index)", run: () => unfoldGram(T([3, 130, 70], 17), 1) },
  { name: "unfoldGram (40,150,9) mode 1 (unfolded copy)", run: () => unfoldGram(T([40, 150, 9], 18), 1) },
  { name: "cp (40,36,30) r=12", run: () => cp(T([40, 36, 30], 11), { rank: 12, maxIter: 5 }) },
];

/** Run every case with 1 thread, then with 2, and compare. Leaves the pool at 1 thread. */
export async function runThreadsCheck(): Promise<ThreadsReport> {
  await setThreads(1);
  const single = threadCases.map((c) => flat(c.run()));
  const info = await setThreads(2);
  const k = getKernels();
  const cases: ThreadCase[] = threadCases.map((c, i) => {
    const g0 = k.threads_generation();
    const got = flat(c.run());
    const jobs = k.threads_generation() - g0;
    let differing = 0, maxDiff = 0;
    got.forEach((arr, j) => {
      const ref = single[i][j];
      if (!ref || ref.length !== arr.length) {
        differing += arr.length;
        maxDiff = Infinity;
        return;
      }
      for (let e = 0; e < arr.length; e++) {
        if (!Object.is(arr[e], ref[e])) {
          differing++;
          maxDiff = Math.max(maxDiff, Math.abs(arr[e] - ref[e]));
        }
      }
    });
    if (got.length !== single[i].length) differing++;
    return { name: c.name, differing, maxDiff, jobs };
  });
  const after = threadsInfo();
  await setThreads(1);
  return { info: after.threads === info.threads ? info : after, threadsAfter: getThreads(), cases };
}
