// The demo page's main thread: UI only. Compression runs in an odecomp worker
// (src/worker/entry.ts, bundled as worker.js); this thread reads the model files,
// shows progress, the per-layer table and chart, and offers the result as downloads.
// State for the page test is published on window.__demo.
import { createWorker, type OdecompWorker } from "../src/worker/index.ts";
import { artifactsFromJSON, artifactsToJSON, type ModelJSON } from "../src/models/io.ts";
import type { Artifacts } from "../src/compress/artifacts.ts";
import type { CompressOptions, Plan, PlanEntry, RankSelection } from "../src/compress/plan.ts";
import type { ConvMethod } from "../src/layers/types.ts";
import { paramsSpec, renderSvg } from "../src/cli/report.ts";

interface DemoState {
  ready: boolean;
  busy: boolean;
  done: number;
  error: string | null;
  info: unknown;
  /** Timer ticks (performance.now()) of the main thread. */
  ticks: number[];
  /** Values the progress bar took, in order. */
  progress: number[];
  /** performance.now() when the last compression started and ended. */
  started: number;
  ended: number;
  plan: Plan | null;
}
const state: DemoState = { ready: false, busy: false, done: 0, error: null, info: null, ticks: [], progress: [], started: 0, ended: 0, plan: null };
(globalThis as { __demo?: DemoState }).__demo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (n: number) => n.toLocaleString("en-US");
const pct = (a: number, b: number) => `${(100 * a / Math.max(1, b)).toFixed(1)}\u00a0%`;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[c]!);

// The responsiveness indicator: a 20 ms timer and an animation, both on this thread. The longest gap
// between ticks is measured while the worker compresses (the table and chart are drawn afterwards, on
// this thread: vega takes ~0.1–0.2 s there).
let longest = 0;
let measuring = false;
setInterval(() => {
  const now = performance.now();
  const last = state.ticks.at(-1);
  if (measuring && last !== undefined) longest = Math.max(longest, now - Math.max(last, state.started));
  state.ticks.push(now);
  if (state.ticks.length > 20000) state.ticks.splice(0, 10000);
  $("ticks").textContent = String(state.ticks.length);
  if (measuring) $("gap").textContent = longest.toFixed(0);
}, 20);
const spin = $("spin");
const animate = (t: number) => { spin.style.opacity = String(0.35 + 0.65 * Math.abs(Math.sin(t / 300))); requestAnimationFrame(animate); };
requestAnimationFrame(animate);

let worker: OdecompWorker;
let bundled: Artifacts | null = null;
let uploaded: Artifacts | null = null;
let downloadUrls: string[] = [];

function fail(e: unknown) {
  state.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  $("error").textContent = state.error;
}

function describe(a: Artifacts, label: string) {
  const params = (a.weightSpecs ?? []).reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1), 0);
  const meta = (a as { userDefinedMetadata?: { odecompDemo?: string } }).userDefinedMetadata?.odecompDemo;
  $("model-info").textContent = `${label}: ${fmt(params)} parameters in ${(a.weightSpecs ?? []).length} weights${meta ? ` — ${meta}` : ""}`;
}

/** model.json + shards from an <input type=file multiple>: shards matched by file name, concatenated in manifest order. */
async function readUpload(files: FileList): Promise<Artifacts> {
  const list = [...files];
  const json = list.find((f) => f.name.endsWith(".json"));
  if (!json) throw new Error(`no .json file among ${list.map((f) => f.name).join(", ") || "(none)"}; expected model.json and its weight shards`);
  const modelJSON = JSON.parse(await json.text()) as ModelJSON;
  if (!Array.isArray(modelJSON.weightsManifest)) throw new Error(`${json.name} has no weightsManifest; expected a tfjs layers model.json`);
  const parts: Uint8Array[] = [];
  for (const path of modelJSON.weightsManifest.flatMap((g) => g.paths)) {
    const base = path.split("/").pop()!;
    const f = list.find((x) => x.name === base || x.name === `${base}.bin` || x.name === base.replace(/\.bin$/, ""));
    if (!f) throw new Error(`weight shard '${base}' named in ${json.name} was not selected; select model.json together with all its shards`);
    parts.push(new Uint8Array(await f.arrayBuffer()));
  }
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { bytes.set(p, o); o += p.length; }
  return artifactsFromJSON(modelJSON, bytes);
}

function options(): CompressOptions {
  const rule = ($("rule") as HTMLSelectElement).value;
  const keep = Number(($("budget") as HTMLInputElement).value);
  const select: RankSelection = rule === "budget" ? { kind: "budget", keep } : rule === "flops" ? { kind: "budget", keep, metric: "flops" } : rule === "evbmf" ? { kind: "evbmf" } : { kind: "energy", threshold: 0.9 };
  return { select, convMethod: ($("method") as HTMLSelectElement).value as ConvMethod | "auto" };
}

function table(plan: Plan): string {
  const row = (e: PlanEntry) => `<tr><td>${esc(e.layer)}</td><td class="l">${esc(e.kind)}</td><td class="l">${e.action === "factorize" ? esc(String(e.method)) : "kept"}</td>`
    + `<td>${e.action === "factorize" ? e.ranks.join(" × ") : "—"}</td><td>${e.maxRanks.join(" × ") || "—"}</td>`
    + `<td>${fmt(e.paramsBefore)}</td><td>${fmt(e.paramsAfter)}</td><td>${pct(e.paramsAfter, e.paramsBefore)}</td>`
    + `<td>${fmt(e.flopsBefore)}</td><td>${fmt(e.flopsAfter)}</td><td>${e.relError === null ? "—" : e.relError.toFixed(3)}</td><td class="note">${esc(e.note)}</td></tr>`;
  const t = plan.totals;
  return `<thead><tr><th>layer</th><th class="l">kind</th><th class="l">method</th><th>ranks</th><th>max ranks</th><th>params before</th><th>after</th><th>kept</th><th>FLOPs before</th><th>after</th><th>rel. error</th><th class="l">note</th></tr></thead><tbody>`
    + plan.entries.map(row).join("")
    + `<tr class="total"><td>total</td><td></td><td></td><td></td><td></td><td>${fmt(t.paramsBefore)}</td><td>${fmt(t.paramsAfter)}</td><td>${pct(t.paramsAfter, t.paramsBefore)}</td><td>${fmt(t.flopsBefore)}</td><td>${fmt(t.flopsAfter)}</td><td></td><td></td></tr></tbody>`;
}

async function run() {
  const source = (document.querySelector("input[name=source]:checked") as HTMLInputElement).value;
  const input = source === "bundled" ? bundled : uploaded;
  if (!input) { fail(new Error(source === "bundled" ? "the bundled model is not loaded" : "select model.json and its weight shards first")); return; }
  state.busy = true;
  state.error = null;
  state.progress = [];
  $("error").textContent = "";
  ($("compress") as HTMLButtonElement).disabled = true;
  const bar = $("progress") as HTMLProgressElement;
  bar.value = 0;
  $("status").textContent = "compressing in the worker…";
  state.started = performance.now();
  longest = 0;
  measuring = true;
  try {
    const r = await worker.compressArtifacts(input, {
      ...options(),
      onProgress: (p) => {
        bar.value = p.fraction;
        state.progress.push(p.fraction);
        $("status").textContent = p.phase === "done" ? "done" : `${p.phase === "plan" ? "planning" : "factorized"} ${p.layer ?? ""} (${p.step}/${p.steps})`;
      },
    });
    state.ended = performance.now();
    measuring = false;
    $("gap").textContent = longest.toFixed(0);
    state.plan = r.plan;
    const t = r.plan.totals;
    $("summary").textContent = `${fmt(t.paramsBefore)} → ${fmt(t.paramsAfter)} parameters (${pct(t.paramsAfter, t.paramsBefore)} kept), `
      + `${fmt(t.flopsBefore)} → ${fmt(t.flopsAfter)} FLOPs per example (${pct(t.flopsAfter, t.flopsBefore)}); ${r.plan.entries.filter((e) => e.action === "factorize").length} layers factorized in ${((state.ended - state.started) / 1000).toFixed(2)} s.`;
    $("plan").innerHTML = table(r.plan);
    $("report").textContent = r.report;
    $("chart").innerHTML = await renderSvg(paramsSpec(r.plan.entries));
    for (const u of downloadUrls) URL.revokeObjectURL(u);
    const { modelJSON, weightData } = artifactsToJSON(r.artifacts, "weights.bin");
    downloadUrls = [
      URL.createObjectURL(new Blob([JSON.stringify(modelJSON)], { type: "application/json" })),
      URL.createObjectURL(new Blob([weightData], { type: "application/octet-stream" })),
    ];
    ($("dl-json") as HTMLAnchorElement).href = downloadUrls[0];
    ($("dl-bin") as HTMLAnchorElement).href = downloadUrls[1];
    $("results").hidden = false;
    state.done++;
  } catch (e) {
    state.ended = performance.now();
    measuring = false;
    $("status").textContent = "failed";
    fail(e);
  } finally {
    state.busy = false;
    ($("compress") as HTMLButtonElement).disabled = false;
  }
}

async function main() {
  $("budget").addEventListener("input", () => { $("budget-out").textContent = `${Math.round(100 * Number(($("budget") as HTMLInputElement).value))} %`; });
  $("files").addEventListener("change", async () => {
    const files = ($("files") as HTMLInputElement).files;
    if (!files?.length) return;
    try {
      uploaded = await readUpload(files);
      (document.querySelector("input[name=source][value=upload]") as HTMLInputElement).checked = true;
      describe(uploaded, "uploaded model");
      $("error").textContent = "";
    } catch (e) { fail(e); }
  });
  $("compress").addEventListener("click", () => void run());
  worker = await createWorker({
    url: new URL("./worker.js", import.meta.url),
    // tfjs-backend-wasm in the worker, its threaded SIMD binary when this page is cross-origin isolated.
    // odecomp's own kernel threads where the build has them (setThreads), else one thread.
    init: { backend: "wasm", wasmPaths: new URL("./tfjs/", location.href).href, threads: "auto" },
  });
  state.info = worker.info;
  const i = worker.info;
  $("runtime").textContent = `worker ready: odecomp ${i.odecomp.build} build, ${i.threads} kernel thread${i.threads === 1 ? "" : "s"} · tfjs ${i.tfjs.backend} backend, ${i.tfjs.threads} thread${i.tfjs.threads === 1 ? "" : "s"}${i.tfjs.note ? ` (${i.tfjs.note})` : ""} · ${i.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated"}`;
  const [json, bin] = await Promise.all([fetch("./model/model.json"), fetch("./model/weights.bin")]);
  if (!json.ok || !bin.ok) throw new Error(`bundled model not served (model.json ${json.status}, weights.bin ${bin.status})`);
  bundled = artifactsFromJSON(await json.text(), await bin.arrayBuffer());
  describe(bundled, "bundled model");
  ($("compress") as HTMLButtonElement).disabled = false;
  state.ready = true;
}

main().catch(fail);
