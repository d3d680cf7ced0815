// SVD / QR: ours (float32 wasm) vs ml-matrix (float64 plain JS) measured in the same run,
// plus randomized rank-32 SVD vs our full SVD. Residuals ‖A − U·diag(s)·Vᵀ‖/‖A‖ beside the times.
// ml-matrix's 1024² SVD takes ≈ 20 s per call: it is measured once (no warm-up), or skipped with --quick.
import { Matrix, QrDecomposition, SVD } from "ml-matrix";
import { matmul, qr, ready, svd, type Tensor } from "../src/index.ts";
import { medians, printTable, saveResults, type Row } from "./lib.ts";

function rand(r: number, c: number, seed: number): Tensor {
  let a = seed >>> 0;
  const d = new Float32Array(r * c);
  for (let i = 0; i < d.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    d[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return { data: d, shape: [r, c] };
}

function toMatrix(a: Tensor): Matrix {
  const [m, n] = a.shape;
  const out = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.set(i, j, a.data[i * n + j]);
  return out;
}

function fromMatrix(x: Matrix): Tensor {
  return { data: Float32Array.from(x.to1DArray()), shape: [x.rows, x.columns] };
}

/** ‖A − U·diag(s)·Vᵀ‖_F / ‖A‖_F, the product formed by our matmul, the difference in f64. */
function residual(a: Tensor, u: Tensor, s: ArrayLike<number>, v: Tensor): number {
  const k = s.length;
  const us = new Float32Array(u.data.length);
  for (let i = 0; i < u.shape[0]; i++) for (let j = 0; j < k; j++) us[i * k + j] = u.data[i * k + j] * s[j];
  const p = matmul({ data: us, shape: u.shape }, v, { transposeB: true });
  let num = 0, den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i] - p.data[i]) ** 2;
    den += a.data[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function qrResidual(a: Tensor, q: Tensor, r: Tensor): number {
  const p = matmul(q, r);
  let num = 0, den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i] - p.data[i]) ** 2;
    den += a.data[i] ** 2;
  }
  return Math.sqrt(num / den);
}

export async function run(args: string[] = []): Promise<void> {
  await ready();
  const quick = args.includes("--quick");
  const rows: Row[] = [];
  const shapes: [number, number][] = [[256, 256], [512, 512], [1024, 1024], [2304, 256]];
  for (const [m, n] of shapes) {
    const a = rand(m, n, m * 31 + n);
    const big = m * n >= 1024 * 1024;
    const ours = await medians({ ours: () => svd(a) }, { iterations: big ? 3 : 5, warmupIterations: 1, time: 0 });
    const mine = svd(a);
    const res = residual(a, mine.u, mine.s, mine.v);
    let peerMs: number | null = null;
    let peerRes: number | string = "skipped";
    if (!(quick && big)) {
      const am = toMatrix(a);
      let out: SVD | undefined;
      if (big) {
        const t0 = performance.now();
        out = new SVD(am, { autoTranspose: true });
        peerMs = performance.now() - t0;
      } else {
        const t = await medians({ peer: () => { out = new SVD(am, { autoTranspose: true }); } }, { iterations: m * n > 300_000 ? 1 : 3, warmupIterations: m * n > 300_000 ? 0 : 1, time: 0 });
        peerMs = t.peer;
      }
      const k = Math.min(m, n);
      const pu = fromMatrix(out!.leftSingularVectors.subMatrix(0, m - 1, 0, k - 1));
      const pv = fromMatrix(out!.rightSingularVectors.subMatrix(0, n - 1, 0, k - 1));
      peerRes = residual(a, pu, out!.diagonal.slice(0, k), pv);
    }
    rows.push({
      case: `thin SVD ${m === n ? `${m}²` : `${m}×${n}`}`, ours: "odecomp svd", peer: big ? "ml-matrix SVD (1 call)" : "ml-matrix SVD",
      oursMs: ours.ours, peerMs, speedup: peerMs === null ? null : peerMs / ours.ours,
      extra: { "ours residual": res, "peer residual": peerRes },
    });
    console.log(`svd ${m}×${n}: ours ${ours.ours.toFixed(1)} ms, ml-matrix ${peerMs === null ? "skipped" : peerMs.toFixed(0) + " ms"}`);
  }
  {
    const a = rand(1024, 256, 7);
    const am = toMatrix(a);
    const t = await medians({ ours: () => qr(a), peer: () => new QrDecomposition(am).orthogonalMatrix }, { iterations: 3, warmupIterations: 1, time: 0 });
    const mine = qr(a);
    const pq = new QrDecomposition(am);
    const peerRes = qrResidual(a, fromMatrix(pq.orthogonalMatrix.subMatrix(0, 1023, 0, 255)), fromMatrix(pq.upperTriangularMatrix));
    rows.push({ case: "QR 1024×256", ours: "odecomp qr", peer: "ml-matrix QR", oursMs: t.ours, peerMs: t.peer, speedup: t.peer / t.ours,
      extra: { "ours residual": qrResidual(a, mine.q, mine.r), "peer residual": peerRes } });
  }
  {
    const a = rand(1024, 1024, 11);
    const t = await medians({
      ours: () => svd(a, { rank: 32, method: "randomized" }),
      peer: () => svd(a, { method: "full" }),
    }, { iterations: 3, warmupIterations: 1, time: 0 });
    const r = svd(a, { rank: 32, method: "randomized" });
    const f = svd(a, { rank: 32, method: "full" });
    rows.push({ case: "randomized SVD rank 32 of 1024²", ours: "odecomp randomized", peer: "odecomp full SVD", oursMs: t.ours, peerMs: t.peer, speedup: t.peer / t.ours,
      extra: { "ours residual": residual(a, r.u, r.s, r.v), "peer residual": residual(a, f.u, f.s, f.v) } });
  }
  printTable("SVD / QR (single thread; residual ‖A − UΣVᵀ‖/‖A‖, for rank 32 the truncation error)", rows);
  await saveResults("svd", rows, { note: "ml-matrix is float64 plain JS; its 1024² SVD is measured with one call" });
}
