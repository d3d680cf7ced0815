// What a layer compression method is: one object per method (one file each
// in this folder), listed in index.ts. Everything the planner, the chain
// builder, the cost model, reconstruct and the CLI need to know about a
// method lives in its spec, so adding a method is its file plus one line.
import type { Tensor } from "../../core/tensor.ts";
import type { DecompositionOptions } from "../decompositions.ts";
import type { FactorizableLayer, LayerConfig, LayerSpec } from "../types.ts";

/** Parameters and forward FLOPs per sample (2 per multiply-accumulate) of a layer or chain. */
export interface Cost {
  params: number;
  flops: number;
}

/** Spectra that drive rank selection, one per spectrum, with the shape of the matrix each comes from (for EVBMF). */
export interface RankSpectra {
  spectra: Float64Array[];
  shapes: [number, number][];
}

/** A dry-run estimate of ‖W − Ŵ‖/‖W‖ from the spectra: exact, or an upper bound. */
export interface ErrorEstimate {
  relError: number;
  kind: "exact" | "bound";
}

/** How a CLI `--method` value maps to this method and how the help text lists it. */
export interface CliNames {
  /** Values accepted besides the method's own name (e.g. "spatial" for spatial-svd). */
  aliases: string[];
  /** The names shown in help and error messages (accepted too), each with its position (lower first) and an optional note shown in help. */
  shown: { name: string; at: number; note?: string }[];
}

export interface MethodSpec {
  /** The method's name in options and plans ("spatial-svd"). */
  name: string;
  /** Token in chain layer names, `L__odc_<token>_<i>`: letters and digits, unique among methods. */
  token: string;
  /** The layer kind the method factorizes. */
  appliesTo: FactorizableLayer["className"];
  /** Number of ranks the method takes. */
  ranks: number;
  /** The chain of stock layers, in words (for docs and messages). */
  chain: string;
  /** Number of stock layers in the chain. */
  chainLength: number;
  /** Names of the chain's kernels in chain order: what `kernels` returns and `fold` receives (as an array in this order). */
  kernelNames: string[];
  /** CLI names (Conv2D methods only are offered by `--method`); omitted: not offered on the command line. */
  cli?: CliNames;

  /** Largest meaningful rank(s) for a layer: the rank(s) at which the factorization is exact. */
  maxRanks(layer: FactorizableLayer): number[];
  /**
   * Spectra for rank selection. "perSpectrum": rank i is chosen from spectrum i (and spectra give the
   * dry-run error). "pooled": one rank, the largest of the per-spectrum ranks (CP from Tucker-2's
   * spectra); under a budget it is a fraction of the break-even rank instead.
   */
  spectra(layer: FactorizableLayer, o?: DecompositionOptions): RankSpectra;
  rankRule: "perSpectrum" | "pooled";
  /** Dry-run error estimate from the spectra at ranks; omitted where none is known (then the plan reports null). */
  estimateError?(spectra: Float64Array[], ranks: number[]): ErrorEstimate;
  /** Why this layer must be left alone by this method (a plan note), or null. Called for valid layers only. */
  leaveAlone?(layer: FactorizableLayer): string | null;

  /**
   * Cost of the layer factorized at ranks on an input of shape `inShape` (no batch axis), in closed form
   * (no kernels built; the planner evaluates this many times). Equal to chainCost of the built chain.
   * Other cost models (e.g. measured time) sit beside this one, keyed by the same layer shapes and ranks.
   */
  cost(layer: FactorizableLayer, ranks: readonly number[], inShape: readonly number[]): Cost;

  /** Decompose the layer's kernel and lay the factors out as the chain's kernels (named as `kernelNames`). */
  kernels(layer: FactorizableLayer, ranks: number[], o: DecompositionOptions): Record<string, Tensor>;
  /** The stock layers of the chain from its kernels; `name(i)` is the i-th layer's name. Pure: no decomposition. */
  layers(layer: FactorizableLayer, k: Record<string, Tensor>, name: (i: number) => string): LayerSpec[];
  /** The original kernel from the chain's kernels (in chain order). */
  fold(k: Tensor[]): Tensor;
  /** Config fields the folded layer takes from the chain (geometry, filters) on top of the last layer's config. */
  foldConfig(chain: LayerSpec[], kernel: Tensor, where: string): LayerConfig;
  /** Weights of the folded layer besides `kernel` and `bias` that the chain keeps as they are (SeparableConv2D's depthwise kernel). */
  foldKept?(chain: LayerSpec[], where: string): Pick<FactorizableLayer, "depthwise">;
}
