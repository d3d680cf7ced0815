// Repeatability of the measured cost model (src/models/timing.ts tfjsTimer), the auto schedule's and the
// time-aware planner's: the main job's CNN (vggCnn, seed 1) at batch 64, forward + backward, each
// factorizable layer dense and as its chain (Tucker-2 for the convs, SVD for fc1) at half its largest
// ranks and at the main job's rank for fc1 (72), timed by `--timers` fresh timers — each with its own
// overhead model, as a fresh planner run has — alternating the current timer ("given dy": the output's
// gradient is supplied, nothing read back on synchronous backends) with the one before session 18
// ("read back": sum loss, every gradient copied out with dataSync). Per reading: median over the timers,
// and the spread max / min; then how many timers' dense-vs-chain decisions (the auto planner's rule: a chain
// must cost 3 % less) agree with the majority. Wasm + odecomp kernels, `--threads` (default auto, as npm start).
// Args: --timers=7 --threads=auto --quick (3 timers)
import { loadavg, uptime } from "node:os";
import { inspect } from "../src/compress/compress.ts";
import { layerShapes, modelToArtifacts } from "../src/models/convert.ts";
import { tfjsTimer } from "../src/models/timing.ts";
import { vggCnn } from "../src/train/models.ts";
import { useBackend } from "../src/cli/backend.ts";
import { getThreads } from "../src/core/loader.ts";
import type { MethodName } from "../src/layers/types.ts";
import { isQuick, median, printTable, saveResults, setThreadsFlag, type Row } from "./lib.ts";

const flag = (args: string[], name: string, d: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;

export async function run(args: string[]): Promise<void> {
  const timers = Number(flag(args, "timers", isQuick(args) ? "3" : "7"));
  if (!(Number.isInteger(timers) && timers >= 2)) throw new Error(`timer: --timers=${timers}; expected an integer ≥ 2`);
  await useBackend("wasm");
  await setThreadsFlag(flag(args, "threads", "auto"));
  const load0 = loadavg().map((x) => x.toFixed(2)).join(" ");

  const model = vggCnn({ seed: 1 });
  const ins = inspect(await modelToArtifacts(model), layerShapes(model));
  model.dispose();
  const reqs: { name: string; layer: string; method: MethodName | null; ranks: number[] }[] = [];
  for (const c of ins.candidates) {
    if (c.layer.name === "conv1_1" || c.layer.name === "fc2") continue; // auto keeps these dense
    reqs.push({ name: `${c.layer.name} dense`, layer: c.layer.name, method: null, ranks: [] });
    if (c.layer.className === "Dense") {
      const max = c.layer.kernel.shape[1];
      for (const r of [max >> 1, 72]) reqs.push({ name: `${c.layer.name} svd ${r}`, layer: c.layer.name, method: "svd", ranks: [r] });
    } else {
      const [, , cin, cout] = c.layer.kernel.shape;
      const ranks = [Math.max(1, cin >> 1), Math.max(1, cout >> 1)];
      reqs.push({ name: `${c.layer.name} tucker2 ${ranks.join("x")}`, layer: c.layer.name, method: "tucker2", ranks });
    }
  }
  const byName = new Map(ins.candidates.map((c) => [c.layer.name, c]));
  const modes = { "given dy": false, "read back": true } as const;
  const ms: Record<string, number[][]> = { "given dy": [], "read back": [] };
  const t0 = performance.now();
  for (let t = 0; t < timers; t++) {
    const order = t % 2 === 0 ? (["given dy", "read back"] as const) : (["read back", "given dy"] as const);
    for (const mode of order) {
      const timer = tfjsTimer({ readBack: modes[mode] });
      ms[mode].push(reqs.map((r) => {
        const c = byName.get(r.layer)!;
        return 1e3 * timer.time({ layer: c.layer, method: r.method, ranks: r.ranks, inShape: c.inShape, batch: 64, mode: "training" });
      }));
    }
  }
  const rows: Row[] = [];
  for (const [i, r] of reqs.entries()) {
    const now = ms["given dy"].map((v) => v[i]), old = ms["read back"].map((v) => v[i]);
    rows.push({
      case: `${r.name}, fwd + bwd, batch 64`, ours: "given dy", peer: "read back", oursMs: median(now), peerMs: median(old), speedup: null,
      extra: { "spread (max/min) given dy": Math.max(...now) / Math.min(...now), "spread read back": Math.max(...old) / Math.min(...old), "given dy ms": now.map((v) => v.toFixed(2)).join(" "), "read back ms": old.map((v) => v.toFixed(2)).join(" ") },
    });
  }
  // Decisions: per chain, does it cost ≥ 3 % less than its dense layer, timer by timer.
  for (const [i, r] of reqs.entries()) {
    if (r.method === null) continue;
    const d = reqs.findIndex((q) => q.layer === r.layer && q.method === null);
    const agree = (mode: keyof typeof ms) => {
      const pays = ms[mode].map((v) => v[i] < 0.97 * v[d]);
      const yes = pays.filter(Boolean).length;
      return `${Math.max(yes, pays.length - yes)}/${pays.length} (${yes} pay)`;
    };
    rows.push({ case: `${r.name} pays against dense: timers agreeing`, ours: agree("given dy"), peer: agree("read back"), oursMs: NaN, peerMs: null, speedup: null });
  }
  const load1 = loadavg().map((x) => x.toFixed(2)).join(" ");
  printTable(`timer: the measured cost model's repeatability, ${timers} fresh timers per mode, alternated; main CNN, batch 64, ${getThreads()} thread(s); load ${load0} → ${load1}, uptime ${(uptime() / 3600).toFixed(2)} h, ${((performance.now() - t0) / 1e3).toFixed(0)} s`, rows);
  await saveResults("timer", rows, { timers, threads: getThreads(), loadStart: load0, loadEnd: load1 });
}
