#!/usr/bin/env node
// Builds the demo page into demo/dist/ (or the folder given) with esbuild: page.js (the UI),
// worker.js (odecomp's worker script, src/worker/entry.ts) and their shared chunks, plus index.html.
// The wasm kernels are embedded in the JavaScript; tfjs-backend-wasm's .wasm files and the bundled
// model are served by demo/server.mjs from node_modules and demo/model/.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

export async function buildDemo(outdir = join(here, "dist")) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { page: join(here, "page.ts"), worker: join(here, "../src/worker/entry.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    external: ["node:*"], // odecomp/worker's Node branches, never taken in a browser
    chunkNames: "chunks/[name]-[hash]",
    logLevel: "warning",
  });
  await copyFile(join(here, "index.html"), join(outdir, "index.html"));
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildDemo(process.argv[2]);
  console.log(`demo built → ${out}`);
}
