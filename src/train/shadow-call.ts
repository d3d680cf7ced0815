// Shadowing a layer's `call` for the length of a training run: the mechanism fused-bn.ts and
// fused-conv.ts share. The layer keeps its class, weights and serialization; only an own `call`
// property hides the prototype's, and deleting it puts the stock call back.
import type * as tf from "@tensorflow/tfjs-core";

/** Counts of training-mode calls: taken by the fused op, or left to the stock call. */
export interface FusedCounts { fused: number; stock: number }

type LayerCall = (this: unknown, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** A set of shadowed calls, to tell whether a layer's call is one of them now. */
export class ShadowedCalls {
  private readonly calls = new WeakSet<object>();

  /**
   * Shadow `call` on each layer with `make(stock)`, skipping layers that already have an own `call`
   * (shadowed already, or someone else's). Returns the function that puts every stock call back.
   */
  shadow<L extends { call: object }>(layers: Iterable<L>, make: (layer: L, stock: L["call"]) => L["call"]): () => void {
    const patched: L[] = [];
    for (const layer of new Set(layers)) {
      if (Object.prototype.hasOwnProperty.call(layer, "call")) continue;
      const fused = make(layer, layer.call);
      this.calls.add(fused);
      Object.defineProperty(layer, "call", { value: fused, configurable: true, writable: true });
      patched.push(layer);
    }
    return () => {
      for (const layer of patched) delete (layer as unknown as { call?: unknown }).call;
    };
  }

  /**
   * Shadow each layer's call so that a training-mode call on one tensor x runs `make(layer)(x)` where
   * `applies(layer, x)`; every other call runs the stock call. `counts` counts the training-mode calls by path.
   */
  shadowTraining<L extends object>(layers: Iterable<L>, counts: FusedCounts, applies: (layer: L, x: tf.Tensor) => boolean,
    make: (layer: L) => (x: tf.Tensor) => tf.Tensor): () => void {
    return this.shadow(layers as unknown as Iterable<{ call: LayerCall }>, (shadowedLayer, stock) => {
      const layer = shadowedLayer as unknown as L;
      const fused = make(layer);
      return function (this: unknown, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (kwargs?.["training"] !== true || (Array.isArray(inputs) && inputs.length !== 1) || !applies(layer, x)) {
          if (kwargs?.["training"] === true) counts.stock++;
          return stock.call(this, inputs, kwargs);
        }
        counts.fused++;
        return fused(x);
      };
    });
  }

  /** Whether `layer`'s call is one this set shadowed it with. */
  has(layer: object): boolean {
    return this.calls.has((layer as { call?: object }).call ?? {});
  }
}
