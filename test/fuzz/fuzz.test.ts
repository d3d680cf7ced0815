// Seeded fuzz suite over the model readers and the CLI (issue 13): corrupted model.json (field deletions,
// type swaps, shape permutations, dtype changes, quantization fields), shard mutations (truncate, extend,
// bit flips, path rewrites, links) and flag combinations, drawn from a fixed seed so a failure reproduces
// (ODECOMP_FUZZ_SEED / ODECOMP_FUZZ_CASES override; the failing case's number and recipe are printed).
// Every case must end in success or an OdecompError / usage error with exit 1 / 2 — never another error
// type, a hang, a read outside the model folder, partial output, or a written model predicting
// non-finite values where the input did not. Most cases run through the in-process CLI entry (main) or
// the artifacts API; a handful through the real binary.
import { rng as seededRng } from "../helpers/random.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { CommanderError } from "commander";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OdecompError } from "../../src/core/errors.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { quantizeArtifacts } from "../../src/compress/artifacts.ts";
import { artifactsFromJSON, artifactsToJSON, compressArtifacts, fileSystem } from "../../src/models/index.ts";
import { loadStock, tmp } from "../cli/helpers.ts";

const SEED = Number(process.env.ODECOMP_FUZZ_SEED ?? 20261130);
const CASES = Number(process.env.ODECOMP_FUZZ_CASES ?? 520);
const BINARY_CASES = 2;
const root = fileURLToPath(new URL("../../", import.meta.url));

/** The project's seeded mulberry32 (test/helpers/random.ts), with the picks the mutations use. */
function rng(seed: number) {
  const next = seededRng(seed);
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}
type R = ReturnType<typeof rng>;

const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
const MODELS: Record<string, { build: () => tfl.LayersModel; input: number[]; layers: string[] }> = {
  mlp: {
    build: () => tfl.sequential({ name: "mlp", layers: [
      tfl.layers.dense({ name: "d1", inputShape: [8], units: 6, activation: "relu", kernelInitializer: init(1) }),
      tfl.layers.dense({ name: "d2", units: 4, activation: "softmax", kernelInitializer: init(2) }),
    ] }),
    input: [2, 8], layers: ["d1", "d2"],
  },
  cnn: {
    build: () => tfl.sequential({ name: "cnn", layers: [
      tfl.layers.conv2d({ name: "c1", inputShape: [6, 6, 2], filters: 4, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(3) }),
      tfl.layers.flatten({ name: "fl" }),
      tfl.layers.dense({ name: "d", units: 3, kernelInitializer: init(4) }),
    ] }),
    input: [2, 6, 6, 2], layers: ["c1", "d"],
  },
};

interface Base { name: string; dir: string; input: number[]; layers: string[] }
const bases: Base[] = [];
let work: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = tmp("odecomp-fuzz-");
  for (const [name, m] of Object.entries(MODELS)) {
    const dir = join(work, `base-${name}`);
    const model = m.build();
    await model.save(fileSystem(dir));
    model.dispose();
    bases.push({ name, dir, input: m.input, layers: m.layers });
    // the same model stored uint8-quantized, as the converter writes it
    const j = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    const q = quantizeArtifacts(artifactsFromJSON(j, readFileSync(join(dir, "weights.bin"))), "uint8").artifacts;
    const qdir = join(work, `base-${name}-u8`);
    mkdirSync(qdir);
    const { modelJSON, weightData } = artifactsToJSON(q, "group1-shard1of1.bin");
    writeFileSync(join(qdir, "model.json"), JSON.stringify(modelJSON));
    writeFileSync(join(qdir, "group1-shard1of1.bin"), new Uint8Array(weightData));
    bases.push({ name: `${name}-u8`, dir: qdir, input: m.input, layers: m.layers });
  }
});

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

// ---- mutations -----------------------------------------------------------------------------

const ODD = [null, 0, -1, 1.5, "x", "", [], {}, true, 1e300, 2 ** 31, [1, 2], { a: 1 }];

/** Every [container, key] under `v` (objects and arrays), depth-first. */
function slots(v: unknown, out: [Record<string | number, unknown>, string | number][] = []) {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([v as Record<string | number, unknown>, key]);
      slots((v as Record<string, unknown>)[k], out);
    }
  }
  return out;
}

function mutateJSON(r: R, j: any, log: string[]): void {
  const specs = j.weightsManifest?.[0]?.weights ?? [];
  const kind = r.pick(["delete", "swap", "shape", "dtype", "quant", "delete", "swap"] as const);
  const inManifest = r.next() < 0.5;
  const all = slots(inManifest ? j.weightsManifest : j);
  if (kind === "shape" && specs.length) {
    const s = r.pick(specs as any[]);
    const how = r.pick(["reverse", "plus", "minus", "neg", "drop", "add1"]);
    if (how === "reverse") s.shape = [...s.shape].reverse();
    else if (how === "plus") s.shape[r.int(s.shape.length)] += 1;
    else if (how === "minus") s.shape[r.int(s.shape.length)] -= 1;
    else if (how === "neg") s.shape[r.int(s.shape.length)] = -3;
    else if (how === "drop") s.shape.pop();
    else s.shape.push(1);
    log.push(`shape ${s.name} ${how} → ${JSON.stringify(s.shape)}`);
  } else if (kind === "dtype" && specs.length) {
    const s = r.pick(specs as any[]);
    s.dtype = r.pick(["int32", "float16", "bool", "string", "uint8", "complex64", "", 7]);
    log.push(`dtype ${s.name} → ${JSON.stringify(s.dtype)}`);
  } else if (kind === "quant" && specs.length) {
    const s = r.pick(specs as any[]);
    s.quantization = r.pick([{ dtype: "uint8", scale: 0.01, min: -1 }, { dtype: "uint16", scale: 1e-4, min: 0 }, { dtype: "float16" }, { dtype: "int4" }, { dtype: "uint8" }, { dtype: "uint8", scale: NaN, min: 0 }, "uint8", null]);
    log.push(`quantization ${s.name} → ${JSON.stringify(s.quantization)}`);
  } else if (all.length) {
    const [c, k] = r.pick(all);
    if (kind === "delete") {
      if (Array.isArray(c)) c.splice(k as number, 1); else delete c[k];
      log.push(`delete ${inManifest ? "manifest" : "json"}…${String(k)}`);
    } else {
      c[k] = structuredClone(r.pick(ODD));
      log.push(`swap ${inManifest ? "manifest" : "json"}…${String(k)} → ${JSON.stringify(c[k])}`);
    }
  }
}

/** Shard mutations; returns true when the manifest now points outside the folder (the case must fail). */
function mutateShards(r: R, dir: string, j: any, log: string[]): boolean {
  const shard = j.weightsManifest[0].paths[0];
  const p = join(dir, shard);
  const b = readFileSync(p);
  const kind = r.pick(["truncate", "extend", "flip", "flip", "path", "link"] as const);
  if (kind === "truncate") { const n = r.int(b.byteLength); writeFileSync(p, b.subarray(0, n)); log.push(`truncate to ${n}`); }
  else if (kind === "extend") { const n = 1 + r.int(9); writeFileSync(p, Buffer.concat([b, Buffer.alloc(n, 7)])); log.push(`extend by ${n}`); }
  else if (kind === "flip") {
    const flips = 1 + r.int(4);
    for (let i = 0; i < flips; i++) { const bit = r.int(8 * b.byteLength); b[bit >> 3] ^= 1 << (bit & 7); }
    writeFileSync(p, b);
    log.push(`flip ${flips} bits`);
  } else if (kind === "path") {
    // the real shard copied outside the folder: reading it would "work", so only the confinement stops it
    cpSync(p, join(dir, "..", "outside.bin"));
    const to = r.pick(["../outside.bin", join(dir, "..", "outside.bin"), `sub/../../outside.bin`, "../../../../../../../etc/passwd", "", ".", "..", "/"]);
    j.weightsManifest[0].paths[0] = to;
    log.push(`path → ${JSON.stringify(to)}`);
    return true;
  } else {
    cpSync(p, join(dir, "..", "outside.bin"));
    rmSync(p);
    symlinkSync(join(dir, "..", "outside.bin"), p);
    log.push("shard is a symlink out of the folder");
    return true;
  }
  return false;
}

function flags(r: R, base: Base, log: string[]): string[] {
  const f: string[] = [];
  const roll = (p: number) => r.next() < p;
  if (roll(0.5)) f.push("--budget", String(r.pick([0.5, 0.25, 1, 0.05, 0, -1, 2, "abc", "1e-9"])));
  if (roll(0.2)) f.push("--rank-rule", r.pick(["evbmf", "evbmf:0.5", "energy:0.9", "energy", "full", "nope", "energy:2"]));
  if (roll(0.3)) f.push("--ranks", r.pick([`${base.layers[0]}=2`, `${base.layers[1]}=1`, `${base.layers[0]}=0`, `${base.layers[0]}=999`, `${base.layers[0]}=2x2`, "ghost=3", "=", `${base.layers[0]}=1x1x1`]));
  if (roll(0.2)) f.push("--skip", r.pick([base.layers[0], "ghost", "", `${base.layers[0]},${base.layers[1]}`]));
  if (roll(0.3)) f.push("--method", r.pick(["tucker2", "cp", "svd", "spatial", "channel", "tucker1", "auto", "bogus"]));
  if (roll(0.1)) f.push("--metric", r.pick(["params", "flops", "joules"]));
  if (roll(0.1)) f.push("--tucker", r.pick(["hosvd", "hooi", "x"]));
  if (roll(0.25)) f.push("--quantize", r.pick(["uint8", "uint16", "float16", "none", "int4"]));
  if (roll(0.1)) f.push("--threads", r.pick(["1", "auto", "0", "x"]));
  if (roll(0.3)) f.push("--json");
  if (roll(0.05)) f.push("--unknown-flag");
  log.push(`flags ${f.join(" ")}`);
  return f;
}

// ---- oracle --------------------------------------------------------------------------------

function finitePredictions(m: tfl.LayersModel, shape: number[]): boolean {
  return tf.tidy(() => Array.from((m.predict(tf.randomUniform(shape, 0, 1, "float32", 3)) as tf.Tensor).dataSync()).every(Number.isFinite));
}

const clearError = (e: unknown) => e instanceof OdecompError || e instanceof UsageError || e instanceof CommanderError;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error(`hang: ${what} took more than ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(t);
  }
}

let lastWhat = "";
interface Outcome { ok: boolean; code: number; error?: unknown; via: string }

async function runCase(i: number, tally: Record<string, number>): Promise<boolean> {
  const r = rng(SEED * 1000003 + i);
  const base = r.pick(bases);
  const caseDir = join(work, `case-${i}`);
  const dir = join(caseDir, "model");
  mkdirSync(caseDir);
  cpSync(base.dir, dir, { recursive: true });
  const j = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const log: string[] = [`case ${i} (seed ${SEED}) on ${base.name}`];
  const family = r.pick(["json", "json", "shards", "shards", "flags", "flags", "api"] as const);
  let escapes = false;
  if (family === "json") mutateJSON(r, j, log);
  else if (family === "shards" || family === "api") { escapes = mutateShards(r, dir, j, log); if (r.next() < 0.3) mutateJSON(r, j, log); }
  writeFileSync(join(dir, "model.json"), r.next() < 0.03 ? JSON.stringify(j).slice(0, r.int(200)) : JSON.stringify(j));
  const what = log.join("; ");
  lastWhat = what;

  let outcome: Outcome;
  const out = join(caseDir, "out");
  if (family === "api") {
    // artifacts API: the bytes as a Buffer view (pooled for small shards)
    let error: unknown;
    try {
      const shard = j.weightsManifest?.[0]?.paths?.[0];
      const bytes = typeof shard === "string" && !escapes && existsSync(join(dir, shard)) && !shard.includes("..") ? readFileSync(join(dir, shard)) : Buffer.alloc(0);
      const a = artifactsFromJSON(readFileSync(join(dir, "model.json"), "utf8"), bytes);
      const res = await withTimeout(compressArtifacts(a, { select: { kind: "budget", keep: 0.5 } }), 30000, what);
      const m = await tfl.loadLayersModel(tf.io.fromMemory(res.artifacts as tf.io.ModelArtifacts));
      expect(finitePredictions(m, base.input) || !(await inputFinite(dir, base.input)), `non-finite output model: ${what}`).toBe(true);
      m.dispose();
    } catch (e) {
      if ((e as Error)?.message?.startsWith("hang:") || (e as Error)?.message?.startsWith("non-finite")) throw e;
      error = e;
    }
    outcome = { ok: error === undefined, code: error === undefined ? 0 : 1, error, via: "api" };
  } else {
    const cmd = family === "flags" ? r.pick(["compress", "compress", "compress", "inspect", "reconstruct"]) : r.pick(["compress", "compress", "inspect"]);
    const argv = [cmd, r.next() < 0.5 ? dir : join(dir, "model.json"), ...(cmd === "inspect" ? [] : ["--out", out]), ...(family === "flags" ? flags(r, base, log) : r.next() < 0.3 ? ["--budget", "0.5"] : [])];
    let error: unknown, err = "";
    const code = await withTimeout(main(argv, { out: () => {}, err: (s) => { err += s + "\n"; }, error: (e) => { error = e; } }), 30000, what + " " + argv.join(" "));
    outcome = { ok: code === 0, code, error, via: "cli" };
    if (code !== 0) {
      expect([1, 2], `exit ${code}: ${what}\n${err}`).toContain(code);
      expect(err, `no message: ${what}`).toMatch(/\S/);
    }
    // no partial output: either the complete folder, or nothing at all next to the input
    const left = readdirSync(caseDir).filter((f) => f !== "model" && f !== "outside.bin");
    if (cmd !== "inspect" && code === 0) {
      expect(left, what).toEqual(["out"]);
      expect(readdirSync(out).sort(), what).toEqual(cmd === "compress" ? ["model.json", "plan.json", "plan.txt", "weights.bin"] : ["model.json", "weights.bin"]);
      const m = await loadStock(out);
      const fine = finitePredictions(m, base.input);
      m.dispose();
      if (!fine) expect(await inputFinite(dir, base.input), `written model predicts non-finite values, the input does not: ${what}`).toBe(false);
    } else {
      expect(left, `partial output after exit ${code}: ${what}`).toEqual([]);
    }
  }
  if (!outcome.ok) expect(clearError(outcome.error), `not a clear error (${(outcome.error as Error)?.stack}): ${what}`).toBe(true);
  if (escapes) expect(outcome.ok, `read a shard outside the model folder: ${what}`).toBe(false);
  const key = outcome.ok ? `${outcome.via} ok` : `${outcome.via} ${outcome.error instanceof OdecompError ? "OdecompError" : (outcome.error as Error)?.name} (exit ${outcome.code})`;
  tally[key] = (tally[key] ?? 0) + 1;
  rmSync(caseDir, { recursive: true, force: true });
  return outcome.ok;
}

/** Does the (mutated) input, loaded by stock tfjs, predict finite values? (false when it cannot be loaded) */
async function inputFinite(dir: string, shape: number[]): Promise<boolean> {
  try {
    const m = await loadStock(dir);
    const f = finitePredictions(m, shape);
    m.dispose();
    return f;
  } catch {
    return false;
  }
}

describe(`seeded fuzz (seed ${SEED}, ${CASES} cases)`, () => {
  it("every case ends in success or a clear error, with nothing partial or outside the folder", async () => {
    const tally: Record<string, number> = {};
    const t0 = performance.now();
    // tfjs itself keeps a few tensors when loadLayersModel fails half-way (shape mismatches, bad configs):
    // counted and reported; a case that succeeds must leave the tensor count unchanged.
    let failedLoadLeak = 0;
    for (let i = 0; i < CASES; i++) {
      const before = tf.memory().numTensors;
      const ok = await runCase(i, tally);
      const d = tf.memory().numTensors - before;
      if (ok) expect(d, `case ${i} succeeded but leaked ${d} tensors: ${lastWhat}`).toBe(0);
      else failedLoadLeak += d;
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(`fuzz: ${CASES} in-process cases in ${secs.toFixed(1)} s (seed ${SEED}): ${JSON.stringify(tally)}; tensors kept by tfjs after failed loads: ${failedLoadLeak}`);
    expect(Object.keys(tally).some((k) => k.endsWith(" ok"))).toBe(true);
    expect(Object.keys(tally).some((k) => k.includes("exit 1"))).toBe(true);
    expect(Object.keys(tally).some((k) => k.includes("exit 2"))).toBe(true);
  }, 300_000);

  it(`${BINARY_CASES} cases through the real binary: exit codes and messages`, async () => {
    const b = bases[0];
    const cases: [string[], number, RegExp][] = [
      [["compress", b.dir, "--out", join(work, "bin-ok"), "--budget", "0.5", "--quantize", "uint16"], 0, /wrote/],
      [["compress", b.dir, "--out", join(work, "bin-bad"), "--ranks", "d1=0"], 2, /usage error: --ranks: .*rank 0 is out of range/],
    ];
    const res = await Promise.all(cases.map(([args]) => new Promise<{ code: number | null; text: string }>((done) => {
      const c = spawn(process.execPath, [join(root, "bin/odecomp.mjs"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      c.stdout.on("data", (x) => { text += x; });
      c.stderr.on("data", (x) => { text += x; });
      c.on("exit", (code) => done({ code, text }));
    })));
    res.forEach((x, k) => {
      expect(x.code, x.text).toBe(cases[k][1]);
      expect(x.text).toMatch(cases[k][2]);
      expect(x.text).not.toMatch(/TypeError|RangeError|    at /);
    });
  }, 120_000);
});
