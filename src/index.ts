// Public surface of odecomp (the tfjs-free core). One line per module.
export { ready, runtimeInfo, setThreads, getThreads, threadsInfo, terminateThreads, type ReadyOptions, type RuntimeInfo, type BuildName, type ThreadsInfo } from "./core/loader.ts";
export { OdecompError } from "./core/errors.ts";
export { type Tensor, tensor, zeros, sizeOf } from "./core/tensor.ts";
export { wasmMemoryBytes } from "./core/heap.ts";
export { matmul, type MatmulOptions } from "./linalg/matmul.ts";
export { qr, qrInto, type QrResult, type QrPointers } from "./linalg/qr.ts";
export { eigh, eighInto, type EighResult, type EighPointers, type EighOptions } from "./linalg/eigh.ts";
export { svd, svdInto, singularValues, svdValuesInto, type SvdResult, type SvdOptions, type SvdPointers, type SvdMethod } from "./linalg/svd.ts";
export { unfold, fold, modeProduct, khatriRao, mttkrp, unfoldGram, type ModeProductOptions } from "./decompose/ops.ts";
export { FactorizedTensor } from "./decompose/factorized.ts";
export { tucker, TuckerTensor, type TuckerOptions } from "./decompose/tucker.ts";
export { cp, CPTensor, type CPOptions } from "./decompose/cp.ts";
export { tt, TTTensor, type TTOptions } from "./decompose/tt.ts";
export { selectRank, evbmf, energyRank, unfoldingSpectrum, resolveTuckerRank, resolveCPRank, resolveSvdRank, tuckerParams, cpParams, svdParams, type RankSpec, type RankRule, type RankPlan, type SelectRankOptions, type EvbmfResult, type EvbmfFallback, type ModeRankInfo } from "./decompose/rank.ts";
export { lowRankMatmul } from "./linalg/lowrank.ts";
export * as layers from "./layers/index.ts";
export { fromClassImages, parseDigitJson, encodeClassImages, decodeClassImages, epochOrder, gather, seededRandom, labelArray, encodeDataset, decodeDataset, type ImageSet, type Dataset, type DataOptions, type GatherAugment } from "./data/dataset.ts";
export { preprocessPresets, resolvePreprocess, type Preprocess, type PreprocessPreset } from "./data/preprocess.ts";
export { type Augment } from "./data/augment.ts";
export { resizeBilinear, centerCropToAspect, convertChannels, type RawImage } from "./data/resize.ts";
export { type LoadReport, type SkippedImage } from "./data/report.ts";
// Image and array decoding (fast-png, jpeg-js, fflate) is in `odecomp/data`, so the root export stays dependency-free.
