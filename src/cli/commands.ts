// The CLI's commands: argument values → the public API (odecomp/models,
// odecomp/train, odecomp/data/node), results → text or JSON. No library logic here.
import type * as tfl from "@tensorflow/tfjs-layers";
import { compressArtifacts, reconstructModelArtifacts, artifactsToModel, planCompression, artifactsToJSON, readModelFolder, type ModelFolder, type CompressOptions, type RankSelection, type Plan, type Artifacts } from "../models/index.ts";
import { cliMethods, convMethodNames } from "../layers/methods/index.ts";
import { UsageError } from "./errors.ts";
import { claimOut, releaseOut, writeClaimed, type Files, type OutClaim } from "./output.ts";
import { OdecompError } from "../core/errors.ts";
import { artifactsQuantization, quantizeArtifacts, type QuantizeReport } from "../compress/artifacts.ts";
import { QUANTIZE_DTYPES, type QuantizeDtype } from "../compress/quantize.ts";
import { useBackend } from "./backend.ts";
import { lazyProgress, type LazyProgress } from "./progress.ts";
import { planJSON, type BudgetJSON, type CompressJSON, type InspectJSON } from "./schema.ts";
import { isOtherKind } from "../compress/plan.ts";
import { RANK_MULTIPLE_MAX } from "../compress/timeplan.ts";

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Sees the error behind a non-zero exit (tests check it is an OdecompError / usage error). */
  error?: (e: unknown) => void;
}

// ---- option parsing helpers (usage errors → exit 2)

export interface SelectFlags { method?: string; budget?: string; ranks?: string; rankRule?: string; rankMultiple?: string; metric?: string; skip?: string; tucker?: string; batch?: string; timing?: boolean; timingCache?: string; foldBn?: boolean }

/** The rank rule compress and inspect use when none is given (the API's default), as it is printed. */
export const DEFAULT_RULE: RankSelection = { kind: "evbmf" };
export const ruleText = (s: RankSelection | undefined, given: boolean) => `rank rule: ${JSON.stringify(s ?? DEFAULT_RULE)}${given ? "" : " (default)"}`;

/**
 * A flag's value as a number when it is written as one in plain decimal ("0.5", "-2", "1e-3"), else NaN.
 * Number() alone also takes "" and " " (as 0), "0x10", "0b1", "0o7" and "Infinity": `--at ''` switched at
 * epoch 0 and `--at 0x1` at epoch 1, both with exit 0.
 */
export function decimal(v: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) ? Number(v) : NaN;
}

export function num(name: string, v: string, lo: number, hi: number, integer = false): number {
  const x = decimal(v);
  if (!Number.isFinite(x) || x < lo || x > hi || (integer && !Number.isInteger(x))) throw new UsageError(`${name} is '${v}'; expected ${integer ? "an integer" : "a number"} in [${lo}, ${hi}]`);
  return x;
}

/** --method / --budget / --ranks / --rank-rule / --metric / --skip → CompressOptions. */
export function compressOptions(f: SelectFlags): CompressOptions {
  const o: CompressOptions = {};
  if (f.method !== undefined) {
    const names = cliMethods(); // from the method registry, so added methods are accepted
    const m = Object.hasOwn(names.aliases, f.method) ? names.aliases[f.method] : undefined;
    if (!m) throw new UsageError(`--method is '${f.method}'; expected one of ${names.listed.join(", ")}`);
    o.convMethod = m;
  }
  if (f.budget !== undefined && f.rankRule !== undefined) throw new UsageError("--budget and --rank-rule both given; expected one way to choose ranks");
  if (f.metric !== undefined && f.budget === undefined) throw new UsageError(`--metric ${f.metric} needs --budget (the fraction of ${f.metric} to keep)`);
  if (f.batch !== undefined && !(f.metric === "time" || f.timing)) throw new UsageError("--batch sets the batch size timing runs at; expected it with --metric time or --timing");
  let select: RankSelection | undefined;
  if (f.budget !== undefined) {
    const keep = decimal(f.budget);
    if (!(keep > 0 && keep <= 1)) throw new UsageError(`--budget is '${f.budget}'; expected the fraction to keep, in (0, 1]`);
    const metric = f.metric ?? "params";
    if (metric !== "params" && metric !== "flops" && metric !== "time") throw new UsageError(`--metric is '${f.metric}'; expected params, flops or time`);
    select = { kind: "budget", keep, metric };
    if (metric === "time" && f.batch !== undefined) select.batch = num("--batch", f.batch, 1, 65536, true);
  } else if (f.rankRule !== undefined) {
    const [rule, arg] = f.rankRule.split(":");
    if (rule === "evbmf") select = arg === undefined ? { kind: "evbmf" } : { kind: "evbmf", weaken: num("--rank-rule evbmf:<weaken>", arg, 0, 1) };
    else if (rule === "energy") {
      if (arg === undefined) throw new UsageError("--rank-rule energy needs a threshold, e.g. energy:0.9");
      const t = decimal(arg);
      if (!(t > 0 && t <= 1)) throw new UsageError(`--rank-rule energy threshold is '${arg}'; expected a fraction in (0, 1]`);
      select = { kind: "energy", threshold: t };
    } else if (rule === "stable") select = arg === undefined ? { kind: "stable" } : { kind: "stable", scale: num("--rank-rule stable:<scale>", arg, 1e-6, 1e6) };
    else if (rule === "full" && arg === undefined) select = { kind: "full" };
    else throw new UsageError(`--rank-rule is '${f.rankRule}'; expected evbmf, evbmf:<weaken 0..1>, energy:<threshold>, stable, stable:<scale> or full`);
  }
  if (select) o.select = select;
  if (f.tucker !== undefined) {
    if (f.tucker !== "hosvd" && f.tucker !== "hooi") throw new UsageError(`--tucker is '${f.tucker}'; expected hosvd or hooi`);
    o.decomposition = { ...o.decomposition, tucker: { method: f.tucker } };
  }
  if (f.ranks !== undefined) {
    const ranks: Record<string, number | number[]> = {};
    for (const part of f.ranks.split(",").map((s) => s.trim()).filter(Boolean)) {
      const m = /^([^=]+)=(\d+(?:[x×]\d+)*)$/.exec(part);
      if (!m) throw new UsageError(`--ranks entry '${part}' is malformed; expected layer=rank or layer=rin×rout (e.g. fc1=16,conv2=8x12)`);
      const r = m[2].split(/[x×]/).map(Number);
      ranks[m[1]] = r.length === 1 ? r[0] : r;
    }
    o.ranks = ranks;
  }
  if (f.rankMultiple !== undefined) {
    if (f.rankRule !== undefined) throw new UsageError("--rank-multiple rounds the ranks a budget picks; expected it with --budget (or the default budget of train and main), not with --rank-rule");
    o.rankMultiple = num("--rank-multiple", f.rankMultiple, 1, RANK_MULTIPLE_MAX, true);
  }
  if (f.skip !== undefined) o.skip = f.skip.split(",").map((s) => s.trim()).filter(Boolean);
  return o;
}

// ---- model folders

/** Read a model folder: model.json (Keras 3 configs normalised) and its weight shards. */
export async function loadFolder(path: string): Promise<ModelFolder> {
  return readModelFolder(path);
}

/** Build the folder's model; turn tfjs' "unknown layer" into a clear message. */
export async function loadModel(folder: ModelFolder): Promise<tfl.LayersModel> {
  try {
    return await artifactsToModel(folder.artifacts);
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    const unknown = /Unknown (layer|initializer|regularizer|constraint|activation)[^:]*: *([^.\s]+)/i.exec(msg);
    if (!unknown && e instanceof OdecompError) throw e;
    if (unknown) throw new OdecompError(`loadModel: ${folder.file} uses ${unknown[1].toLowerCase()} '${unknown[2]}', which TensorFlow.js 4.22 cannot build (unsupported ${unknown[1].toLowerCase()}); ${msg.split("\n")[0]}`);
    throw new OdecompError(`loadModel: ${folder.file} could not be loaded by TensorFlow.js: ${msg.split("\n")[0]}`);
  }
}

/** model.json + weights.bin of `a`, under `dir` (relative, "" for the top). */
export function artifactFiles(a: Artifacts, dir = ""): Files {
  const { modelJSON, weightData } = artifactsToJSON(a, "weights.bin");
  return [[`${dir}weights.bin`, new Uint8Array(weightData)], [`${dir}model.json`, JSON.stringify(modelJSON)]];
}


/**
 * Timing runs where the model will run: the wasm backend with odecomp's kernels (the cpu backend
 * otherwise, as before). --timing reports measured times at any rule; --metric time needs them.
 */
export async function timingSetUp(options: CompressOptions, f: SelectFlags, bar?: LazyProgress): Promise<(() => Promise<void>) | null> {
  const timed = f.timing || (options.select?.kind === "budget" && options.select.metric === "time");
  if (f.timingCache !== undefined && !timed) throw new UsageError("--timing-cache keeps measurements; expected it with --metric time or --timing");
  if (!timed) { await useBackend("cpu"); return null; }
  await useBackend("wasm");
  const { tfjsTimer, loadTimingCache, saveTimingCache } = await import("../models/timing.ts");
  const { CachedTimer } = await import("../compress/timecost.ts");
  const path = f.timingCache;
  const inner = tfjsTimer();
  let measured = 0;
  // Each measurement is a short tfjs run; counting them keeps the bar moving while a layer's chains are timed.
  const counted = { id: inner.id, time: (r: Parameters<typeof inner.time>[0]) => { const t = inner.time(r); bar?.text(`timing ${r.method ?? "layer"} '${r.layer.name}' (${++measured} measured)`); return t; } };
  const timer = new CachedTimer(counted, path !== undefined ? await loadTimingCache(path) : []);
  options.timing = { timer, batch: f.batch !== undefined ? num("--batch", f.batch, 1, 65536, true) : 1 };
  return path !== undefined ? () => saveTimingCache(path, timer.entries) : null;
}

// ---- compress / reconstruct / inspect

/** --quantize: how the written weights are stored (default: as the input's). */
export function quantizeFlag(v: string | undefined, input: QuantizeDtype | null): QuantizeDtype | null {
  if (v === undefined) return input;
  if (v === "none" || v === "float32") return null;
  if (!(QUANTIZE_DTYPES as readonly string[]).includes(v)) throw new UsageError(`--quantize is '${v}'; expected uint8, uint16, float16 or none`);
  return v as QuantizeDtype;
}

/** Planner errors caused by --ranks / --skip values the model rejects are usage errors (exit 2). */
export async function asUsage<T>(f: SelectFlags, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const msg = (e as Error).message ?? "";
    if ((f.ranks !== undefined || f.skip !== undefined) && e instanceof OdecompError && /(ranks|skip) names layer|takes \d+ rank|is out of range for/.test(msg)) {
      throw new UsageError(`${f.ranks !== undefined ? "--ranks" : "--skip"}: ${msg}`);
    }
    throw e;
  }
}

/** Write `a` (quantized when asked) plus extra files into the claimed folder; returns the quantization report. */
async function writeModel(claim: OutClaim, a: Artifacts, q: QuantizeDtype | null, extra: (r: QuantizeReport | null) => Files = () => []): Promise<QuantizeReport | null> {
  const qr = q ? quantizeArtifacts(a, q) : null;
  const report = qr ? qr.report : null;
  await writeClaimed(claim, [...artifactFiles(qr ? qr.artifacts : a), ...extra(report)]);
  return report;
}

export const quantLine = (r: QuantizeReport) => `weights stored as ${r.dtype} (${r.bytesAfter} bytes, ${r.bytesBefore} as float32): relative weight error ${r.relError.toExponential(2)} overall, worst ${r.maxRelError.toExponential(2)} ('${r.worst}')`;

export async function cmdCompress(input: string, opts: SelectFlags & { out: string; json?: boolean; force?: boolean; quantize?: string }, io: CliIO): Promise<number> {
  // BN folding is for compress (and inspect's preview of it), never inside training schedules
  const options = { ...compressOptions(opts), foldBatchNorm: opts.foldBn !== false };
  const folder = await loadFolder(input);
  const q = quantizeFlag(opts.quantize, artifactsQuantization(folder.artifacts));
  const claim = await claimOut(opts.out, [folder.file, ...folder.shards], !!opts.force);
  try {
    for (const n of claim.notes) io.err(`odecomp: ${n}`);
    const bar = lazyProgress("compress", { quiet: opts.json });
    const saveTimes = await timingSetUp(options, opts, bar);
    const model = await loadModel(folder); // clear message for layers tfjs cannot build; built once, reused
    options.onProgress = (p) => bar.update(p.step, p.steps, p.layer ? `${p.phase} '${p.layer}'` : p.phase);
    const r = await asUsage(opts, () => compressArtifacts(folder.artifacts, { ...options, model })).finally(() => { bar.stop(); model.dispose(); });
    await saveTimes?.();
    const quant = await writeModel(claim, r.artifacts, q, (qr) => [
      ["plan.txt", r.report + (qr ? `\n${quantLine(qr)}` : "") + "\n"],
      ["plan.json", JSON.stringify({ ...planJSON(r.plan), quantization: qr }, null, 2)],
    ]);
    if (opts.json) {
      const j: CompressJSON = { command: "compress", input: folder.file, normalized: folder.changes, plan: planJSON(r.plan), out: opts.out, quantization: quant };
      io.out(JSON.stringify(j, null, 2));
    }
    else {
      if (folder.changes.length) io.err(`normalised Keras 3 config: ${folder.changes.join("; ")}`);
      io.out(ruleText(options.select, !!(opts.budget ?? opts.rankRule)));
      io.out(r.report);
      if (quant) io.out(quantLine(quant));
      io.out(`\nwrote ${opts.out}/model.json, weights.bin, plan.txt, plan.json`);
    }
    return 0;
  } finally {
    await releaseOut(claim);
  }
}

export async function cmdReconstruct(input: string, opts: { out: string; json?: boolean; force?: boolean; quantize?: string }, io: CliIO): Promise<number> {
  const folder = await loadFolder(input);
  const q = quantizeFlag(opts.quantize, artifactsQuantization(folder.artifacts));
  const claim = await claimOut(opts.out, [folder.file, ...folder.shards], !!opts.force);
  try {
    for (const n of claim.notes) io.err(`odecomp: ${n}`);
    await useBackend("cpu");
    (await loadModel(folder)).dispose();
    const r = await reconstructModelArtifacts(folder.artifacts);
    const quant = await writeModel(claim, r.artifacts, q);
    if (opts.json) io.out(JSON.stringify({ command: "reconstruct", input: folder.file, out: opts.out, folded: r.folded, notes: r.notes, quantization: quant }, null, 2));
    else {
      io.out(`folded ${r.folded.length} chain(s) back into their original layers`);
      for (const n of r.notes) io.out(`- ${n}`);
      if (quant) io.out(quantLine(quant));
      io.out(`wrote ${opts.out}/model.json, weights.bin`);
    }
    return 0;
  } finally {
    await releaseOut(claim);
  }
}

/** The budgets inspect previews, as fractions of the metric kept. */
export const INSPECT_BUDGETS = [0.75, 0.5, 0.25];

export async function cmdInspect(input: string, opts: SelectFlags & { json?: boolean }, io: CliIO): Promise<number> {
  const INSPECT_METHODS = ["auto", ...convMethodNames()];
  const base = { ...compressOptions(opts), foldBatchNorm: opts.foldBn !== false };
  // inspect previews what compress would do: the same default rule, printed the same way.
  base.select ??= DEFAULT_RULE;
  const folder = await loadFolder(input);
  const bar = lazyProgress("inspect", { quiet: opts.json });
  const saveTimes = await timingSetUp(base, opts, bar);
  const timed = base.timing !== undefined;
  const model = await loadModel(folder);
  try {
    // one plan per conv method under the rule, then one per previewed budget (auto method, by time when measured)
    const metric: BudgetJSON["metric"] = timed ? "time" : (opts.metric as BudgetJSON["metric"] | undefined) ?? "flops";
    const steps = INSPECT_METHODS.length + INSPECT_BUDGETS.length;
    let step = 0;
    const planned = async (o: CompressOptions) => { const p = (await asUsage(opts, () => planCompression(model, o))).plan; bar.update(++step, steps, "planning"); return p; };
    const plans: Record<string, Plan> = {};
    for (const m of INSPECT_METHODS) {
      plans[m] = await planned({ ...base, convMethod: m });
      // Time the whole model once: every later plan reuses it (the same base for every column, and no re-timing).
      const g = plans[m].timing;
      if (base.timing && g && base.timing.modelTime === undefined) base.timing = { ...base.timing, modelTime: g.modelTime ?? undefined, baseTime: plans[m].totals.timeBefore };
    }
    const ref = plans[base.convMethod ?? "auto"] ?? plans.auto;
    const budgets: BudgetJSON[] = [];
    for (const keep of INSPECT_BUDGETS) {
      try {
        const p = await planned({ ...base, select: { kind: "budget", keep, metric } });
        budgets.push({ keep, metric, totals: p.totals, layers: p.entries.filter((e) => !isOtherKind(e)).map((e) => ({ layer: e.layer, method: e.action === "factorize" ? e.method : null, ranks: e.ranks })) });
      } catch (e) {
        if (!(e instanceof OdecompError)) throw e;
        budgets.push({ keep, metric, totals: null, error: e.message, layers: [] });
      }
    }
    bar.stop();
    await saveTimes?.();
    // The shares' base: the model's measured time, or the sum of its layers' own timings where those add up
    // to more. Each layer is timed alone and the model once, so on a loaded machine the parts can outweigh
    // the whole (seen: 1.47×), and shares of "the measured time" must not add up past 100 %.
    const layerTimes = ref.entries.reduce((a, e) => a + (e.timeBefore ?? 0), 0);
    const modelTime = ref.totals.timeBefore != null ? Math.max(ref.totals.timeBefore, layerTimes) : null;
    const rows = ref.entries.map((e) => ({
      layer: e.layer, kind: e.kind, params: e.paramsBefore, flops: e.flopsBefore,
      time: e.timeBefore ?? null, timeShare: modelTime && e.timeBefore != null ? e.timeBefore / modelTime : null,
      paramsAfter: Object.fromEntries(INSPECT_METHODS.map((m) => [m, plans[m].entries.find((y) => y.layer === e.layer)!.paramsAfter])),
    }));
    const stored = artifactsQuantization(folder.artifacts);
    if (opts.json) {
      const j: InspectJSON = {
        command: "inspect", input: folder.file, normalized: folder.changes, plan: planJSON(ref), quantization: stored,
        model: { name: model.name, params: model.countParams(), layers: model.layers.length }, select: ref.select, layers: rows,
        totals: Object.fromEntries(INSPECT_METHODS.map((m) => [m, plans[m].totals])), budgets,
      };
      io.out(JSON.stringify(j, null, 2));
      return 0;
    }
    if (folder.changes.length) io.err(`normalised Keras 3 config: ${folder.changes.join("; ")}`);
    io.out(`${folder.file}: model '${model.name}', ${model.layers.length} layers, ${model.countParams().toLocaleString("en-US")} parameters${stored ? ` (weights stored as ${stored}, dequantized here)` : ""}`);
    io.out(`${ruleText(opts.budget || opts.rankRule ? ref.select : undefined, !!(opts.budget ?? opts.rankRule))}`);
    io.out(timed ? `time: measured on ${ref.timing?.timer ?? "the timer"}, batch ${ref.timing?.batch ?? 1}; share of the model's measured time per layer`
      : "time: not measured (pass --timing, or --metric time, to measure each layer on the wasm backend)");
    const pct = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)}%`);
    const choice = (b: BudgetJSON, layer: string) => {
      if (b.totals === null) return "—";
      const x = b.layers.find((y) => y.layer === layer);
      return !x ? "" : x.method ? `${x.method} ${x.ranks.join("×")}` : "keep";
    };
    const bhead = budgets.map((b) => `keep ${b.keep} ${b.metric}`);
    const listed = rows.filter((_, i) => !isOtherKind(ref.entries[i]));
    io.out(`\nper layer, in model order; the 'keep' columns: the method and ranks compress would choose (--method auto) at that budget\n`);
    const head = ["layer", "kind", "time", "FLOPs/sample", "params", ...bhead];
    const body = listed.map((r) => [r.layer, r.kind, timed ? pct(r.timeShare) : "—", fmtCount(r.flops), fmtCount(r.params), ...budgets.map((b) => choice(b, r.layer))]);
    body.push(["total", "", timed && modelTime ? `${(1e3 * modelTime).toFixed(2)} ms` : "—", fmtCount(ref.totals.flopsBefore), fmtCount(ref.totals.paramsBefore),
      ...budgets.map((b) => (b.totals ? `${metric === "time" ? pct((b.totals.timeAfter ?? 0) / Math.max(1e-12, b.totals.timeBefore ?? 0)) : metric === "flops" ? pct(b.totals.flopsAfter / Math.max(1, b.totals.flopsBefore)) : pct(b.totals.paramsAfter / Math.max(1, b.totals.paramsBefore))} kept` : "not reachable"))]);
    io.out(table(head, body));
    io.out(`\nparameters each conv method would leave under the rule (Dense layers always use SVD):\n`);
    const mhead = ["layer", ...INSPECT_METHODS];
    const mbody = listed.map((r) => [r.layer, ...INSPECT_METHODS.map((m) => String(r.paramsAfter[m]))]);
    mbody.push(["total", ...INSPECT_METHODS.map((m) => `${plans[m].totals.paramsAfter} (${(100 * plans[m].totals.paramsAfter / Math.max(1, plans[m].totals.paramsBefore)).toFixed(0)}%)`)]);
    io.out(table(mhead, mbody));
    const kinds = new Map<string, number>();
    for (const e of ref.entries.filter(isOtherKind)) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
    if (kinds.size) io.out(["", "kept as they are (kinds odecomp does not factorize):", ...[...kinds].map(([k, n]) => `- ${k} × ${n}`)].join("\n"));
    const unreachable = budgets.filter((b) => b.error).map((b) => `- keep ${b.keep} ${b.metric}: ${b.error}`);
    const notes = ref.entries.filter((e) => e.note && !isOtherKind(e)).map((e) => `- ${e.layer}: ${e.note}`);
    if (notes.length || unreachable.length) io.out(["", `notes (${base.convMethod ?? "auto"}):`, ...notes, ...unreachable].join("\n"));
    return 0;
  } finally {
    bar.stop();
    model.dispose();
  }
}

const fmtCount = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(x));

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => "| " + c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}


