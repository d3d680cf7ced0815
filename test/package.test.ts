// Packaging: `npm run build:dist` emits dist/ (wasm embedded, so no paths), and
// the packed tarball — only its files, nothing from this repo — imports as
// `odecomp` in a fresh Node process and type-checks as a consumer would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules/.bin", name);
const fixture = join(root, "test/models/fixtures/compressed/model.json");

/** `deno run` offline (no remote modules, no npm registry: dependencies come from node_modules). */
async function deno(cwd: string, args: string[]): Promise<string> {
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" };
  const { stdout } = await run(bin("deno"), ["run", "--allow-all", "--no-remote", "--no-lock", "--no-prompt", ...args], { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** The JSON document a --json command printed (tfjs may print a banner before it). */
const lastJSON = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("\n{") + 1 || stdout.indexOf("{")));

describe("package (dist + npm pack)", () => {
  let tmp: string;
  let packed: string[];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "odecomp-pack-"));
    // Own package scope, so Node's self-reference lookup cannot wander into a stray package.json above.
    await writeFile(join(tmp, "package.json"), JSON.stringify({ name: "odecomp-consumer", private: true, type: "module" }));
    await run(process.execPath, [join(root, "scripts/build-dist.mjs")], { cwd: root });
    // --ignore-scripts: skip prepack (a full rebuild); dist was just built above from the wasm pretest built.
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: root });
    const info = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = info[0].files.map((f) => f.path);
    const dest = join(tmp, "node_modules/odecomp");
    await mkdir(dest, { recursive: true });
    await run("tar", ["-xzf", join(tmp, info[0].filename), "-C", dest, "--strip-components=1"]);
    // The package's runtime dependencies, as `npm install odecomp` would place them (linked from this
    // checkout: the tests run offline). Deno resolves bare specifiers from this node_modules folder.
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) {
      const at = join(tmp, "node_modules", dep);
      await mkdir(dirname(at), { recursive: true });
      await symlink(join(root, "node_modules", dep), at, "dir");
    }
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("packs dist with types and the kernel sources, and no tests or build output", () => {
    expect(packed).toEqual(expect.arrayContaining(["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "assembly/index.ts"]));
    expect(packed.filter((p) => /^(test|bench|build|src|node_modules)\//.test(p))).toEqual([]);
  });

  it("ships the JavaScript and declarations of every export and bin in package.json", async () => {
    const pkg = JSON.parse(await readFile(join(tmp, "node_modules/odecomp/package.json"), "utf8"));
    const wanted: string[] = [];
    for (const t of Object.values(pkg.exports) as (string | { types?: string; default?: string })[]) {
      if (typeof t === "string") wanted.push(t);
      else wanted.push(...[t.types, t.default].filter((x): x is string => !!x));
    }
    wanted.push(...Object.values((typeof pkg.bin === "string" ? { bin: pkg.bin } : pkg.bin ?? {}) as Record<string, string>));
    expect(wanted.length).toBeGreaterThanOrEqual(2);
    expect(wanted.map((p) => p.replace(/^\.\//, "")).filter((p) => !packed.includes(p))).toEqual([]);
  });

  it("the root export's module graph is path-free and runtime-neutral (no node:, no require, no file reads, no dependencies)", async () => {
    const dist = join(tmp, "node_modules/odecomp/dist");
    const seen = new Set<string>();
    const queue = [join(dist, "index.js")];
    let embedsWasm = false;
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = await readFile(file, "utf8");
      embedsWasm ||= /SIMD_WASM_BASE64 = "AGFzbQ/.test(text); // base64 of "\0asm"
      expect(text, file).not.toMatch(/require\(|readFile|\.wasm["']|import\.meta\.url/);
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        expect(spec, `${file} imports '${spec}'; the root export must import only its own relative .js files`).toMatch(/^\.{1,2}\/.*\.js$/);
        queue.push(join(dirname(file), spec));
      }
    }
    expect(embedsWasm, "the kernels' wasm is embedded in the root export's graph").toBe(true);
  });

  it("imports as `odecomp` in a fresh Node process and computes", async () => {
    await writeFile(join(tmp, "check.mjs"), `
      import { ready, runtimeInfo, matmul, OdecompError } from "odecomp";
      await ready();
      const c = matmul({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }, { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] });
      let err = "";
      try { matmul({ data: new Float32Array([NaN]), shape: [1, 1] }, { data: new Float32Array([1]), shape: [1, 1] }); } catch (e) { err = e instanceof OdecompError ? e.message : "wrong type"; }
      // the threaded path from dist: 2 kernel threads give the same GEMM bits as 1, and the process exits by itself
      const { setThreads } = await import("odecomp");
      const a = { data: Float32Array.from({ length: 300 * 300 }, (_, i) => Math.sin(i)), shape: [300, 300] };
      await setThreads(1);
      const one = matmul(a, a).data;
      const threads = await setThreads(2);
      const same = matmul(a, a).data.every((v, i) => Object.is(v, one[i]));
      console.log(JSON.stringify({ info: runtimeInfo(), c: Array.from(c.data), shape: c.shape, err, threads: threads.threads, same }));
    `);
    const { stdout } = await run(process.execPath, ["check.mjs"], { cwd: tmp });
    const out = JSON.parse(stdout);
    expect(out.shape).toEqual([2, 2]);
    expect(out.c).toEqual([4, 5, 10, 11]);
    expect(out.info.build).toBe("simd"); // Node 20 without flags rejects relaxed SIMD
    expect(out.err).toMatch(/matmul: a has a non-finite value \(NaN\)/);
    expect(out.threads).toBe(2);
    expect(out.same).toBe(true);
  });

  it("imports as `odecomp` under Deno (deno run against the package) and computes with the relaxed build", async () => {
    await writeFile(join(tmp, "deno-check.mjs"), `
      import { ready, runtimeInfo, matmul, svd } from "odecomp";
      await ready();
      const c = matmul({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }, { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] });
      const s = svd({ data: new Float32Array([3, 0, 0, 0, 2, 0]), shape: [2, 3] }).s;
      console.log(JSON.stringify({ runtime: "deno " + Deno.version.deno, info: runtimeInfo(), c: Array.from(c.data), s: Array.from(s) }));
    `);
    const out = JSON.parse(await deno(tmp, ["deno-check.mjs"]));
    expect(out.runtime).toMatch(/^deno 2\./);
    expect(out.info.build).toBe("relaxed");
    expect(out.c).toEqual([4, 5, 10, 11]);
    expect(out.s[0]).toBeCloseTo(3, 5);
    expect(out.s[1]).toBeCloseTo(2, 5);
  });

  it("runs the CLI under Deno from the package: compress, reconstruct, and train on the wasm backend", async () => {
    const cli = "node_modules/odecomp/bin/odecomp.mjs";
    const small = join(tmp, "deno-small"), folded = join(tmp, "deno-folded");
    const c = lastJSON(await deno(tmp, [cli, "compress", fixture, "--out", small, "--budget", "0.5", "--json"]));
    expect(c.command).toBe("compress");
    expect(c.plan.totals.paramsAfter).toBeLessThan(c.plan.totals.paramsBefore);
    expect((await readdir(small)).sort()).toEqual(expect.arrayContaining(["model.json", "weights.bin"]));
    const r = lastJSON(await deno(tmp, [cli, "reconstruct", join(small, "model.json"), "--out", folded, "--json"]));
    expect(r.command).toBe("reconstruct");
    expect(r.folded.length).toBeGreaterThan(0);
    const t = lastJSON(await deno(tmp, [cli, "train", "--dataset", "mnist", "--model", "mlp", "--schedule", "decompose-at", "--epochs", "2", "--at", "1",
      "--budget", "0.3", "--train-per-class", "30", "--test-per-class", "10", "--json"]));
    expect(t.backend).toBe("wasm");
    expect(t.phases.map((p: { kind: string }) => p.kind)).toEqual(["train", "decompose", "train"]);
    expect(t.final.params).toBeLessThan(t.epochs[0].params);
  });

  it("odecomp/worker runs from the packed dist in a fresh Node process (the worker finds its own entry)", async () => {
    await writeFile(join(tmp, "worker-check.mjs"), `
      import { createWorker } from "odecomp/worker";
      import { OdecompError } from "odecomp";
      import "@tensorflow/tfjs-backend-cpu";
      import * as tfl from "@tensorflow/tfjs-layers";
      const w = await createWorker();
      const t = await w.tucker({ data: Float32Array.from({ length: 60 }, (_, i) => Math.cos(i)), shape: [3, 4, 5] }, { rank: 2 });
      let err = "";
      try { await w.svd({ data: new Float32Array([Infinity]), shape: [1, 1] }); } catch (e) { err = e instanceof OdecompError ? e.message : "wrong type " + e; }
      const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [20], units: 16 }), tfl.layers.dense({ units: 3 })] });
      const fractions = [];
      const r = await w.compress(m, { select: { kind: "budget", keep: 0.6 }, onProgress: (p) => fractions.push(p.fraction) });
      await w.terminate();
      console.log(JSON.stringify({ ranks: t.ranks, kind: w.info.kind, err, layers: r.model.layers.length, fractions }));
    `);
    const { stdout } = await run(process.execPath, ["worker-check.mjs"], { cwd: tmp });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(out.ranks).toEqual([2, 2, 2]);
    expect(out.kind).toBe("node");
    expect(out.err).toMatch(/^svd: a has a non-finite value \(Infinity\)/);
    expect(out.layers).toBeGreaterThan(2);
    expect(out.fractions.at(-1)).toBe(1);
  });

  it("type-checks a consumer against the packed declarations (NodeNext resolution via exports)", async () => {
    await writeFile(join(tmp, "consumer.ts"), `
      import { ready, matmul, type Tensor, type MatmulOptions } from "odecomp";
      const a: Tensor = { data: new Float32Array(4), shape: [2, 2] };
      const o: MatmulOptions = { transposeA: true };
      export async function f(): Promise<number[]> { await ready(); return matmul(a, a, o).shape; }
      // @ts-expect-error: matmul takes tensors, not arrays
      matmul([1, 2], a);
    `);
    await writeFile(join(tmp, "consumer-worker.ts"), `
      import { createWorker, type OdecompWorker, type WorkerInfo } from "odecomp/worker";
      import type { TuckerTensor, Tensor } from "odecomp";
      const x: Tensor = { data: new Float32Array(8), shape: [2, 2, 2] };
      export async function g(): Promise<number[]> {
        const w: OdecompWorker = await createWorker({ transferInputs: true, init: { backend: "cpu", threads: "auto" } });
        const info: WorkerInfo = w.info;
        const t: TuckerTensor = await w.tucker(x, { rank: 1 });
        await w.terminate();
        return [...t.ranks, info.threads];
      }
      // @ts-expect-error: tucker needs its options (same signature as the direct API)
      createWorker().then((w) => w.tucker(x));
    `);
    const args = ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom", "consumer.ts", "consumer-worker.ts"];
    const res = await run(bin("tsc"), args, { cwd: tmp }).catch((e: { stdout: string; stderr: string }) => e);
    expect(res.stdout + res.stderr).toBe("");
  });
});
