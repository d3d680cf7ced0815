// The CLI's commands: argument values → the public API (odecomp/models,
// odecomp/train, odecomp/data/node), results → text or JSON. No library logic here.
import type * as tfl from "@tensorflow/tfjs-layers";
import { compressArtifacts, reconstructModelArtifacts, artifactsToModel, planCompression, artifactsToJSON, readModelFolder, type ModelFolder, type CompressOptions, type RankSelection, type Plan, type Artifacts } from "../models/index.ts";
import { cliMethods, convMethodNames } from "../layers/methods/index.ts";
import { UsageError } from "./errors.ts";
import { checkOut, writeOut, type Files } from "./output.ts";
import { useBackend } from "./backend.ts";

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

// ---- option parsing helpers (usage errors → exit 2)

export interface SelectFlags { method?: string; budget?: string; ranks?: string; rankRule?: string; metric?: string; skip?: string; tucker?: string }

export function num(name: string, v: string, lo: number, hi: number, integer = false): number {
  const x = Number(v);
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
  let select: RankSelection | undefined;
  if (f.budget !== undefined) {
    const keep = Number(f.budget);
    if (!(keep > 0 && keep <= 1)) throw new UsageError(`--budget is '${f.budget}'; expected the fraction to keep, in (0, 1]`);
    const metric = f.metric ?? "params";
    if (metric !== "params" && metric !== "flops") throw new UsageError(`--metric is '${f.metric}'; expected params or flops`);
    select = { kind: "budget", keep, metric };
  } else if (f.rankRule !== undefined) {
    const [rule, arg] = f.rankRule.split(":");
    if (rule === "evbmf") select = arg === undefined ? { kind: "evbmf" } : { kind: "evbmf", weaken: num("--rank-rule evbmf:<weaken>", arg, 0, 1) };
    else if (rule === "energy") {
      if (arg === undefined) throw new UsageError("--rank-rule energy needs a threshold, e.g. energy:0.9");
      const t = Number(arg);
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
  if (f.skip !== undefined) o.skip = f.skip.split(",").map((s) => s.trim()).filter(Boolean);
  return o;
}

// ---- model folders

/** Read a model folder: model.json (Keras 3 configs normalised) and its weight shards. */
export async function loadFolder(path: string): Promise<ModelFolder> {
  return readModelFolder(path);
}

/** Build the folder's model; turn tfjs' "unknown layer" into a clear message. */
async function loadModel(folder: ModelFolder): Promise<tfl.LayersModel> {
  try {
    return await artifactsToModel(folder.artifacts);
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = /Unknown (layer|initializer|regularizer|constraint|activation)[^:]*: *([^.\s]+)/i.exec(msg);
    if (unknown) throw new Error(`${folder.file} uses ${unknown[1].toLowerCase()} '${unknown[2]}', which TensorFlow.js 4.22 cannot build (unsupported ${unknown[1].toLowerCase()}); ${msg.split("\n")[0]}`);
    throw new Error(`${folder.file} could not be loaded by TensorFlow.js: ${msg.split("\n")[0]}`);
  }
}

/** model.json + weights.bin of `a`, under `dir` (relative, "" for the top). */
export function artifactFiles(a: Artifacts, dir = ""): Files {
  const { modelJSON, weightData } = artifactsToJSON(a, "weights.bin");
  return [[`${dir}weights.bin`, new Uint8Array(weightData)], [`${dir}model.json`, JSON.stringify(modelJSON)]];
}

const planJSON = (p: Plan) => ({ select: p.select, totals: p.totals, entries: p.entries });

// ---- compress / reconstruct / inspect

export async function cmdCompress(input: string, opts: SelectFlags & { out: string; json?: boolean; force?: boolean }, io: CliIO): Promise<number> {
  const options = compressOptions(opts);
  const folder = await loadFolder(input);
  await checkOut(opts.out, [folder.file, ...folder.shards], !!opts.force);
  await useBackend("cpu");
  const model = await loadModel(folder); // clear message for layers tfjs cannot build; built once, reused
  const r = await compressArtifacts(folder.artifacts, { ...options, model }).finally(() => model.dispose());
  await writeOut(opts.out, [...artifactFiles(r.artifacts), ["plan.txt", r.report + "\n"], ["plan.json", JSON.stringify(planJSON(r.plan), null, 2)]]);
  if (opts.json) io.out(JSON.stringify({ command: "compress", input: folder.file, out: opts.out, normalized: folder.changes, plan: planJSON(r.plan) }, null, 2));
  else {
    if (folder.changes.length) io.err(`normalised Keras 3 config: ${folder.changes.join("; ")}`);
    io.out(r.report);
    io.out(`\nwrote ${opts.out}/model.json, weights.bin, plan.txt, plan.json`);
  }
  return 0;
}

export async function cmdReconstruct(input: string, opts: { out: string; json?: boolean; force?: boolean }, io: CliIO): Promise<number> {
  const folder = await loadFolder(input);
  await checkOut(opts.out, [folder.file, ...folder.shards], !!opts.force);
  await useBackend("cpu");
  (await loadModel(folder)).dispose();
  const r = await reconstructModelArtifacts(folder.artifacts);
  await writeOut(opts.out, artifactFiles(r.artifacts));
  if (opts.json) io.out(JSON.stringify({ command: "reconstruct", input: folder.file, out: opts.out, folded: r.folded, notes: r.notes }, null, 2));
  else {
    io.out(`folded ${r.folded.length} chain(s) back into their original layers`);
    for (const n of r.notes) io.out(`- ${n}`);
    io.out(`wrote ${opts.out}/model.json, weights.bin`);
  }
  return 0;
}

export async function cmdInspect(input: string, opts: SelectFlags & { json?: boolean }, io: CliIO): Promise<number> {
  const INSPECT_METHODS = ["auto", ...convMethodNames()];
  const base = compressOptions(opts);
  // Default for inspect: a 25% parameter budget (EVBMF on untrained weights keeps nothing, which says little).
  if (!base.select && !opts.ranks) base.select = { kind: "budget", keep: 0.25, metric: (opts.metric as "params" | "flops" | undefined) ?? "params" };
  const folder = await loadFolder(input);
  await useBackend("cpu");
  const model = await loadModel(folder);
  try {
    const plans: Record<string, Plan> = {};
    for (const m of INSPECT_METHODS) plans[m] = (await planCompression(model, { ...base, convMethod: m })).plan;
    const ref = plans.auto;
    const rows = ref.entries.map((e) => {
      const saves: Record<string, number> = {};
      for (const m of INSPECT_METHODS) {
        const x = plans[m].entries.find((y) => y.layer === e.layer)!;
        saves[m] = x.paramsAfter;
      }
      return { layer: e.layer, kind: e.kind, params: e.paramsBefore, flops: e.flopsBefore, paramsAfter: saves };
    });
    if (opts.json) {
      io.out(JSON.stringify({ command: "inspect", input: folder.file, normalized: folder.changes, model: { name: model.name, params: model.countParams(), layers: model.layers.length }, select: ref.select, layers: rows, totals: Object.fromEntries(INSPECT_METHODS.map((m) => [m, plans[m].totals])) }, null, 2));
      return 0;
    }
    if (folder.changes.length) io.err(`normalised Keras 3 config: ${folder.changes.join("; ")}`);
    io.out(`${folder.file}: model '${model.name}', ${model.layers.length} layers, ${model.countParams().toLocaleString("en-US")} parameters`);
    io.out(`rank rule: ${JSON.stringify(ref.select)}; columns after FLOPs: parameters each conv method would leave (Dense layers always use SVD)\n`);
    const head = ["layer", "kind", "params", "FLOPs/sample", ...INSPECT_METHODS];
    const body = rows.map((r) => [r.layer, r.kind, String(r.params), String(r.flops), ...INSPECT_METHODS.map((m) => String(r.paramsAfter[m]))]);
    body.push(["total", "", String(ref.totals.paramsBefore), String(ref.totals.flopsBefore), ...INSPECT_METHODS.map((m) => `${plans[m].totals.paramsAfter} (${(100 * plans[m].totals.paramsAfter / Math.max(1, plans[m].totals.paramsBefore)).toFixed(0)}%)`)]);
    io.out(table(head, body));
    const notes = ref.entries.filter((e) => e.note).map((e) => `- ${e.layer}: ${e.note}`);
    if (notes.length) io.out(["", "notes (auto):", ...notes].join("\n"));
    return 0;
  } finally {
    model.dispose();
  }
}

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => "| " + c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}


