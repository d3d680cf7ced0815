// Issue 13's I/O and CLI defects, one test each (numbered as in the issue).
import { beforeAll, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OdecompError } from "../../src/core/errors.ts";
import { artifactsFromJSON, compressArtifacts, fileSystem } from "../../src/models/index.ts";
import { editJSON, loadStock, run, saved, tinyCnn, tmp, variant as copyOf } from "./helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
let good: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  good = await saved(tinyCnn());
});

const variant = (edit: (dir: string) => void): string => copyOf(good, edit);
/** Byte offset and length of weight `name` in the single shard. */
function locate(dir: string, name: string): { offset: number; n: number } {
  const j = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  let offset = 0;
  for (const w of j.weightsManifest[0].weights) {
    const n = w.shape.reduce((a: number, b: number) => a * b, 1);
    if (w.name === name) return { offset, n };
    offset += 4 * n;
  }
  throw new Error(name);
}
function poke(dir: string, name: string, index: number, value: number) {
  const { offset } = locate(dir, name);
  const b = readFileSync(join(dir, "weights.bin"));
  b.writeFloatLE(value, offset + 4 * index);
  writeFileSync(join(dir, "weights.bin"), b);
}
async function compressFails(input: string, code: number, msg: RegExp, ...extra: string[]) {
  const parent = tmp();
  const out = join(parent, "out");
  const r = await run("compress", input, "--out", out, ...extra);
  expect(r.code, r.err + r.out).toBe(code);
  expect(r.err).toMatch(msg);
  expect(readdirSync(parent)).toEqual([]);
  return r;
}

describe("2: shard paths stay inside the model folder", () => {
  it("refuses ../, absolute paths and symlinks out of the folder (CLI and fileSystem().load())", async () => {
    const outer = tmp();
    const inner = join(outer, "model");
    cpSync(good, inner, { recursive: true });
    cpSync(join(inner, "weights.bin"), join(outer, "stolen.bin")); // a valid shard one level up
    editJSON(inner, (j) => { j.weightsManifest[0].paths = ["../stolen.bin"]; });
    await compressFails(inner, 1, /weight shard path '\.\.\/stolen\.bin' in .* points outside the model folder/, "--budget", "0.5");
    await expect(fileSystem(inner).load!()).rejects.toThrow(/points outside the model folder/);

    const abs = variant((d) => editJSON(d, (j) => { j.weightsManifest[0].paths = [join(d, "weights.bin")]; }));
    const r = await compressFails(abs, 1, /weight shard path '\/.*weights\.bin' in .* is absolute/, "--budget", "0.5");
    expect(r.err).not.toMatch(/\/tmp\/[^ ]*\/tmp\//); // the path is not shown doubled
    await compressFails(variant((d) => editJSON(d, (j) => { j.weightsManifest[0].paths = ["../../../../../../etc/passwd"]; })), 1, /points outside the model folder/);

    const linked = variant((d) => {
      cpSync(join(d, "weights.bin"), join(outer, "elsewhere.bin"));
      symlinkSync(join(outer, "elsewhere.bin"), join(d, "w2.bin"));
      editJSON(d, (j) => { j.weightsManifest[0].paths = ["w2.bin"]; });
    });
    await compressFails(linked, 1, /weight shard 'w2\.bin' in .* is a link to .*elsewhere\.bin, outside the model folder/, "--budget", "0.5");
    await expect(fileSystem(linked).load!()).rejects.toBeInstanceOf(OdecompError);
  });
});

describe("3: artifactsFromJSON honours Buffer views", () => {
  it("a pooled small Buffer, a short view and a 4-byte-short view", () => {
    const j = { modelTopology: {}, weightsManifest: [{ paths: ["w"], weights: [{ name: "a", shape: [3], dtype: "float32" }] }] };
    const f = new Float32Array([1, 2, 3]);
    const pooled = Buffer.from(new Uint8Array(f.buffer)); // < 4 KB: a view into Node's shared pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(12);
    const a = artifactsFromJSON(j as never, pooled);
    expect(Array.from(new Float32Array(a.weightData as ArrayBuffer))).toEqual([1, 2, 3]);
    const big = Buffer.alloc(100);
    expect(() => artifactsFromJSON(j as never, big)).toThrow(/weightData has 100 bytes but the manifest's weights need 12/);
    const padded = Buffer.concat([Buffer.alloc(4), Buffer.from(new Uint8Array(f.buffer))]);
    expect(() => artifactsFromJSON(j as never, padded.subarray(4, 12))).toThrow(/has 8 bytes but .* need 12/);
    const shifted = artifactsFromJSON(j as never, padded.subarray(4));
    expect(Array.from(new Float32Array(shifted.weightData as ArrayBuffer))).toEqual([1, 2, 3]);
  });
});

describe("4: non-finite values in any weight", () => {
  it.each([["fc/bias", NaN], ["conv2/bias", Infinity], ["fc/kernel", -Infinity]])("%s = %s is an error naming the weight", async (name, v) => {
    const dir = variant((d) => poke(d, name, 1, v));
    await compressFails(dir, 1, new RegExp(`weight '${name}' has a non-finite value \\(${String(v).replace("+", "")}\\) at flat index 1`), "--budget", "0.5");
  });
});

describe("8: concurrent compress runs to the same new --out", () => {
  it("the second fails (with or without --force); the first's output stands", async () => {
    const out = join(tmp(), "out");
    const [a, b] = await Promise.all([run("compress", good, "--out", out, "--budget", "0.5"), run("compress", good, "--out", out, "--budget", "0.3", "--force")]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.err).toMatch(/--out .* is being written by another odecomp run \(pid \d+\)/);
    expect(readdirSync(out).sort()).toEqual(["model.json", "plan.json", "plan.txt", "weights.bin"]);
  });
});

describe("9: errors name the weight", () => {
  it("shape mismatch, dtype mismatch, missing weight, a directory shard", async () => {
    await compressFails(variant((d) => editJSON(d, (j) => { j.weightsManifest[0].weights.find((w: any) => w.name === "fc/kernel").shape = [10, 1024]; })), 1,
      /weight 'fc\/kernel' has shape \[10,1024\] in the manifest but the layer expects \[1024,10\]/);
    await compressFails(variant((d) => editJSON(d, (j) => { j.weightsManifest[0].weights.find((w: any) => w.name === "fc/bias").dtype = "int32"; })), 1,
      /weight 'fc\/bias' has dtype int32 in the manifest but the layer expects float32|weight 'fc\/bias' is int32/);
    await compressFails(variant((d) => {
      editJSON(d, (j) => { j.weightsManifest[0].weights = j.weightsManifest[0].weights.filter((w: any) => w.name !== "fc/bias"); });
      const b = readFileSync(join(d, "weights.bin"));
      writeFileSync(join(d, "weights.bin"), b.subarray(0, b.byteLength - 40));
    }), 1, /weight 'fc\/bias' \[10\] of the model is not in the weights manifest/);
    await compressFails(variant((d) => { mkdirSync(join(d, "missing")); editJSON(d, (j) => { j.weightsManifest[0].paths = ["missing"]; }); }), 1,
      /weight shard 'missing' listed in .* is a directory/);
  });
  it("a non-finite kernel value names the layer's weight, not 'spectrum: kernel'", async () => {
    const r = await compressFails(variant((d) => poke(d, "conv2/kernel", 1000, NaN)), 1, /weight 'conv2\/kernel' has a non-finite value \(NaN\) at flat index 1000/, "--budget", "0.5");
    expect(r.err).not.toMatch(/spectrum/);
  });
});

describe("10: exit codes", () => {
  it.each([["--ranks", "nope=3"], ["--ranks", "fc=0"], ["--ranks", "fc=11"], ["--ranks", "fc=2x3"], ["--skip", "nope"]])("%s %s the model rejects → 2", async (flag, v) => {
    const r = await compressFails(good, 2, /usage error/, flag, v);
    expect(r.err).not.toMatch(/\(svd rank 1\)/);
  });
  // Number() reads "" as 0 and "0x1" as 1: these ran (main --at '' switched at epoch 0) with exit 0
  it.each([["--budget", "0x1"], ["--budget", ""], ["--budget", "Infinity"], ["--rank-rule", "energy:0b1"], ["--rank-rule", "stable: "]])("compress %s '%s' → 2", async (flag, v) => {
    await compressFails(good, 2, new RegExp(`usage error: ${flag}`), flag, v);
  });
  it.each([["main", "--at", ""], ["main", "--at", "0x1"], ["main", "--epochs", " "], ["train", "--lr-schedule", "cosine:0x0"], ["main", "--threads", "0x2"], ["main", "--low-rank-lr", "0"], ["main", "--low-rank-lr", "0x2"]])("%s %s '%s' → 2 before any work", async (cmd, flag, v) => {
    const r = await run(cmd, flag, v, "--out", join(tmp(), "o"));
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(new RegExp(`usage error: ${flag} is '${v}'`));
  });
  it("no arguments: help on stderr, exit 2", async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/Usage: odecomp/);
  });
});

/** The real binary (node bin/odecomp.mjs) with stdout piped. */
function bin(args: string[], opts: { uid?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(root, "bin/odecomp.mjs"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], uid: opts.uid, gid: opts.uid });
    let out = "", err = "";
    child.stdout.on("data", (b) => { out += b; });
    child.stderr.on("data", (b) => { err += b; });
    child.on("exit", (code) => res({ code, out, err }));
  });
}

describe("11: a closed stdout", () => {
  it("`odecomp inspect m.json | head -c 10` exits quietly", async () => {
    const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const child = spawn("bash", ["-c", `node bin/odecomp.mjs inspect '${good}' | head -c 10; exit \${PIPESTATUS[0]}`], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let out = "", err = "";
      child.stdout.on("data", (b) => { out += b; });
      child.stderr.on("data", (b) => { err += b; });
      child.on("exit", (code) => res({ code, out, err }));
    });
    expect(r.out.length).toBe(10);
    expect(r.err).not.toMatch(/EPIPE|Error|    at /);
    expect(r.code).toBe(0);
  }, 60000);
});

describe("13: file-system errors early and named", () => {
  const asRoot = process.getuid?.() === 0;
  it("unwritable parent of --out: named path, before computing (a non-root user)", async () => {
    const parent = tmp();
    chmodSync(parent, 0o555);
    const input = variant(() => {});
    for (const f of readdirSync(input)) chmodSync(join(input, f), 0o644);
    chmodSync(input, 0o755);
    const r = await bin(["compress", input, "--out", join(parent, "new"), "--budget", "0.5"], asRoot ? { uid: 65534 } : {});
    expect(r.code, r.err).toBe(1);
    expect(r.err).toContain(`cannot create --out in ${parent}: EACCES (permission denied)`);
    expect(r.out).not.toMatch(/params:/); // failed before the computation
    // an existing empty --out (writable) under the read-only parent works
    mkdirSync(join(parent, "empty"));
    chmodSync(join(parent, "empty"), 0o777);
    const ok = await bin(["compress", input, "--out", join(parent, "empty"), "--budget", "0.5"], asRoot ? { uid: 65534 } : {});
    expect(ok.code, ok.err).toBe(0);
    expect(readdirSync(join(parent, "empty")).sort()).toEqual(["model.json", "plan.json", "plan.txt", "weights.bin"]);
    expect(readdirSync(parent)).toEqual(["empty"]);
    const c = await loadStock(join(parent, "empty"));
    c.dispose();
  }, 90000);
  it("ENOSPC names the file and leaves nothing behind (a 16 KB tmpfs; skipped where mounting is not allowed)", async (ctx) => {
    const fsdir = tmp();
    const { spawnSync } = await import("node:child_process");
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", fsdir]).status !== 0) { ctx.skip(); return; }
    try {
      const r = await run("compress", good, "--out", join(fsdir, "out"), "--rank-rule", "full");
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`cannot write ${fsdir}/\\.out\\.tmp-[^ ]*/weights\\.bin: ENOSPC \\(no space left on device\\)`));
      expect(readdirSync(fsdir)).toEqual([]);
    } finally {
      spawnSync("umount", [fsdir]);
    }
  });
  it("a .out.tmp-* left by a killed run is removed and reported", async () => {
    const parent = tmp();
    const stale = join(parent, ".out.tmp-999999999-abc");
    mkdirSync(stale);
    writeFileSync(join(stale, "weights.bin"), "partial");
    const r = await run("compress", good, "--out", join(parent, "out"), "--budget", "0.5");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/removed .*\.out\.tmp-999999999-abc, left by an interrupted run \(pid 999999999\)/);
    expect(readdirSync(parent)).toEqual(["out"]);
  });
  it("a stale marker of a killed run in --out is removed and reported", async () => {
    const out = join(tmp(), "out");
    mkdirSync(out);
    writeFileSync(join(out, ".odecomp-writing"), "999999999 x");
    const r = await run("compress", good, "--out", out, "--budget", "0.5");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/stale marker/);
  });
});

describe("14: compressArtifacts with a wrong value", () => {
  it.each([[null, /artifacts is null; expected model artifacts/], [{}, /artifacts\.modelTopology is undefined/], ["m.json", /artifacts is string 'm\.json'/], [{ modelTopology: {}, weightSpecs: [], weightData: new Uint8Array(4) }, /weightData is Uint8Array; expected an ArrayBuffer/]])("%s", async (v, msg) => {
    const warn = vi.spyOn(console, "warn"), log = vi.spyOn(console, "log");
    const e = await compressArtifacts(v as never).catch((x) => x);
    expect(e).toBeInstanceOf(OdecompError);
    expect(e.message).toMatch(msg);
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    warn.mockRestore(); log.mockRestore();
  });
});

describe("16: --json errors", () => {
  it("a JSON error object on stdout; exit codes unchanged", async () => {
    const a = await run("compress", join(tmp(), "none"), "--out", join(tmp(), "o"), "--json");
    expect(a.code).toBe(1);
    expect(JSON.parse(a.out)).toMatchObject({ error: { kind: "failure", exitCode: 1, message: expect.stringMatching(/does not exist/) } });
    const b = await run("compress", good, "--out", join(tmp(), "o"), "--budget", "7", "--json");
    expect(b.code).toBe(2);
    expect(JSON.parse(b.out)).toMatchObject({ error: { kind: "usage", exitCode: 2, message: expect.stringMatching(/--budget is '7'/) } });
    const c = await run("inspect", good, "--json", "--bogus");
    expect(c.code).toBe(2);
    expect(JSON.parse(c.out).error.kind).toBe("usage");
  });
});
