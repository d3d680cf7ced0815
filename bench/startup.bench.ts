// Cold start and wasm size.
// Cold start = a fresh `import()` of the built package (dist/, as users get it)
// plus `await ready()`, timed inside a fresh Node process each time (median of
// N processes), per build; the peer is a fresh import of tfjs-core +
// tfjs-backend-wasm plus `setBackend('wasm')` + `tf.ready()`, in processes
// interleaved with ours. Also "process start → ready" (performance.now() at
// ready, i.e. including the runtime's own boot). Deno (relaxed build) imports the
// same dist/; `deno eval` resolves that import before the clock starts, so read
// its boot→ready. "node baseline import" is the first import() of a one-file
// module under the same flags: the ESM loader start-up any package pays, for scale. Sizes: the release .wasm files
// against the 300 KB target, beside tfjs-backend-wasm's SIMD binary.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { isQuick, printTable, saveResults, type Row } from "./lib.ts";

const exec = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET_MS = 50;
const TARGET_KB = 300;

interface Sample { importMs: number; readyMs: number; totalMs: number; sinceBootMs: number; build: string }

const oursScript = (build: string) => `
const t0 = performance.now();
const m = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
const t1 = performance.now();
await m.ready({ build: ${JSON.stringify(build)} });
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, readyMs: t2 - t1, totalMs: t2 - t0, sinceBootMs: t2, build: m.runtimeInfo().build }));
`;

// Baseline: the first import() of a tiny module with no imports (Node's ESM loader start-up, paid by any package).
const baselineScript = `
const t0 = performance.now();
await import(${JSON.stringify(new URL("../node_modules/.cache/odecomp-bench/one-line.mjs", import.meta.url).href)});
const t1 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, readyMs: 0, totalMs: t1 - t0, sinceBootMs: t1, build: "none" }));
`;

const peerScript = `
const t0 = performance.now();
const tf = await import("@tensorflow/tfjs-core");
await import("@tensorflow/tfjs-backend-wasm");
const t1 = performance.now();
await tf.setBackend("wasm");
await tf.ready();
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, readyMs: t2 - t1, totalMs: t2 - t0, sinceBootMs: t2, build: tf.getBackend() }));
`;

const deno = join(root, "node_modules/.bin/deno");

async function sample(script: string, flags: string[] = [], runtime: "node" | "deno" = "node"): Promise<Sample> {
  const { stdout } = runtime === "node"
    ? await exec(process.execPath, [...flags, "--input-type=module", "-e", script], { cwd: root })
    : await exec(deno, ["eval", "--no-remote", "--no-npm", "--no-config", "--no-lock", script], {
      cwd: root, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" },
    });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Sample;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const med = (ss: Sample[], k: keyof Omit<Sample, "build">) => median(ss.map((s) => s[k]));

export async function run(args: string[] = []): Promise<void> {
  const n = isQuick(args) ? 5 : 11;
  // The measured thing is the built package; build dist from the current wasm (a few seconds).
  await exec(process.execPath, [join(root, "scripts/build-dist.mjs")], { cwd: root });
  await mkdir(join(root, "node_modules/.cache/odecomp-bench"), { recursive: true });
  await writeFile(join(root, "node_modules/.cache/odecomp-bench/one-line.mjs"), "export const one = 1;\n");

  const configs = [
    { label: "Node, simd build", flags: [] as string[], build: "simd", runtime: "node" as const },
    { label: "Node, relaxed build (--experimental-wasm-relaxed-simd)", flags: ["--experimental-wasm-relaxed-simd"], build: "relaxed", runtime: "node" as const },
    { label: "Deno, relaxed build", flags: [] as string[], build: "relaxed", runtime: "deno" as const },
  ];
  const ours: Sample[][] = configs.map(() => []);
  const peer: Sample[] = [];
  const baseline: Sample[][] = configs.map(() => []); // per Node config, with the same flags
  await sample(peerScript); // warm the OS file cache for both sides once
  await sample(oursScript("simd"));
  await sample(oursScript("relaxed"), [], "deno");
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < configs.length; c++) {
      const s = await sample(oursScript(configs[c].build), configs[c].flags, configs[c].runtime);
      if (s.build !== configs[c].build) throw new Error(`startup: asked for build '${configs[c].build}', got '${s.build}'`);
      ours[c].push(s);
      if (configs[c].runtime === "node") baseline[c].push(await sample(baselineScript, configs[c].flags));
    }
    peer.push(await sample(peerScript));
  }

  const rows: Row[] = configs.map((c, i) => ({
    case: `cold start: import + ready(), ${c.label}`,
    ours: "odecomp (dist)",
    peer: "tfjs-wasm setBackend+ready",
    oursMs: med(ours[i], "totalMs"),
    peerMs: med(peer, "totalMs"),
    speedup: med(peer, "totalMs") / med(ours[i], "totalMs"),
    extra: {
      "ours import ms": med(ours[i], "importMs"),
      "ours ready ms": med(ours[i], "readyMs"),
      "peer import ms": med(peer, "importMs"),
      "peer ready ms": med(peer, "readyMs"),
      "node baseline import ms": c.runtime === "node" ? med(baseline[i], "totalMs") : "—",
      "ours boot→ready ms": med(ours[i], "sinceBootMs"),
      "peer boot→ready ms": med(peer, "sinceBootMs"),
      target: `≤ ${TARGET_MS} ms: ${med(ours[i], "totalMs") <= TARGET_MS ? "met" : "MISSED"}`,
    },
  }));
  printTable(`Cold start (fresh process each, median of ${n}; peer always in Node ${process.version})`, rows);

  const peerWasm = join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm");
  const peerBytes = (await stat(peerWasm)).size;
  const sizeRows: Row[] = [];
  for (const build of ["simd", "relaxed"]) {
    const bytes = await readFile(join(root, `build/odecomp.${build}.wasm`));
    sizeRows.push({
      case: `release wasm size, ${build} build`,
      ours: `odecomp.${build}.wasm`,
      peer: "tfjs-backend-wasm-simd.wasm",
      oursMs: NaN,
      peerMs: null,
      speedup: null,
      extra: {
        "ours KB": bytes.length / 1024,
        "ours gzip KB": gzipSync(bytes).length / 1024,
        "peer KB": peerBytes / 1024,
        target: `≤ ${TARGET_KB} KB: ${bytes.length <= TARGET_KB * 1024 ? "met" : "MISSED"}`,
      },
    });
  }
  let embedded = 0;
  for (const f of await readdir(join(root, "dist"), { recursive: true })) if (f.endsWith(".js")) embedded += (await stat(join(root, "dist", f))).size;
  printTable("Wasm size (release builds)", sizeRows);
  console.log(`\n(dist embeds both builds as base64: dist/**/*.js total ${(embedded / 1024).toFixed(1)} KB)`);
  await saveResults("startup", [...rows, ...sizeRows], { runs: n, embeddedJsBytes: embedded });
}
