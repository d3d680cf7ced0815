// The base of the decomposition results (TuckerTensor, CPTensor, TTTensor): what
// every factorized tensor answers the same way (parameter count, whether it is
// larger than the dense tensor, relative error against the original) and the
// plain-data form the worker posts (classes do not survive postMessage). Each
// subclass supplies toDense, nParams, ranks and its encode/decode pair; adding
// a decomposition = a subclass + one entry in FACTORIZED_CLASSES
// (src/decompose/registry.ts), and the worker carries it.
import { type Tensor, sizeOf } from "../core/tensor.ts";
import { relativeErrorData } from "./common.ts";

/** A factorized tensor as plain data: `$class` names the class that decodes it. */
export interface EncodedFactorized {
  $class: string;
}

export abstract class FactorizedTensor {
  /** Shape of the dense tensor this stands for. */
  abstract readonly shape: number[];
  /** The class's name in messages and in the encoded form (fixed strings: bundlers rename classes). */
  abstract get kind(): string;
  /** The ranks: one per decomposed mode (Tucker), [R] (CP), [1, r_1, …, r_{N−1}, 1] (TT). */
  abstract get ranks(): number[];
  abstract toDense(): Tensor;
  /** Numbers stored by the factors (and core / weights). */
  abstract nParams(): number;
  /** Plain data for postMessage; the class's static decode() rebuilds it. */
  abstract encode(): EncodedFactorized;

  /** True when this decomposition stores more numbers than the dense tensor. */
  get increasesParams(): boolean {
    return this.nParams() > sizeOf(this.shape);
  }

  /** ‖toDense() − original‖ / ‖original‖ (Frobenius), computed in wasm in f64. */
  relativeError(original: Tensor): number {
    return relativeErrorData(`${this.kind}.relativeError`, this.toDense().data, original, this.shape);
  }
}
