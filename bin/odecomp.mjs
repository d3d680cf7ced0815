#!/usr/bin/env node
// The `odecomp` command: the built CLI (dist/cli/main.js) when present, else the
// TypeScript source through tsx (a source checkout).
import { existsSync } from "node:fs";
const dist = new URL("../dist/cli/main.js", import.meta.url);
let mod;
if (existsSync(dist)) mod = await import(dist.href);
else {
  await import("tsx/esm");
  mod = await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
mod.quietOnClosedPipe();
process.exitCode = await mod.main(process.argv.slice(2));
