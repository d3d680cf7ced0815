// Shared benchmark harness: tinybench measures each case, cases are grouped
// as "ours vs peer" pairs measured in the same run, and each area's figures
// are printed as a table and saved as JSON (with machine info) under bench/results/.
import { Bench } from "tinybench";
import { cpus, arch, platform, totalmem } from "node:os";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { setThreads } from "../src/index.ts";

export interface Row {
  /** What is measured, e.g. "GEMM 512²". */
  case: string;
  ours: string;
  peer: string;
  oursMs: number;
  peerMs: number | null;
  /** peer median / ours median: > 1 means ours is faster. */
  speedup: number | null;
  /** Free-form extra figures (GFLOP/s, errors, FLOP ratio...). */
  extra?: Record<string, number | string>;
}

export interface MeasureOptions {
  /** Minimum time per task in ms (tinybench `time`). */
  time?: number;
  iterations?: number;
  warmupIterations?: number;
}

/** Median of a list (mean of the middle two for an even count; NaN for none). */
export const median = (a: readonly number[]): number => {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median wall time in ms of each function, measured in one tinybench run. */
export async function medians(fns: Record<string, () => unknown | Promise<unknown>>, opts: MeasureOptions = {}): Promise<Record<string, number>> {
  const bench = new Bench({ time: opts.time ?? 500, iterations: opts.iterations ?? 5, warmupIterations: opts.warmupIterations ?? 2, warmupTime: 50 });
  for (const [name, fn] of Object.entries(fns)) bench.add(name, fn as () => unknown);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50?: number }; state?: string; error?: unknown };
    if (r?.error) throw r.error;
    const p50 = r?.latency?.p50;
    if (typeof p50 !== "number") throw new Error(`bench: no result for '${task.name}'`);
    out[task.name] = p50;
  }
  return out;
}

export function machineInfo() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    arch: arch(),
    platform: platform(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    runtime: `node ${process.version}`,
    date: new Date().toISOString(),
  };
}

function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

export function printTable(title: string, rows: Row[]): void {
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const header = ["case", "ours", "ms", "peer", "ms", "speed-up", ...extraKeys];
  const body = rows.map((r) => [
    r.case, r.ours, fmt(r.oursMs), r.peer, fmt(r.peerMs), r.speedup === null ? "—" : `${fmt(r.speedup)}×`,
    ...extraKeys.map((k) => { const v = r.extra?.[k]; return typeof v === "number" ? fmt(v, 3) : (v ?? ""); }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const b of body) console.log(line(b));
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "results");

/** Save an area's rows atomically as bench/results/<area>.json. */
export async function saveResults(area: string, rows: Row[], meta: Record<string, unknown> = {}): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${area}.json`);
  await writeFile(file + ".tmp", JSON.stringify({ area, machine: machineInfo(), ...meta, rows }, null, 2) + "\n");
  await rename(file + ".tmp", file);
}

/**
 * A training bench's `--threads=auto|N` value: odecomp's kernel threads for the run (bench/run.ts starts
 * every area on 1; setThreads rejects anything else by name).
 */
export async function setThreadsFlag(value: string): Promise<void> {
  await setThreads(value === "auto" ? "auto" : Number(value));
}

/** `--summary` (npm start) and `--quick` ask an area for a short run: fewer sizes and repetitions. */
export function isQuick(args: readonly string[]): boolean {
  return args.includes("--summary") || args.includes("--quick");
}
