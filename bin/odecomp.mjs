#!/usr/bin/env node
// The `odecomp` command. In a source checkout (src/ beside bin/) it runs the TypeScript source through
// tsx, so it never runs a dist/ older than the source (the package test rebuilds dist/ while other
// tests run the command); an installed package has no src/ and runs the built CLI (dist/cli/main.js).
import { existsSync } from "node:fs";
const source = new URL("../src/cli/main.ts", import.meta.url);
let mod;
if (existsSync(source)) {
  await import("tsx/esm");
  mod = await import(source.href);
} else mod = await import(new URL("../dist/cli/main.js", import.meta.url).href);
mod.quietOnClosedPipe();
process.exitCode = await mod.main(process.argv.slice(2));
