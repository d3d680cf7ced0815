// `odecomp evaluate`, `odecomp finetune` and `odecomp compress … --finetune <data>`:
// the user's model and data (src/data loadData) through odecomp/train's
// evaluateModel / finetune, with a progress bar, text or JSON, and atomic output.
import type * as tfl from "@tensorflow/tfjs-layers";
import * as tf from "@tensorflow/tfjs-core";
import { loadData } from "../data/node.ts";
import type { Dataset, ImageSet } from "../data/dataset.ts";
import type { LoadReport } from "../data/report.ts";
import { preprocessPresets, resolvePreprocess, type Preprocess } from "../data/preprocess.ts";
import { checkModelData, evaluateModel, modelInputSize, type EvaluateResult } from "../train/evaluate.ts";
import { finetune, type FinetuneEpoch, type FinetuneResult } from "../train/finetune.ts";
import { compressArtifacts, artifactsToModel, formatPlan, type Artifacts, type Plan } from "../models/index.ts";
import { UsageError } from "./errors.ts";
import { artifactFiles, asUsage, compressOptions, loadFolder, loadModel, num, quantizeFlag, quantLine, ruleText, table, timingSetUp, type CliIO, type SelectFlags } from "./commands.ts";
import { claimOut, releaseOut, writeClaimed, type Files } from "./output.ts";
import { planJSON } from "./schema.ts";
import { artifactsQuantization, quantizeArtifacts } from "../compress/artifacts.ts";
import { foldBatchNorm } from "../compress/bnfold.ts";
import { useBackend } from "./backend.ts";
import { lazyProgress, progress } from "./progress.ts";
import { renderSvg } from "./report.ts";

/** Data flags shared by evaluate, finetune and compress --finetune. */
export interface DataFlags {
  preprocess?: string; valSplit?: string; skipBadImages?: boolean; split?: string; backend?: string; batchSize?: string; seed?: string; quiet?: boolean; json?: boolean;
}

export interface TuneFlags extends DataFlags {
  epochs?: string; lr?: string; teacher?: string; distillAlpha?: string; temperature?: string; augment?: boolean; cacheTeacher?: boolean;
}

const SPLITS = ["test", "train", "all"] as const;

/** --preprocess (evaluate, finetune, compress --finetune, train): a preset name → Preprocess; default unit. */
export function preprocessFlag(v: string | undefined): Preprocess {
  if (v === undefined) return resolvePreprocess("unit");
  if (!Object.hasOwn(preprocessPresets, v)) throw new UsageError(`--preprocess is '${v}'; expected one of ${Object.keys(preprocessPresets).join(", ")}`);
  return resolvePreprocess(v);
}

function backendFlag(v: string | undefined): "wasm" | "cpu" {
  const b = v ?? "wasm";
  if (b !== "wasm" && b !== "cpu") throw new UsageError(`--backend is '${b}'; expected wasm or cpu`);
  return b;
}

interface Loaded { dataset: Dataset; report: LoadReport }

/** Load `spec` at the model's input size (folders are resized while decoding); channels are checked, not converted. */
async function loadFor(spec: string, model: tfl.LayersModel, f: DataFlags): Promise<Loaded> {
  const inp = modelInputSize(model);
  const valSplit = f.valSplit !== undefined ? num("--val-split", f.valSplit, 0, 0.9) : undefined;
  return loadData(spec, {
    ...(inp.height && inp.width ? { size: [inp.height, inp.width] as [number, number] } : {}),
    ...(valSplit !== undefined ? { valSplit } : {}),
    ...(f.skipBadImages ? { skipBadImages: true } : {}),
    seed: f.seed !== undefined ? num("--seed", f.seed, 0, 2 ** 31, true) : 0,
  });
}

function pickSplit(d: Dataset, split: string | undefined): ImageSet {
  const s = split ?? "test";
  if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`--split is '${s}'; expected one of ${SPLITS.join(", ")}`);
  if (s === "train") return d.train;
  if (s === "test") return d.test.count > 0 ? d.test : d.train;
  return concatSets(d.train, d.test);
}

function concatSets(a: ImageSet, b: ImageSet): ImageSet {
  if (b.count === 0) return a;
  const images = new Uint8Array(a.images.length + b.images.length);
  images.set(a.images); images.set(b.images, a.images.length);
  let labels: ImageSet["labels"] = null;
  if (a.labels && b.labels) {
    labels = a.labels instanceof Uint8Array ? new Uint8Array(a.count + b.count) : new Int32Array(a.count + b.count);
    labels.set(a.labels); labels.set(b.labels, a.count);
  }
  return { ...a, images, labels, count: a.count + b.count };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);

/** One line per metric; the main figure is accuracy with labels, else agreement with the teacher. */
function describe(r: EvaluateResult): string {
  const parts = [];
  if (r.top1 !== null) parts.push(`top-1 ${pct(r.top1)}`);
  if (r.top5 !== null) parts.push(`top-5 ${pct(r.top5)}`);
  if (r.loss !== null) parts.push(`loss ${r.loss.toFixed(4)}`);
  if (r.agreement !== null) parts.push(`agreement ${pct(r.agreement)}`);
  return parts.join(", ");
}

const headline = (r: EvaluateResult | null) => (r ? r.top1 ?? r.agreement : null);

/** The load report as recorded in every command's JSON and output files. */
export const dataJSON = (rep: LoadReport) => ({ source: rep.source, path: rep.path, split: rep.split, labeled: rep.labeled, counts: rep.counts, classes: rep.classes, classNames: rep.classNames, height: rep.height, width: rep.width, channels: rep.channels, skipped: rep.skipped.length, resized: rep.resized });

function dataLine(spec: string, rep: LoadReport, set: ImageSet): string {
  const extra = [rep.resized ? `${rep.resized} resized` : "", rep.skipped.length ? `${rep.skipped.length} unreadable skipped` : ""].filter(Boolean).join(", ");
  return `data ${spec}: ${set.count} images ${set.height}×${set.width}×${set.channels}, ${rep.labeled ? `${set.classes} classes` : "unlabeled"}${extra ? ` (${extra})` : ""}`;
}

/** The load report line of the training commands (finetune, compress --finetune, train): train / test counts and the preprocessing. */
export function loadLine(spec: string, rep: LoadReport, d: Dataset, preprocess: Preprocess): string {
  return dataLine(spec, rep, d.train) + ` (train) / ${d.test.count} (test); preprocess ${preprocess.kind}`;
}

async function withModels<T>(paths: (string | undefined)[], fn: (models: (tfl.LayersModel | undefined)[]) => Promise<T>): Promise<T> {
  const models: (tfl.LayersModel | undefined)[] = [];
  try {
    for (const p of paths) models.push(p === undefined ? undefined : await loadModel(await loadFolder(p)));
    return await fn(models);
  } finally {
    for (const m of models) m?.dispose();
  }
}

/** A progress bar over images: ETA and images/s. */
function imageBar(total: number, title: string, f: DataFlags) {
  const bar = progress(total, title, { quiet: f.quiet || f.json });
  const t0 = performance.now();
  return {
    update(done: number, text = "") {
      const s = (performance.now() - t0) / 1000;
      bar.update(done, `${(done / Math.max(s, 1e-9)).toFixed(0)} img/s ${text}`.trim());
    },
    stop: () => bar.stop(),
  };
}

// ---- evaluate

export async function cmdEvaluate(modelPath: string, f: DataFlags & { data: string; teacher?: string }, io: CliIO): Promise<number> {
  const preprocess = preprocessFlag(f.preprocess);
  const backend = backendFlag(f.backend);
  const batchSize = f.batchSize !== undefined ? num("--batch-size", f.batchSize, 1, 65536, true) : 256;
  if (f.split !== undefined) pickSplit({ name: "", train: emptySet(), test: emptySet() }, f.split); // usage check before any work
  await useBackend(backend);
  return withModels([modelPath, f.teacher], async ([model, teacher]) => {
    const { dataset, report } = await loadFor(f.data, model!, f);
    const set = pickSplit(dataset, f.split);
    const bar = imageBar(set.count, "evaluate".padEnd(10), f);
    let r: EvaluateResult;
    try {
      r = await evaluateModel(model!, set, { preprocess, teacher, batchSize, modelName: `model ${modelPath}`, dataName: `data ${f.data}`, onProgress: (p) => bar.update(p.done) });
    } finally { bar.stop(); }
    if (f.json) {
      io.out(JSON.stringify({ command: "evaluate", model: modelPath, teacher: f.teacher, data: { spec: f.data, evaluated: f.split ?? "test", ...dataJSON(report) }, ...r }, null, 2));
      return 0;
    }
    io.out(dataLine(f.data, report, set) + `; preprocess ${preprocess.kind}`);
    io.out(`${modelPath}: ${describe(r)}`);
    if (r.perClass) io.out("\n" + table(["class", "images", "top-1"], r.perClass.map((c) => [c.name, String(c.count), pct(c.accuracy)])));
    return 0;
  });
}

function emptySet(): ImageSet {
  return { images: new Uint8Array(0), labels: null, count: 0, height: 1, width: 1, channels: 1, classes: 0 };
}

// ---- finetune (shared by `finetune` and `compress --finetune`)

interface TuneSettings { epochs: number; lr: number; batchSize: number; seed: number; alpha?: number; temperature?: number; augment: boolean; preprocess: Preprocess; cacheTeacher: boolean }

function tuneSettings(f: TuneFlags, defaultEpochs: number): TuneSettings {
  return {
    epochs: f.epochs !== undefined ? num("--epochs", f.epochs, 0, 10000, true) : defaultEpochs,
    lr: f.lr !== undefined ? num("--lr", f.lr, 1e-8, 10) : 1e-4,
    batchSize: f.batchSize !== undefined ? num("--batch-size", f.batchSize, 1, 65536, true) : 32,
    seed: f.seed !== undefined ? num("--seed", f.seed, 0, 2 ** 31, true) : 0,
    alpha: f.distillAlpha !== undefined ? num("--distill-alpha", f.distillAlpha, 0, 1) : undefined,
    temperature: f.temperature !== undefined ? num("--temperature", f.temperature, 1e-3, 1000) : undefined,
    augment: !!f.augment, preprocess: preprocessFlag(f.preprocess), cacheTeacher: !!f.cacheTeacher,
  };
}

async function runFinetune(student: tfl.LayersModel, teacher: tfl.LayersModel | undefined, data: Dataset, s: TuneSettings, f: DataFlags, names: { model: string; data: string }, test = data.test.count > 0 ? data.test : undefined): Promise<FinetuneResult> {
  const train = data.train;
  const total = s.epochs * train.count;
  const bar = imageBar(Math.max(total, 1), "finetune".padEnd(10), f);
  checkModelData(student, train, "finetune", { model: `model ${names.model}`, data: `data ${names.data}` });
  if (teacher) checkModelData(teacher, train, "finetune", { model: "the teacher", data: `data ${names.data}` });
  try {
    return await finetune(student, train, {
      epochs: s.epochs, batchSize: s.batchSize, learningRate: s.lr, seed: s.seed, preprocess: s.preprocess, augment: s.augment,
      teacher, alpha: s.alpha, temperature: s.temperature, cacheTeacher: s.cacheTeacher, test,
      onStep: (p) => bar.update(p.epoch * train.count + p.images, `epoch ${p.epoch + 1}/${s.epochs}`),
    });
  } finally {
    bar.stop();
  }
}

const epochJSON = (e: FinetuneEpoch) => ({ epoch: e.epoch, loss: e.loss, seconds: e.seconds, imagesPerSecond: e.imagesPerSecond, top1: e.eval?.top1 ?? null, agreement: e.eval?.agreement ?? null });

function curveRows(before: number | null, right: number | null, epochs: FinetuneEpoch[], label: string): string[][] {
  const rows: string[][] = [];
  if (before !== null) rows.push(["original", pct(before)]);
  if (right !== null) rows.push([label, pct(right)]);
  for (const e of epochs) rows.push([`epoch ${e.epoch}`, pct(headline(e.eval))]);
  return rows;
}

export async function cmdFinetune(modelPath: string, f: TuneFlags & { data: string; out: string; force?: boolean }, io: CliIO): Promise<number> {
  const s = tuneSettings(f, 1);
  const backend = backendFlag(f.backend);
  const folder = await loadFolder(modelPath);
  // the same --out claim as compress: held before any work, removed again if the run fails
  const claim = await claimOut(f.out, [folder.file, ...folder.shards, ...(f.teacher !== undefined ? [f.teacher] : [])], !!f.force);
  try {
    for (const n of claim.notes) io.err(`odecomp: ${n}`);
    await useBackend(backend);
    return await withModels([modelPath, f.teacher], async ([model, teacher]) => {
      const { dataset, report } = await loadFor(f.data, model!, f);
      if (!f.json && !f.quiet) io.err(loadLine(f.data, report, dataset, s.preprocess));
      const r = await runFinetune(model!, teacher, dataset, s, f, { model: modelPath, data: f.data });
      const summary = { command: "finetune", model: modelPath, teacher: f.teacher ?? null, data: { spec: f.data, ...dataJSON(report) }, preprocess: s.preprocess, mode: r.mode, recalibratedBatchNorm: r.recalibratedBatchNorm, settings: { epochs: s.epochs, lr: s.lr, batchSize: s.batchSize, seed: s.seed, alpha: s.alpha ?? null, temperature: s.temperature ?? null, augment: s.augment }, before: r.before, final: r.final, epochs: r.epochs.map(epochJSON), seconds: r.seconds };
      const { modelToArtifacts } = await import("../models/index.ts");
      const files: Files = [...artifactFiles(await modelToArtifacts(model!)), ["finetune.json", JSON.stringify(summary, null, 2)]];
      await writeClaimed(claim, files);
      if (f.json) io.out(JSON.stringify({ ...summary, out: f.out }, null, 2));
      else {
        io.out(table(["step", r.before?.top1 !== null && r.before?.top1 !== undefined ? "top-1" : "agreement"], curveRows(headline(r.before), null, r.epochs, "")));
        io.out(`\n${r.mode}, ${r.seconds.toFixed(1)} s; final: ${r.final ? describe(r.final) : "–"}`);
        io.out(`wrote ${f.out.replace(/\/+$/, "")}/model.json, weights.bin, finetune.json`);
      }
      return 0;
    });
  } finally {
    await releaseOut(claim);
  }
}

// ---- compress --finetune: compress, then recover by distillation from the original

/**
 * Plain compress's path (src/cli/commands.ts cmdCompress) with a recovery step between compressing and
 * writing: the same --out claim (validated and held before any work, released on failure, the result
 * written atomically), BatchNorm folded (unless --no-fold-bn) and --quantize (default: as the input),
 * both applied to the *recovered* model; the model as written is evaluated again when they change it.
 *
 * BN is folded after recovery, not before compressing as plain compress does: fine-tuning keeps the BN
 * layers in training mode, where they re-normalize each chain's output with batch statistics (absorbing
 * the shift the factorization puts on every channel) and keep the convs scale-invariant under Adam, and
 * finetune() re-estimates their moving statistics after each epoch (src/train/recalibrate.ts). Folding
 * afterwards is exact in inference. Measured on the reference ResNet (7 BN layers, momentum 0.99;
 * Fashion-MNIST, 2,000 training / 500 test images, 77.6 %), one epoch at lr 1e-3: at budget 0.5, 79.2 %
 * kept-then-folded vs 70.4 % folded first (plain compress, then finetune); at 0.3, 68.4 % vs 38.0 %. On
 * the test CNN (2 BN layers, 96 images) the folded student stayed at chance (25 %) at every lr from 1e-4
 * to 3e-3. The plan is made on the unfolded kernels (as with --no-fold-bn).
 */
export async function cmdCompressFinetune(input: string, f: SelectFlags & TuneFlags & { out: string; force?: boolean; finetune: string; quantize?: string }, io: CliIO): Promise<number> {
  const fold = f.foldBn !== false;
  const options = compressOptions(f);
  const s = tuneSettings(f, 1);
  const backend = backendFlag(f.backend);
  const folder = await loadFolder(input);
  const q = quantizeFlag(f.quantize, artifactsQuantization(folder.artifacts));
  const claim = await claimOut(f.out, [folder.file, ...folder.shards], !!f.force);
  try {
    for (const n of claim.notes) io.err(`odecomp: ${n}`);
    // --timing / --metric time measure where the model will run: the wasm backend, which then also trains
    const bar = lazyProgress("compress", { quiet: f.json || f.quiet });
    const saveTimes = await timingSetUp(options, f, bar);
    if (options.timing && backend !== "wasm") throw new UsageError(`--backend ${backend} with ${f.timing ? "--timing" : "--metric time"}: timing measures on the wasm backend; expected --backend wasm`);
    await useBackend(backend);
    options.onProgress = (p) => bar.update(p.step, p.steps, p.layer ? `${p.phase} '${p.layer}'` : p.phase);
    return await withModels([input], async ([original]) => {
      const { dataset, report } = await loadFor(f.finetune, original!, f);
      const test = dataset.test.count > 0 ? dataset.test : dataset.train;
      const log = (m: string) => { if (!f.quiet && !f.json) io.err(m); };
      log(loadLine(f.finetune, report, dataset, s.preprocess));
      // before compression: accuracy with labels (fails early on a model/data mismatch, before compressing)
      const evalOpts = { preprocess: s.preprocess, modelName: `model ${input}`, dataName: `data ${f.finetune}` };
      const before = await evaluateModel(original!, test, { ...evalOpts, ...(test.labels ? {} : { teacher: original }) });
      const r = await asUsage(f, () => compressArtifacts(folder.artifacts, { ...options, model: original! })).finally(() => bar.stop());
      await saveTimes?.();
      const student = await artifactsToModel(r.artifacts);
      try {
        const tuned = await runFinetune(student, original, dataset, s, f, { model: input, data: f.finetune }, test);
        const { modelToArtifacts } = await import("../models/index.ts");
        const recovered = await modelToArtifacts(student);
        const bn = fold ? foldBatchNorm(recovered) : null;
        const folded = bn && bn.folded.length ? bn.folded.map(({ batchNorm, into }) => ({ batchNorm, into })) : null;
        // the plan as plain compress reports a folded model: no BN entries, parameters of the folded models
        const foldedNames = new Set(folded?.map((x) => x.batchNorm));
        const plan: Plan = folded
          ? { ...r.plan, foldedBatchNorm: folded, entries: r.plan.entries.filter((e) => !foldedNames.has(e.layer)), totals: { ...r.plan.totals, paramsBefore: paramCount(foldBatchNorm(folder.artifacts).artifacts), paramsAfter: paramCount(bn!.artifacts) } }
          : r.plan;
        // --quantize stores the recovered (folded) weights; what is written is evaluated as it will be loaded.
        const qr = q ? quantizeArtifacts(bn ? bn.artifacts : recovered, q) : null;
        const written = qr ? qr.artifacts : bn ? bn.artifacts : recovered;
        let stored = tuned.final;
        if (written !== recovered) {
          const m = await artifactsToModel(written);
          try { stored = await evaluateModel(m, test, { ...evalOpts, modelName: "the written model", teacher: original }); } finally { m.dispose(); }
        }
        const labeled = before.top1 !== null;
        const metric = labeled ? "top-1 accuracy" : "top-1 agreement with the original";
        const curve = [
          { step: "original", epoch: -1, value: headline(before)! },
          { step: "compressed", epoch: 0, value: headline(tuned.before)! },
          ...tuned.epochs.map((e) => ({ step: `epoch ${e.epoch}`, epoch: e.epoch, value: headline(e.eval)! })),
        ];
        const quantization = qr ? qr.report : null;
        const recovery = { data: { spec: f.finetune, ...dataJSON(report) }, preprocess: s.preprocess, metric, mode: tuned.mode, recalibratedBatchNorm: tuned.recalibratedBatchNorm, settings: { epochs: s.epochs, lr: s.lr, batchSize: s.batchSize, seed: s.seed, alpha: s.alpha ?? null, temperature: s.temperature ?? null, augment: s.augment }, before, afterCompression: tuned.before, epochs: tuned.epochs.map(epochJSON), final: tuned.final, written: stored, curve, seconds: tuned.seconds };
        const rows = curve.map((c) => [c.step, pct(c.value)]);
        const writtenAs = [folded ? "BN folded" : "", qr ? qr.report.dtype : ""].filter(Boolean).join(", ");
        if (writtenAs) rows.push([`written (${writtenAs})`, pct(headline(stored))]);
        const bnText = tuned.recalibratedBatchNorm ? `; BatchNorm statistics of ${tuned.recalibratedBatchNorm} layer(s) re-estimated after each epoch` : "";
        const curveText = [`recovery on ${f.finetune} (${test.count} test images, ${metric}, ${tuned.mode}, preprocess ${s.preprocess.kind}${bnText}):`, table(["step", metric], rows)].join("\n");
        const planText = `${formatPlan(plan)}${qr ? `\n${quantLine(qr.report)}` : ""}\n\n${curveText}\n`;
        const planJ = { ...planJSON(plan), quantization, recovery };
        await writeClaimed(claim, [
          ...artifactFiles(written),
          ["plan.txt", planText],
          ["plan.json", JSON.stringify(planJ, null, 2)],
          ["report.html", await recoveryReport(input, plan, curve, metric, recovery.settings, s.preprocess, writtenAs ? `The model as written (${writtenAs}): ${metric} ${pct(headline(stored))} (after the last epoch: ${pct(headline(tuned.final))}).` : "")],
        ]);
        if (f.json) io.out(JSON.stringify({ command: "compress", input: folder.file, normalized: folder.changes, plan: planJ, out: f.out, quantization }, null, 2));
        else {
          if (folder.changes.length) io.err(`normalised Keras 3 config: ${folder.changes.join("; ")}`);
          io.out(ruleText(options.select, !!(f.budget ?? f.rankRule)));
          io.out(formatPlan(plan));
          if (qr) io.out(quantLine(qr.report));
          io.out(`\n${curveText}`);
          io.out(`\nwrote ${f.out.replace(/\/+$/, "")}/model.json, weights.bin, plan.txt, plan.json, report.html`);
        }
        return 0;
      } finally {
        student.dispose();
      }
    });
  } finally {
    await releaseOut(claim);
  }
}

/** Weights stored in `a` (every weight, as plan totals count them). */
const paramCount = (a: Artifacts) => (a.weightSpecs ?? []).reduce((n, w) => n + w.shape.reduce((x, y) => x * y, 1), 0);

const esc = (x: string) => x.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function recoveryReport(input: string, plan: Plan, curve: { step: string; epoch: number; value: number }[], metric: string, settings: object, preprocess: Preprocess, note = ""): Promise<string> {
  const svg = await renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json", width: 480, height: 260,
    data: { values: curve.map((c) => ({ ...c, percent: 100 * c.value })) },
    layer: [
      { mark: { type: "line", point: true }, encoding: { x: { field: "epoch", type: "quantitative", title: "fine-tuning epoch (−1 = original, 0 = right after compression)", axis: { tickMinStep: 1 } }, y: { field: "percent", type: "quantitative", title: `${metric} (%)`, scale: { zero: false } }, tooltip: [{ field: "step" }, { field: "percent", format: ".2f" }] } },
      { mark: { type: "text", dy: -10 }, encoding: { x: { field: "epoch", type: "quantitative" }, y: { field: "percent", type: "quantitative" }, text: { field: "percent", format: ".1f" } } },
    ],
  } as never);
  return `<!doctype html><html><head><meta charset="utf-8"><title>odecomp: compress and recover ${esc(input)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>
<h1>Compress and recover: ${esc(input)}</h1>
<p>${esc(metric)} before compression, right after, and after each fine-tuning epoch (distillation from the original${metric.startsWith("top-1 acc") ? " mixed with the labels" : ", label-free"}). Preprocessing: <code>${esc(JSON.stringify(preprocess))}</code>; settings: <code>${esc(JSON.stringify(settings))}</code>.</p>
${svg}
${note ? `<p>${esc(note)}</p>\n` : ""}<h2>Plan</h2><pre>${esc(formatPlan(plan))}</pre>
<p>Generated ${new Date().toISOString()} on the tfjs ${esc(tf.getBackend())} backend.</p></body></html>\n`;
}
