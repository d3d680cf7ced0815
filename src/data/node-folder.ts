// Node / Deno side of the folder and array loaders: walk a directory into
// FolderEntry values (src/data/folder.ts does the rest) and keep decoded folders
// in a file cache. Symbolic links are not followed (as Keras' default
// follow_links=False), so nothing outside the named folder is read.
import { mkdir, readdir, readFile, rename, stat, writeFile, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fail } from "../core/errors.ts";
import type { Dataset } from "./dataset.ts";
import { loadFolderEntries, type DataCache, type FolderEntry, type ImageFolderOptions } from "./folder.ts";
import { loadNpyBytes, loadNpzBytes, type ArrayOptions } from "./npy.ts";
import type { LoadReport } from "./report.ts";

/** Every file and directory under `root` (relative '/'-separated paths), with sizes and mtimes. */
export async function walkFolder(root: string): Promise<FolderEntry[]> {
  let top;
  try { top = await stat(root); } catch (e) { return fail("data", `cannot open folder ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected an existing directory`); }
  if (!top.isDirectory()) fail("data", `${root} is not a directory; expected an image folder (or a .npz/.npy file)`);
  const out: FolderEntry[] = [];
  const files: { rel: string; abs: string }[] = [];
  const walk = async (dir: string, rel: string) => {
    const list = await readdir(dir, { withFileTypes: true });
    for (const d of list) {
      const r = rel ? `${rel}/${d.name}` : d.name, a = join(dir, d.name);
      if (d.isDirectory()) { out.push({ path: r, dir: true, read: () => Promise.reject(new Error("a directory")) }); await walk(a, r); }
      else if (d.isFile()) files.push({ rel: r, abs: a });
    }
  };
  await walk(root, "");
  // stat in parallel batches: 60,000 sequential stats cost seconds on a slow disk
  for (let i = 0; i < files.length; i += 256) {
    const chunk = files.slice(i, i + 256);
    const st = await Promise.all(chunk.map((f) => stat(f.abs)));
    chunk.forEach((f, j) => out.push({ path: f.rel, size: st[j].size, mtime: Math.round(st[j].mtimeMs), read: async () => new Uint8Array(await readFile(f.abs)) }));
  }
  return out;
}

/** A DataCache of `folder-<key>.odim` files in `dir`, written atomically (temp file + rename). */
export function fileCache(dir: string): DataCache {
  return {
    async get(key) { try { return new Uint8Array(await readFile(join(dir, `folder-${key}.odim`))); } catch { return null; } },
    async set(key, bytes) {
      const file = join(dir, `folder-${key}.odim`), tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      try { await mkdir(dir, { recursive: true }); await writeFile(tmp, bytes); await rename(tmp, file); }
      catch { await unlink(tmp).catch(() => {}); /* read-only or full disk: work without a cache */ }
    },
  };
}

/** Default cache directory for decoded folders: <os tmpdir>/odecomp-cache (never inside the user's folder). */
export function defaultCacheDir(): string { return join(tmpdir(), "odecomp-cache"); }

export interface NodeFolderOptions extends ImageFolderOptions {
  /** Where decoded folders are cached; `false` disables it. Default: defaultCacheDir(). */
  cacheDir?: string | false;
}

/** Load an image folder from disk (layouts in src/data/folder.ts). */
export async function loadImageFolder(root: string, options: NodeFolderOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const t0 = performance.now();
  const entries = await walkFolder(root);
  const cache = options.cache ?? (options.cacheDir === false ? undefined : fileCache(options.cacheDir ?? defaultCacheDir()));
  const name = options.name ?? (root.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || "folder");
  const r = await loadFolderEntries(entries, root, { ...options, name, ...(cache ? { cache } : {}) }, "folder");
  return { dataset: r.dataset, report: { ...r.report, path: root, ms: performance.now() - t0 } };
}

async function readInput(file: string): Promise<Uint8Array> {
  try { return new Uint8Array(await readFile(file)); }
  catch (e) { return fail("data", `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected an existing .npz/.npy file`); }
}

/** Load an .npz (x/y or x_train/y_train/x_test/y_test) from disk. */
export async function loadNpz(file: string, options: ArrayOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const t0 = performance.now();
  const r = loadNpzBytes(await readInput(file), file, options);
  return { dataset: r.dataset, report: { ...r.report, ms: performance.now() - t0 } };
}

/** Load an .npy of images from disk as an unlabeled Dataset. */
export async function loadNpy(file: string, options: ArrayOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const t0 = performance.now();
  const r = loadNpyBytes(await readInput(file), file, options);
  return { dataset: r.dataset, report: { ...r.report, ms: performance.now() - t0 } };
}
