// `odecomp bench`: runs bench/run.ts (the benchmark areas) in a child process with tsx,
// from the source checkout (bench/ is not part of the published package).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CliIO } from "./commands.ts";

export async function cmdBench(areas: string[], io: CliIO): Promise<number> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const script = `${root}bench/run.ts`;
  if (!existsSync(script)) {
    io.err(`odecomp: error: ${script} not found; the benchmarks run from a source checkout (git clone, npm install)`);
    return 1;
  }
  const args = ["--import", "tsx", script, ...areas];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(signal ? 130 : code ?? 1));
    child.on("error", (e) => { io.err(`odecomp: error: cannot run the benchmarks: ${e.message}`); resolve(1); });
  });
}
