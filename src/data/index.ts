// odecomp/data: runtime-neutral data loaders for Node, Deno, browsers and workers — image folders given as
// entries or picked File lists (PNG by fast-png, JPEG by jpeg-js), .npy/.npz arrays (fflate). Kept out of
// the root export, which has no dependencies. Node/Deno file-system walkers are in `odecomp/data/node`.
export { decodeImage } from "./decode.ts";
export { loadFolderEntries, type FolderEntry, type DataCache, type ImageFolderOptions } from "./folder.ts";
export { loadImageFiles, loadArrayFile, type PickedFile } from "./files.ts";
export { parseNpy, parseNpz, loadNpzBytes, loadNpyBytes, type NpyArray, type ArrayOptions } from "./npy.ts";
export { type LoadReport, type SkippedImage } from "./report.ts";
export { preprocessPresets, resolvePreprocess, type Preprocess, type PreprocessPreset } from "./preprocess.ts";
export { type Augment } from "./augment.ts";
export { resizeBilinear, centerCropToAspect, convertChannels, type RawImage } from "./resize.ts";
export { fromClassImages, gather, labelArray, encodeDataset, decodeDataset, type ImageSet, type Dataset, type DataOptions } from "./dataset.ts";
