// Browsers and workers: the image-folder and array loaders over `File`/`Blob`
// lists, e.g. from `<input type="file" webkitdirectory>` (each File's
// `webkitRelativePath` is "picked/<class>/img.png", so the first path part is the
// picked folder and the next one the class) or a drag-and-drop of files. The
// rules are those of src/data/folder.ts; only reading differs (Blob.arrayBuffer).
// Runtime-neutral too: Node ≥ 20 and Deno have Blob/File.
import { check } from "../core/errors.ts";
import type { Dataset } from "./dataset.ts";
import { loadFolderEntries, type FolderEntry, type ImageFolderOptions } from "./folder.ts";
import { loadNpyBytes, loadNpzBytes, type ArrayOptions } from "./npy.ts";
import type { LoadReport } from "./report.ts";

/** A picked file (File has all three), or any Blob with an explicit path. */
export type PickedFile = (Blob & { name?: string; webkitRelativePath?: string; lastModified?: number }) | { path: string; blob: Blob };

/**
 * Load images picked in a browser as a Dataset. With folder paths
 * (webkitRelativePath or `{ path }`), the first part is the picked folder and
 * the layout rules of image folders apply; plain files (no folder) are unlabeled.
 */
export async function loadImageFiles(files: ArrayLike<PickedFile>, options: ImageFolderOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const list = Array.from(files);
  check(list.length > 0, "data", () => "no files were given; expected the images of a picked folder");
  let root: string | null = null;
  const entries: FolderEntry[] = list.map((f, i) => {
    const blob = "blob" in f ? f.blob : f;
    const full = "blob" in f ? f.path : (f.webkitRelativePath || f.name || `file-${i}`);
    const parts = full.split("/").filter((p) => p !== "");
    // a folder pick always has the folder as the first part; drop it so paths are relative to it
    let path = parts.join("/");
    if (parts.length > 1) { root ??= parts[0]; if (parts[0] === root) path = parts.slice(1).join("/"); }
    const lastModified = "blob" in f ? undefined : f.lastModified;
    return { path, size: blob.size, ...(lastModified !== undefined ? { mtime: lastModified } : {}), read: async () => new Uint8Array(await blob.arrayBuffer()) };
  });
  return loadFolderEntries(entries, root ?? "picked files", options, "files");
}

/** Load an .npz or .npy given as a Blob/File (by its name's extension; default .npz). */
export async function loadArrayFile(file: Blob & { name?: string }, options: ArrayOptions = {}): Promise<{ dataset: Dataset; report: LoadReport }> {
  const name = file.name ?? "array.npz";
  const bytes = new Uint8Array(await file.arrayBuffer());
  return name.toLowerCase().endsWith(".npy") ? loadNpyBytes(bytes, name, options) : loadNpzBytes(bytes, name, options);
}
