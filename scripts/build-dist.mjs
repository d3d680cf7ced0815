#!/usr/bin/env node
// Builds dist/ from src/ (after build-wasm.mjs has embedded the kernels):
//  - JavaScript: one esbuild pass over every entry point the package exposes —
//    the `exports` map (and `bin`) of package.json is the single list — with
//    code splitting, so shared code (the loader and its one wasm instance)
//    lives in one chunk that every entry imports. A handful of files instead
//    of one per source module: Node's ESM loader pays per file at cold start.
//    Dependencies and node: built-ins stay external imports.
//  - Declarations: tsc --emitDeclarationOnly (tsconfig.build.json), same layout.
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));

/** "./dist/tfjs/index.js" → "tfjs/index" (entry name) ↔ src/tfjs/index.ts. */
const entries = {};
const targets = [
  ...Object.values(pkg.exports ?? {}).map((t) => (typeof t === "string" ? t : t.default ?? t.import)),
  ...Object.values(typeof pkg.bin === "string" ? { bin: pkg.bin } : pkg.bin ?? {}),
];
for (const target of targets) {
  if (typeof target !== "string" || !target.startsWith("./dist/") || !target.endsWith(".js")) continue;
  const name = target.slice("./dist/".length, -".js".length);
  const src = join(root, "src", `${name}.ts`);
  if (!existsSync(src)) {
    console.error(`build-dist: package.json points at ${target} but ${src} does not exist`);
    process.exit(1);
  }
  entries[name] = src;
}

// bin/odecomp.mjs is a plain launcher that imports dist/cli/main.js.
if (pkg.bin) entries["cli/main"] = join(root, "src/cli/main.ts");

await rm(dist, { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  external: ["node:*"],
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
await promisify(execFile)(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json", "--emitDeclarationOnly"], { cwd: root });
console.log(`build-dist: ${Object.keys(entries).join(", ")} → dist/`);
