// Data loading: decode + resize + cache of an image folder, one thread.
// A folder of N 32×32×3 PNGs (10 class folders; N = 60,000 with `--images=60000`,
// default 6,000, 2,000 with --quick) and N/5 JPEGs is generated in a temp dir
// (not timed), then timed end to end through loadImageFolder: walk + stat +
// read + decode + resize to 28×28 (so the resize does work) + split.
// Peer for PNG: the same walk/read/resize with a decoder on Node's native zlib
// (test/helpers/png.ts — what a Node-only loader could use; not usable in
// browsers), alternated with ours, medians of the repetitions. JPEG has no peer
// here (no other pure-JS JPEG decoder installed). Cache: the first load with a
// cache dir writes the ODIM v2 file; the figure is the second load (a hit).
// Target: 60,000 PNGs in < 60 s (images/s ≥ 1,000).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { loadImageFolder, walkFolder } from "../src/data/node-folder.ts";
import { decodeImage } from "../src/data/decode.ts";
import { resizeBilinear } from "../src/data/resize.ts";
import { jpegBytes, pngBytes, rgbImage } from "../test/data/fixtures.ts";
import { decodePng } from "../test/helpers/png.ts";
import { isQuick, median, printTable, saveResults, type Row } from "./lib.ts";

async function makeFolder(root: string, n: number, kind: "png" | "jpg"): Promise<Uint8Array[]> {
  // 64 distinct images, encoded once and written under N names: generation stays I/O-bound
  // (encoding 60,000 PNGs here took minutes), and decoding costs the same per file.
  const encoded = Array.from({ length: 64 }, (_, i) => { const a = rgbImage(32, 32, i); return kind === "png" ? pngBytes(a, 32, 32, 3) : jpegBytes(a, 32, 32, 90); });
  for (let k = 0; k < 10; k++) await mkdir(join(root, `class${k}`), { recursive: true });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    writes.push(writeFile(join(root, `class${i % 10}`, `img${String(i).padStart(6, "0")}.${kind}`), encoded[i % 64]));
    if (writes.length >= 256) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return encoded;
}

/** Decode + resize of bytes already in memory (no file system): the CPU part alone. */
function decodeInMemory(encoded: Uint8Array[], n: number, peer: boolean): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const bytes = encoded[i % encoded.length];
    if (peer) {
      const img = decodePng(bytes);
      const rgb = new Uint8Array(img.width * img.height * 3);
      for (let j = 0; j < img.width * img.height; j++) { rgb[3 * j] = img.rgba[4 * j]; rgb[3 * j + 1] = img.rgba[4 * j + 1]; rgb[3 * j + 2] = img.rgba[4 * j + 2]; }
      resizeBilinear({ data: rgb, height: img.height, width: img.width, channels: 3 }, 28, 28);
    } else resizeBilinear(decodeImage(bytes), 28, 28);
  }
  return performance.now() - t0;
}

/** The peer: same entries and resize, PNG decoded with node:zlib (test/helpers/png.ts). */
async function loadWithZlib(root: string): Promise<number> {
  const t0 = performance.now();
  const entries = await walkFolder(root);
  let n = 0;
  for (const e of entries) {
    if (e.dir) continue;
    const img = decodePng(await e.read());
    const rgb = new Uint8Array(img.width * img.height * 3);
    for (let i = 0; i < img.width * img.height; i++) { rgb[3 * i] = img.rgba[4 * i]; rgb[3 * i + 1] = img.rgba[4 * i + 1]; rgb[3 * i + 2] = img.rgba[4 * i + 2]; }
    resizeBilinear({ data: rgb, height: img.height, width: img.width, channels: 3 }, 28, 28);
    n++;
  }
  if (n === 0) throw new Error("bench: no images");
  return performance.now() - t0;
}


export async function run(args: string[]): Promise<void> {
  // --images=N (bench/run.ts takes every bare word for an area name, so `--images N` cannot pass)
  const given = args.find((a) => a.startsWith("--images="))?.split("=")[1];
  const n = given !== undefined ? Number(given) : isQuick(args) ? 2000 : 6000;
  const reps = isQuick(args) ? 1 : 3;
  const base = join(tmpdir(), `odecomp-bench-data-${process.pid}`);
  const pngDir = join(base, "png"), jpgDir = join(base, "jpg"), cacheDir = join(base, "cache");
  try {
    const tg = performance.now();
    const pngs = await makeFolder(pngDir, n, "png");
    const jpgs = await makeFolder(jpgDir, Math.max(10, Math.round(n / 5)), "jpg");
    console.log(`data bench: generated ${n} PNGs + ${Math.round(n / 5)} JPEGs (32×32×3) in ${((performance.now() - tg) / 1000).toFixed(1)} s (not timed)`);
    const ours: number[] = [], peer: number[] = [];
    for (let r = 0; r < reps; r++) {
      let t = performance.now();
      await loadImageFolder(pngDir, { cacheDir: false, size: [28, 28] });
      ours.push(performance.now() - t);
      peer.push(await loadWithZlib(pngDir));
    }
    const memN = Math.min(n, 2000), memOurs: number[] = [], memPeer: number[] = [];
    for (let r = 0; r < 3; r++) { memOurs.push(decodeInMemory(pngs, memN, false)); memPeer.push(decodeInMemory(pngs, memN, true)); }
    const jt = performance.now();
    for (let i = 0; i < memN; i++) resizeBilinear(decodeImage(jpgs[i % jpgs.length]), 28, 28);
    const memJpg = performance.now() - jt;
    let t = performance.now();
    await loadImageFolder(jpgDir, { cacheDir: false, size: [28, 28] });
    const jpgMs = performance.now() - t;
    t = performance.now();
    const first = await loadImageFolder(pngDir, { cacheDir, size: [28, 28] });
    const writeMs = performance.now() - t;
    t = performance.now();
    const hit = await loadImageFolder(pngDir, { cacheDir, size: [28, 28] });
    const hitMs = performance.now() - t;
    if (!hit.report.cacheHit || first.report.cacheHit) throw new Error("bench: expected a cache miss then a hit");
    const o = median(ours), p = median(peer);
    const nj = Math.max(10, Math.round(n / 5));
    const load = loadavg()[0].toFixed(2);
    const rows: Row[] = [
      { case: `PNG folder ${n} × 32×32×3 → 28×28`, ours: "fast-png (pure JS)", peer: "node:zlib decoder", oursMs: o, peerMs: p, speedup: p / o,
        extra: { "images/s": Math.round(n / (o / 1000)), "peer images/s": Math.round(n / (p / 1000)), "est. 60k s": (60000 / n) * o / 1000, load1: load } },
      { case: `JPEG folder ${nj} × 32×32×3 → 28×28`, ours: "jpeg-js (pure JS)", peer: "—", oursMs: jpgMs, peerMs: null, speedup: null,
        extra: { "images/s": Math.round(nj / (jpgMs / 1000)), load1: load } },
      { case: `PNG in memory ${memN} (decode + resize only)`, ours: "fast-png (pure JS)", peer: "node:zlib decoder", oursMs: median(memOurs), peerMs: median(memPeer), speedup: median(memPeer) / median(memOurs),
        extra: { "images/s": Math.round(memN / (median(memOurs) / 1000)), "peer images/s": Math.round(memN / (median(memPeer) / 1000)), load1: load } },
      { case: `JPEG in memory ${memN} (decode + resize only)`, ours: "jpeg-js (pure JS)", peer: "—", oursMs: memJpg, peerMs: null, speedup: null,
        extra: { "images/s": Math.round(memN / (memJpg / 1000)), load1: load } },
      { case: `cache reload (ODIM v2, ${n} images)`, ours: "cache hit", peer: "decode + cache write", oursMs: hitMs, peerMs: writeMs, speedup: writeMs / hitMs,
        extra: { "images/s": Math.round(n / (hitMs / 1000)), load1: load } },
    ];
    printTable("Data loading (1 thread)", rows);
    await saveResults("data", rows, { images: n, loadavg: loadavg() });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
