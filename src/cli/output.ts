// Output folders written atomically and claimed before the work. The out folder
// is validated before any computation (never the input's folder, never a
// non-empty folder unless --force, its parent writable), then claimed: created
// (mkdir, which fails if another run got there first) and marked with an
// O_EXCL marker file, so two runs aimed at the same --out cannot both succeed.
// Results are computed in memory and written to a temporary sibling folder
// renamed into place at the end (an existing empty --out under a read-only
// parent is filled in place instead, file by file). While a claim or a
// temporary folder exists, SIGINT/SIGTERM remove it before exiting (code 130).
// Temporary folders and markers left by a killed run (its pid gone) are removed
// by the next run, which says so.
import { access, mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { constants, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../core/errors.ts";
import { UsageError } from "./errors.ts";

const MARK = ".odecomp-writing";
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

const REASONS: Record<string, string> = {
  EACCES: "permission denied", EPERM: "operation not permitted", ENOSPC: "no space left on device", EROFS: "read-only file system",
  EDQUOT: "disk quota exceeded", ENOTDIR: "a path component is not a folder", EEXIST: "already exists",
};

/** Run a file-system step; its error names the path and the reason (ENOSPC, EACCES…) as an OdecompError. */
async function fsStep<T>(what: string, path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail("output", `cannot ${what} ${path}: ${code ? `${code} (${REASONS[code] ?? "file-system error"})` : (e as Error).message}`);
  }
}

/** Is `pid` a running process? (Unknown → assume it is, so nothing of a live run is removed.) */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code !== "ESRCH"; }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Remove `.<out>.tmp-<pid>-…` siblings left by runs whose process is gone; returns what was done. */
async function cleanStale(path: string): Promise<string[]> {
  const parent = dirname(path);
  const re = new RegExp(`^\\.${escapeRe(basename(path))}\\.tmp-(\\d+)-[0-9a-z]+(\\.old)?$`);
  const notes: string[] = [];
  for (const e of await readdir(parent).catch(() => [] as string[])) {
    const m = re.exec(e);
    if (!m || alive(Number(m[1]))) continue;
    const p = join(parent, e);
    try {
      await rm(p, { recursive: true, force: true });
      notes.push(`removed ${p}, left by an interrupted run (pid ${m[1]})`);
    } catch (err) {
      notes.push(`could not remove ${p}, left by an interrupted run (pid ${m[1]}): ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  return notes;
}

/** The pid in an existing marker, or null when there is none. */
async function markerPid(path: string): Promise<number | null> {
  const text = await readFile(join(path, MARK), "utf8").catch(() => null);
  if (text === null) return null;
  const pid = Number(text.split(" ")[0]);
  return Number.isInteger(pid) ? pid : 0;
}

const busy = (out: string, pid: number) => fail("output", `--out ${out} is being written by another odecomp run (pid ${pid}); wait for it to finish or choose another folder`);

/**
 * Check that `out` may be written: it must not be (or hold) the folder of any of `inputs`, an existing
 * `out` must be an empty folder (or `force`, or `mayReplace` says its content is ours), and it (or the
 * folder it will be created in) must be writable. Stale temporary folders of killed runs are removed.
 * Returns notes for the user (what was cleaned).
 */
export async function checkOut(out: string, inputs: string[] = [], force = false, mayReplace?: (entries: string[]) => boolean): Promise<string[]> {
  const path = resolve(out);
  for (const f of inputs) {
    const r = resolve(f);
    if (inside(r, path)) throw new UsageError(`--out ${out} is the input's folder (it holds ${f}); choose another folder: odecomp never overwrites its input`);
  }
  const notes = await cleanStale(path);
  const st = await stat(path).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder; expected a new or empty folder`);
  if (st) {
    let entries = await fsStep("read", path, () => readdir(path));
    if (entries.includes(MARK)) {
      const pid = await markerPid(path);
      if (pid !== null && pid > 0 && alive(pid)) busy(out, pid);
      await rm(join(path, MARK), { force: true }).catch(() => {});
      notes.push(`removed a stale marker ${join(path, MARK)} left by an interrupted run${pid ? ` (pid ${pid})` : ""}`);
      entries = entries.filter((e) => e !== MARK);
    }
    if (!force && entries.length > 0 && !(mayReplace?.(entries))) throw new UsageError(`--out ${out} exists and is not empty; choose a new folder or pass --force to replace it`);
    await fsStep("write to", path, () => access(path, constants.W_OK));
  } else {
    // The nearest existing ancestor must let us create the folder.
    let anc = dirname(path);
    while (!(await stat(anc).then((s) => s.isDirectory(), () => false)) && dirname(anc) !== anc) anc = dirname(anc);
    await fsStep("create --out in", anc, () => access(anc, constants.W_OK));
  }
  return notes;
}

/** An --out folder held by this run: created (or found empty) and marked. */
export interface OutClaim {
  out: string;
  path: string;
  /** This run created the folder (release removes it again). */
  created: boolean;
  token: string;
  /** Stale leftovers cleaned on the way. */
  notes: string[];
  written: boolean;
}

/** checkOut, then hold `out` so a concurrent run aimed at it fails (mkdir of the folder + an O_EXCL marker). */
export async function claimOut(out: string, inputs: string[] = [], force = false, mayReplace?: (entries: string[]) => boolean): Promise<OutClaim> {
  const notes = await checkOut(out, inputs, force, mayReplace);
  const path = resolve(out);
  await fsStep("create", dirname(path), () => mkdir(dirname(path), { recursive: true }));
  let created = false;
  try {
    await mkdir(path);
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") await fsStep("create", path, () => Promise.reject(e));
    if (!force && (await readdir(path)).some((x) => x !== MARK)) throw new UsageError(`--out ${out} exists and is not empty; choose a new folder or pass --force to replace it`);
  }
  const token = `${process.pid} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  try {
    await writeFile(join(path, MARK), token, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") busy(out, (await markerPid(path)) ?? 0);
    if (created) await rmdir(path).catch(() => {});
    await fsStep("write to", path, () => Promise.reject(e));
  }
  const claim: OutClaim = { out, path, created, token, notes, written: false };
  track(created ? path : join(path, MARK));
  return claim;
}

/** Give up a claim that was not written: remove the marker and the folder if this run created it. */
export async function releaseOut(c: OutClaim): Promise<void> {
  if (c.written) return;
  untrack(c.created ? c.path : join(c.path, MARK));
  if ((await readFile(join(c.path, MARK), "utf8").catch(() => null)) !== c.token) return; // not ours any more
  await rm(join(c.path, MARK), { force: true }).catch(() => {});
  if (c.created) await rmdir(c.path).catch(() => {});
}

/** Files to write: relative name → content. */
export type Files = [name: string, data: string | Uint8Array][];

async function writeAll(dir: string, files: Files): Promise<void> {
  // Test hook: ODECOMP_WRITE_DELAY_MS slows writing so a test can interrupt it mid-way.
  const delay = Number(process.env.ODECOMP_WRITE_DELAY_MS ?? 0);
  for (const [name, data] of files) {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const f = join(dir, name);
    await fsStep("create", dirname(f), () => mkdir(dirname(f), { recursive: true }));
    await fsStep("write", f, () => writeFile(f, data));
  }
}

/** Write `files` into the claimed folder: a temporary sibling renamed into place, or in place under a read-only parent. */
export async function writeClaimed(c: OutClaim, files: Files): Promise<void> {
  const path = c.path;
  if ((await readFile(join(path, MARK), "utf8").catch(() => null)) !== c.token) fail("output", `--out ${c.out} was taken over by another run while this one computed; nothing was written`);
  const parentWritable = await access(dirname(path), constants.W_OK).then(() => true, () => false);
  const tmp = parentWritable
    ? join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`)
    : join(path, `.tmp-${process.pid}-${Date.now().toString(36)}`);
  track(tmp);
  try {
    await fsStep("create", tmp, () => mkdir(tmp));
    await writeAll(tmp, files);
    if (parentWritable) {
      const old = `${tmp}.old`;
      track(old);
      await fsStep("move aside", path, () => rename(path, old));
      await fsStep("rename into place", tmp, () => rename(tmp, path));
      await rm(old, { recursive: true, force: true });
      untrack(old);
    } else {
      // Read-only parent: only the folder's content can change. Each file lands by rename (never half-written).
      for (const e of await readdir(path)) if (e !== MARK && join(path, e) !== tmp) await fsStep("remove", join(path, e), () => rm(join(path, e), { recursive: true, force: true }));
      for (const e of await readdir(tmp)) await fsStep("rename into place", join(tmp, e), () => rename(join(tmp, e), join(path, e)));
      await rm(tmp, { recursive: true, force: true });
      await rm(join(path, MARK), { force: true });
    }
    c.written = true;
    untrack(c.created ? path : join(path, MARK));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    untrack(tmp);
  }
}

/** Claim `out` (already checked by the caller) and write `files` there atomically. */
export async function writeOut(out: string, files: Files): Promise<void> {
  const c = await claimOut(out, [], true);
  try {
    await writeClaimed(c, files);
  } finally {
    await releaseOut(c);
  }
}
