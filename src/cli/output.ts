// Output folders written atomically. The out folder is validated before any
// work (never the input's folder, never a non-empty folder unless --force),
// results are computed in memory, and only then written: every file goes to a
// temporary sibling folder which is renamed into place at the end. While that
// temporary folder exists, SIGINT/SIGTERM remove it before exiting (code 130);
// before it exists (long computations, training), Ctrl-C simply ends the
// process — there is no output to clean up.
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.ts";

const pending = new Set<string>();
const onSignal = (sig: NodeJS.Signals) => {
  for (const p of pending) { try { rmSync(p, { recursive: true, force: true }); } catch { /* best effort */ } }
  process.stderr.write(`\nodecomp: interrupted by ${sig}; removed the partial output ${[...pending].join(", ")}\n`);
  process.exit(130);
};

function track(tmp: string): void {
  if (pending.size === 0) { process.on("SIGINT", onSignal); process.on("SIGTERM", onSignal); }
  pending.add(tmp);
}

function untrack(tmp: string): void {
  pending.delete(tmp);
  if (pending.size === 0) { process.off("SIGINT", onSignal); process.off("SIGTERM", onSignal); }
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith("/") ? parent : parent + "/");

/**
 * Check that `out` may be written: it must not be (or hold) the folder of any of `inputs`,
 * and an existing `out` must be an empty folder (or `force`, or `mayReplace` says its content is ours).
 */
export async function checkOut(out: string, inputs: string[] = [], force = false, mayReplace?: (entries: string[]) => boolean): Promise<void> {
  const path = resolve(out);
  for (const f of inputs) {
    const r = resolve(f);
    if (inside(r, path)) throw new UsageError(`--out ${out} is the input's folder (it holds ${f}); choose another folder: odecomp never overwrites its input`);
  }
  const st = await stat(path).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder; expected a new or empty folder`);
  if (st && !force) {
    const entries = await readdir(path);
    if (entries.length > 0 && !(mayReplace?.(entries))) throw new UsageError(`--out ${out} exists and is not empty; choose a new folder or pass --force to replace it`);
  }
}

/** Files to write: relative name → content. */
export type Files = [name: string, data: string | Uint8Array][];

/** Write `files` into a temporary sibling of `out`, then rename it into place (replacing an existing `out`). */
export async function writeOut(out: string, files: Files): Promise<void> {
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  track(tmp);
  try {
    await mkdir(tmp);
    // Test hook: ODECOMP_WRITE_DELAY_MS slows writing so a test can interrupt it mid-way.
    const delay = Number(process.env.ODECOMP_WRITE_DELAY_MS ?? 0);
    for (const [name, data] of files) {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const f = join(tmp, name);
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, data);
    }
    if (await stat(path).then(() => true, () => false)) {
      const old = `${tmp}.old`;
      track(old);
      await rename(path, old);
      await rename(tmp, path);
      await rm(old, { recursive: true, force: true });
      untrack(old);
    } else {
      await rename(tmp, path);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    untrack(tmp);
  }
}
