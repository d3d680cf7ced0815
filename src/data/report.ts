// What a loader did, for the CLI's text/JSON output and the API: one typed object
// for every source (bundled sets, folders, arrays, browser files).

export interface SkippedImage { path: string; reason: string }

export interface LoadReport {
  source: "mnist" | "fashion-mnist" | "folder" | "files" | "npz" | "npy";
  /** The folder or file the user named (absent for bundled sets and browser files). */
  path?: string;
  /**
   * How train/test were formed: "folders" (train/ and test|val/ subfolders), "seeded" (a seeded
   * stratified split of valSplit), "keys" (x_train/x_test in an .npz), "fixed" (bundled sets' fixed split).
   */
  split: "folders" | "seeded" | "keys" | "fixed";
  labeled: boolean;
  counts: { train: number; test: number };
  classes: number;
  classNames?: string[];
  height: number;
  width: number;
  channels: number;
  /** Images that could not be decoded and were skipped (skipBadImages), by path. */
  skipped: SkippedImage[];
  /** Images whose size differed from the target and were resized (or cropped and resized). */
  resized: number;
  /** Source image sizes found, "H×W" → count (more than one key = mixed sizes). */
  sizes: Record<string, number>;
  /** Files under the folder that are not PNG/JPEG images (or sit outside the class folders), not loaded. */
  ignored: number;
  /** Arrays: how float pixels were read ("0-1" scaled by 255, "0-255" rounded); absent for bytes. */
  pixelRange?: "0-1" | "0-255";
  cacheHit: boolean;
  ms: number;
}
