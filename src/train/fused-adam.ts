// Swaps a tf.train.adam optimizer's update onto one kernel per variable (OdecompAdamUpdate,
// src/tfjs/kernels/AdamUpdate.ts) while odecomp trains with it, instead of the ~14 tfjs kernels per
// variable of AdamOptimizer.applyGradients, each of which costs tens of µs of JS dispatch: a ResNet-20
// step's update runs 67 kernels instead of 914, its decomposed model's 107 instead of 1,474
// (bench/engine.bench.ts, where the decomposed step measured 1.13× faster with it).
// The result is bitwise the stock update (the kernel rounds each operation as tfjs does), and the
// optimizer keeps its stock state: the same moment variables, created the same way and named the
// same, the same accBeta scalars and iteration count, so getWeights/setWeights and a later unfused
// step see no difference. Only `applyGradients` is shadowed by an own property, and the returned
// function removes it. Other optimizers, and a call on another backend or without odecomp's kernels
// or with a non-float32 variable, run the stock update.
import * as tf from "@tensorflow/tfjs-core";
import { AdamUpdate } from "../tfjs/kernels/AdamUpdate.ts";

/** The parts of tfjs-core's AdamOptimizer (protected in its typings) the fused update uses. */
interface AdamLike {
  getClassName(): string;
  applyGradients(g: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

/** Counts of fused and stock Adam updates since load (for tests and the engine bench). */
export const fusedAdamCounts = { fused: 0, stock: 0 };

function available(): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(AdamUpdate, "wasm") !== undefined;
}

/**
 * Shadow `optimizer.applyGradients` with the fused update when it is a tf.train.adam optimizer (else
 * nothing changes). Returns the function that puts the stock update back.
 */
export function fuseAdam(optimizer: tf.Optimizer): () => void {
  const o = optimizer as unknown as AdamLike;
  if (o.getClassName() !== "Adam" || Object.prototype.hasOwnProperty.call(o, "applyGradients")) return () => {};
  const stock = o.applyGradients;
  const fused = function (this: AdamLike, variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradOf = (name: string, i: number) => Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
    const ok = available() && typeof this.learningRate === "number" && names.every((name, i) => {
      const g = gradOf(name, i), value = tf.engine().registeredVariables[name];
      return value !== undefined && value.dtype === "float32" && (g == null || g.dtype === "float32");
    });
    if (!ok) {
      fusedAdamCounts.stock++;
      return stock.call(this, variableGradients);
    }
    fusedAdamCounts.fused++;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        // the moment variables exactly as AdamOptimizer creates them (same order, names and state)
        if (this.accumulatedFirstMoment[i] == null) {
          this.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (this.accumulatedSecondMoment[i] == null) {
          this.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        const g = gradOf(name, i);
        if (g == null) return;
        const m = this.accumulatedFirstMoment[i]!.variable, v = this.accumulatedSecondMoment[i]!.variable;
        const [x1, m1, v1] = tf.engine().runKernel(AdamUpdate, { x: value, g, m, v, accBeta1: this.accBeta1, accBeta2: this.accBeta2 },
          { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate }) as tf.Tensor[];
        m.assign(m1);
        v.assign(v1);
        value.assign(x1);
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
  Object.defineProperty(o, "applyGradients", { value: fused, configurable: true, writable: true });
  return () => { delete (o as unknown as { applyGradients?: unknown }).applyGradients; };
}
