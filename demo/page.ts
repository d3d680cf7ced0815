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
import { loadImageFiles } from "../src/data/files.ts";
import type { ImageSet } from "../src/data/dataset.ts";
import type { EvaluateResult } from "../src/train/evaluate.ts";
import type { TopLevelSpec } from "vega-lite";

/** One row of the folder scores: top-1 accuracy (labels) and agreement with the original model. */
interface Score { top1: number | null; agreement: number | null }

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
  /** The picked image folder: counts of the evaluation and fine-tuning sets. */
  folder: { evalCount: number; trainCount: number; labeled: boolean; classNames: string[] | null } | null;
  /** Scores on the folder's evaluation set: the loaded model, right after compression, after fine-tuning. */
  scores: { before: Score | null; compressed: Score | null; tuned: Score | null };
  /** Live fine-tuning curve: training loss per step. */
  curve: { step: number; loss: number }[];
  /** Fine-tuning runs finished, and performance.now() when the last one started and ended (its scoring excluded). */
  tuned: number;
  ftStarted: number;
  ftEnded: number;
}
const state: DemoState = {
  ready: false, busy: false, done: 0, error: null, info: null, ticks: [], progress: [], started: 0, ended: 0, plan: null,
  folder: null, scores: { before: null, compressed: null, tuned: null }, curve: [], tuned: 0, ftStarted: 0, ftEnded: 0,
};
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
/** The model that was compressed last (the teacher for fine-tuning and the reference for agreement) and its result. */
let original: Artifacts | null = null;
let compressed: Artifacts | null = null;
/** The picked folder: evaluated on `evalSet`, fine-tuned on `trainSet`. */
let evalSet: ImageSet | null = null;
let trainSet: ImageSet | null = null;

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

function offerDownload(a: Artifacts) {
  for (const u of downloadUrls) URL.revokeObjectURL(u);
  const { modelJSON, weightData } = artifactsToJSON(a, "weights.bin");
  downloadUrls = [
    URL.createObjectURL(new Blob([JSON.stringify(modelJSON)], { type: "application/json" })),
    URL.createObjectURL(new Blob([weightData], { type: "application/octet-stream" })),
  ];
  ($("dl-json") as HTMLAnchorElement).href = downloadUrls[0];
  ($("dl-bin") as HTMLAnchorElement).href = downloadUrls[1];
}

/** The model's input [height, width, channels] and class count, read from its topology (no tfjs on this thread). */
function modelIO(a: Artifacts): { input: number[] | null; classes: number | null } {
  let input: number[] | null = null, classes: number | null = null;
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object") return;
    if (Array.isArray(v)) { for (const x of v) walk(x); return; }
    const o = v as Record<string, unknown>;
    const shape = o.batch_input_shape ?? o.batchInputShape;
    if (!input && Array.isArray(shape)) input = (shape as (number | null)[]).slice(1).map(Number);
    if (typeof o.units === "number") classes = o.units; // the last Dense in layer order
    for (const x of Object.values(o)) walk(x);
  };
  walk(a.modelTopology);
  return { input, classes };
}

const share = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)}\u00a0%`);

function showScores() {
  const row = (name: string, s: Score | null, note: string) => `<tr><td>${name}</td><td>${s ? share(s.top1) : "…"}</td><td>${s ? share(s.agreement) : "…"}</td><td class="note">${note}</td></tr>`;
  const { before, compressed: c, tuned } = state.scores;
  $("scores").innerHTML = `<thead><tr><th>model</th><th>accuracy</th><th>agreement with the original</th><th class="l"></th></tr></thead><tbody>`
    + row("loaded", before, "before compression")
    + (compressed ? row("compressed", c, "right after compression") : "")
    + (state.tuned > 0 || tuned ? row("fine-tuned", tuned, "after fine-tuning in the worker") : "")
    + "</tbody>";
  $("scores").hidden = false;
}

const score = (r: EvaluateResult): Score => ({ top1: r.top1, agreement: r.agreement });

/** Evaluate `a` on the folder in the worker (agreement against `teacher` when given). */
async function scoreOn(a: Artifacts, teacher?: Artifacts): Promise<Score> {
  return score(await worker.evaluateArtifacts(a, evalSet!, {}, teacher));
}

/**
 * Labels of a picked folder as the model's classes: class folders named by integers (0/, 1/, 7/…) are those
 * output indices; other names are taken in sorted order when their count matches the model's outputs.
 * Anything else is scored by agreement only (labels dropped), and the page says so.
 */
function asModelClasses(set: ImageSet, classes: number | null): { set: ImageSet; note: string } {
  const names = set.classNames;
  if (!set.labels || !names || classes === null) return { set, note: "" };
  if (names.every((n) => /^\d+$/.test(n) && Number(n) < classes)) {
    const labels = new Uint8Array(set.count);
    for (let i = 0; i < set.count; i++) labels[i] = Number(names[set.labels[i]]);
    return { set: { ...set, labels, classes, classNames: Array.from({ length: classes }, (_, k) => String(k)) }, note: "class folders named by the model's output index" };
  }
  if (names.length === classes) return { set, note: "class folders in sorted order as the model's outputs" };
  return { set: { ...set, labels: null, classes: 0, classNames: undefined }, note: `${names.length} class folders but the model has ${classes} outputs: agreement only` };
}

async function pickFolder(files: FileList) {
  const source = (document.querySelector("input[name=source]:checked") as HTMLInputElement).value;
  const model = source === "bundled" ? bundled : uploaded;
  if (!model) throw new Error(source === "bundled" ? "the bundled model is not loaded" : "select model.json and its weight shards first");
  const io = modelIO(model);
  if (!io.input || io.input.length !== 3) throw new Error(`the model's input is [${io.input ?? "?"}]; expected an image input [height, width, channels]`);
  const [h, w, c] = io.input;
  $("folder-info").textContent = `decoding ${files.length} files…`;
  const { dataset } = await loadImageFiles(files, {
    // a quarter held out (not the library's 0.1): small picked folders still get a few images per class to score
    size: [h, w], channels: c === 1 ? 1 : 3, name: "picked folder", valSplit: 0.25,
    onProgress: (p) => { $("folder-info").textContent = `decoding ${p.done}/${p.total}…`; },
  });
  const test = asModelClasses(dataset.test, io.classes), train = asModelClasses(dataset.train, io.classes);
  // A tiny folder may hold no test split: then the scores are on the training images (and say so).
  const held = test.set.count > 0;
  evalSet = held ? test.set : train.set;
  trainSet = train.set;
  const labeled = !!evalSet.labels;
  state.folder = { evalCount: evalSet.count, trainCount: trainSet.count, labeled, classNames: dataset.train.classNames ?? null };
  $("folder-info").textContent = `${dataset.train.count + dataset.test.count} images → ${h}×${w}×${c}, `
    + (labeled ? `${dataset.train.classNames?.length ?? 0} classes (${(held ? test : train).note || "labels"})` : `unlabeled${train.note ? ` (${train.note})` : ""}: agreement with the original model`)
    + `; scored on ${evalSet.count} ${held ? "held-out" : "training (no held-out split)"} images, fine-tuned on ${trainSet.count}.`;
  state.scores = { before: null, compressed: null, tuned: null };
  showScores();
  state.scores.before = await scoreOn(model, model);
  showScores();
  if (compressed && original) { state.scores.compressed = await scoreOn(compressed, original); showScores(); }
  ($("finetune") as HTMLButtonElement).disabled = !compressed;
}

function curveSpec(points: { step: number; loss: number }[]): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 520, height: 180, title: "fine-tuning: training loss per step",
    data: { values: points },
    mark: { type: "line", point: true },
    encoding: { x: { field: "step", type: "quantitative", title: "optimizer step", axis: { tickMinStep: 1 } }, y: { field: "loss", type: "quantitative", title: "loss", scale: { zero: false } } },
  } as TopLevelSpec;
}

/** Redraw the curve at most every 400 ms (vega takes ~0.1 s on this thread) and once at the end. */
let drawing: Promise<void> | null = null, pending = false;
function drawCurve() {
  if (drawing) { pending = true; return drawing; }
  drawing = (async () => {
    do {
      pending = false;
      $("curve").innerHTML = await renderSvg(curveSpec(state.curve));
      await new Promise((r) => setTimeout(r, 400));
    } while (pending);
    drawing = null;
  })();
  return drawing;
}

async function fineTune() {
  if (!compressed || !original || !trainSet || !evalSet) { fail(new Error("pick a folder of images and compress first")); return; }
  const button = $("finetune") as HTMLButtonElement;
  button.disabled = true;
  state.busy = true;
  state.error = null;
  $("error").textContent = "";
  state.curve = [];
  const bar = $("ft-progress") as HTMLProgressElement;
  const epochs = Number(($("epochs") as HTMLSelectElement).value);
  try {
    let total = 0;
    state.ftStarted = performance.now();
    const r = await worker.finetuneArtifacts(compressed, trainSet, {
      epochs, batchSize: 16, learningRate: 5e-4, seed: 1,
      onStep: (p) => {
        total = p.epoch * p.stepsPerEpoch + p.step;
        state.curve.push({ step: total, loss: p.loss });
        bar.value = total / (epochs * p.stepsPerEpoch);
        $("ft-status").textContent = `epoch ${p.epoch + 1}/${epochs}, step ${p.step}/${p.stepsPerEpoch}, loss ${p.loss.toFixed(4)}`;
        void drawCurve();
      },
    }, original);
    await drawCurve();
    state.ftEnded = performance.now();
    state.scores.tuned = await scoreOn(r.artifacts, original);
    showScores();
    offerDownload(r.artifacts);
    $("dl-what").textContent = "fine-tuned";
    $("ft-status").textContent = `done: ${r.result.epochs.length} epoch${r.result.epochs.length === 1 ? "" : "s"}, mean loss ${r.result.epochs.at(-1)!.loss.toFixed(4)}; the downloads below are the fine-tuned model`;
    state.tuned++;
  } catch (e) {
    $("ft-status").textContent = "failed";
    fail(e);
  } finally {
    state.busy = false;
    button.disabled = false;
  }
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
    offerDownload(r.artifacts);
    $("dl-what").textContent = "compressed";
    $("results").hidden = false;
    original = input;
    compressed = r.artifacts;
    state.scores.compressed = null;
    state.scores.tuned = null;
    state.tuned = 0;
    state.curve = [];
    $("curve").innerHTML = "";
    $("ft-status").textContent = "";
    if (evalSet) {
      showScores();
      state.scores.compressed = await scoreOn(compressed, original);
      showScores();
      ($("finetune") as HTMLButtonElement).disabled = false;
    }
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
  $("folder").addEventListener("change", async () => {
    const files = ($("folder") as HTMLInputElement).files;
    if (!files?.length) return;
    state.busy = true;
    try {
      await pickFolder(files);
      $("error").textContent = "";
    } catch (e) { fail(e); } finally { state.busy = false; }
  });
  $("finetune").addEventListener("click", () => void fineTune());
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
