// odecomp/train: training schedules, rank fading, reference models, tfjs batching and the
// learning-curve predictor. Depends on @tensorflow/tfjs-core and @tensorflow/tfjs-layers
// (kept out of the tfjs-free root export).
export { mlp, vggCnn, smallResNet, wideVgg, resNet20, referenceModels, forwardFlops, type ReferenceModel, type ModelOptions, type MlpOptions } from "./models.ts";
export { trainAlternated, epochRatios, type AlternatedRun, type AlternatedOutcome, type AlternatedResult } from "./alternate.ts";
export { forEachBatch, batchCount, type Batch, type BatchOptions } from "./batches.ts";
export { trainEpoch, evaluate, type EpochOptions, type EpochResult } from "./loop.ts";
export { fadingPenalty, fadingProximal, applyFadingProximal, fadingRamp, tailNorms, truncatePairs, type FadingOptions, type FactorPair, type SvdFunction } from "./fading.ts";
export { factorizeDense, findSvdPairs, svdPairOf, pairRank, type FactorizeOptions } from "./factorize.ts";
export { train, baseline, pretrain, fading, incremental, incrementalPredicted, incrementalDecompose, decomposeAtEpoch, auto, LOW_RANK_LR_SCALE, type Schedule, type Phase, type PhaseKind, type FadingSpec, type EarlyStopSpec, type TrainData, type TrainOptions, type TrainResult, type EpochRecord, type PhaseRecord } from "./schedule.ts";
export { phaseKinds } from "./phases/index.ts";
export { flopsTimer, fittedTimer, MIN_RECOVERY_EPOCHS, ACCURACY_DROP_WARN, checkConvergence, convergenceSettings, planSwitch, type LayerTimer, type LayerTimingRequest, type ConvergenceOptions, type ConvergenceCheck, type AutoPlanOptions, type LayerDecision, type SwitchPlan, type AutoRecord } from "./auto.ts";
export { stableRank, stableRankHook, StableRankTracker, kernelMatrixShape, type StableRankOptions, type StableRankResult, type StableRankPoint } from "./hooks/stable-rank.ts";
export { frobeniusDecayHook, findChains, chainProductNorm2, chainGramNorm2, type DecayedChain } from "./hooks/frobenius.ts";
export { lrScheduleHook, lrFactor, checkLrSchedule, plannedEpochs, lrScheduleKinds, type LrSchedule, type LrScheduleHook } from "./hooks/lr-schedule.ts";
export type { TrainHook, HookContext, StepContext, LossContext, EpochContext } from "./hooks/hook.ts";
export { fitCurves, predictCurve, shouldStop, fitRankCurve, nextRank, curveFamilies, pow3, exp3, logPower, type CurveFamily, type CurveEnsemble, type FamilyFit, type PredictorOptions, type CurvePrediction, type StopOptions, type StopDecision, type RankPoint, type NextRankOptions, type RankChoice } from "./predictor.ts";
export { distillLoss, softKL, crossEntropy, outputKind, outputClasses, toLogits, teacherOutput, DEFAULT_ALPHA, DEFAULT_TEMPERATURE, type OutputKind, type DistillOptions, type DistillLossArgs } from "./distill.ts";
export { distillHook, type DistillHookOptions } from "./hooks/distill.ts";
export { finetune, type FinetuneOptions, type FinetuneResult, type FinetuneEpoch, type FinetuneProgress } from "./finetune.ts";
export { recalibrateBatchNorm, batchNormLayers, type RecalibrateOptions } from "./recalibrate.ts";
// the fused training kernels trainEpoch and finetune swap in, for custom training loops
export { fuseBatchNorm, withFusedBatchNorm, isBatchNormFused } from "./fused-bn.ts";
export { fuseAdam } from "./fused-adam.ts";
export { fuseConvActivation, isConvFused } from "./fused-conv.ts";
export { evaluateModel, checkModelData, inputLayout, modelInputSize, type EvaluateOptions, type EvaluateResult, type ClassAccuracy } from "./evaluate.ts";
// The data loaders that run in every runtime (browser File/Blob lists, folder entries, npy/npz bytes) and
// the preprocessing presets; the Node/Deno file-system ones (loadImageFolder, loadNpz, loadNpy, loadData)
// are in odecomp/data/node.
export { loadImageFiles, loadArrayFile, type PickedFile } from "../data/files.ts";
export { loadFolderEntries, type FolderEntry, type DataCache, type ImageFolderOptions } from "../data/folder.ts";
export { parseNpy, parseNpz, loadNpzBytes, loadNpyBytes, type NpyArray, type ArrayOptions } from "../data/npy.ts";
export { preprocessPresets, resolvePreprocess, type Preprocess, type PreprocessPreset } from "../data/preprocess.ts";
export type { Augment } from "../data/augment.ts";
export type { LoadReport, SkippedImage } from "../data/report.ts";
