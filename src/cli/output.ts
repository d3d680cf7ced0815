// Output folders written atomically: everything goes to a temporary sibling
// folder, renamed into place at the end. Inputs are never overwritten, an
// existing non-empty --out is refused, and Ctrl-C (SIGINT/SIGTERM) removes the
// temporary folder before exiting (exit code 130).
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.ts";

const pending = new Set<string>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: string) => {
    for (const p of pending) { try { rmSync(p, { recursive: true, force: true }); } catch { /* best effort */ } }
    const msg = pending.size ? ` (removed ${[...pending].join(", ")})` : "";
    process.stderr.write(`\nodecomp: interrupted by ${sig}; no output was written${msg}\n`);
    process.exit(130);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}

export interface OutDir {
  /** Final path. */
  path: string;
  /** Temporary folder being written. */
  tmp: string;
  /** Write a file (relative name) into the temporary folder. */
  write(name: string, data: string | Uint8Array): Promise<void>;
  /** Rename the temporary folder into place. */
  commit(): Promise<void>;
  /** Remove the temporary folder (on failure). */
  discard(): Promise<void>;
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith("/") ? parent : parent + "/");

/**
 * Prepare `out` for writing. `inputs` are the files read (model.json, shards): the output folder may
 * neither hold nor be one of them. An existing `out` must be empty (or is replaced when `force`).
 */
export async function openOut(out: string, inputs: string[] = [], force = false): Promise<OutDir> {
  const path = resolve(out);
  for (const f of inputs) {
    const r = resolve(f);
    if (inside(r, path) || path === dirname(r)) throw new UsageError(`--out ${out} is the input's folder (or holds ${f}); choose another folder: odecomp never overwrites its input`);
  }
  const st = await stat(path).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder; expected a new or empty folder`);
  if (st && !force && (await readdir(path)).length > 0) throw new UsageError(`--out ${out} exists and is not empty; choose a new folder or pass --force to replace it`);
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(tmp);
  pending.add(tmp);
  installHandlers();
  return {
    path, tmp,
    async write(name, data) {
      const f = join(tmp, name);
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, data);
    },
    async commit() {
      if (await stat(path).then(() => true, () => false)) {
        // Only reached when empty or --force: move the old folder aside first, then drop it.
        const old = `${tmp}.old`;
        await rename(path, old);
        await rename(tmp, path);
        await rm(old, { recursive: true, force: true });
      } else {
        await rename(tmp, path);
      }
      pending.delete(tmp);
    },
    async discard() {
      await rm(tmp, { recursive: true, force: true });
      pending.delete(tmp);
    },
  };
}

/** Run `body` on a fresh output folder: committed on success, removed on any failure. */
export async function withOut<T>(out: string, inputs: string[], force: boolean, body: (o: OutDir) => Promise<T>): Promise<T> {
  const o = await openOut(out, inputs, force);
  try {
    const r = await body(o);
    await o.commit();
    return r;
  } catch (e) {
    await o.discard();
    throw e;
  }
}
