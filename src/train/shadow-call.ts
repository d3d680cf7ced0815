// Shadowing a layer's `call` for the length of a training run: the mechanism fused-bn.ts and
// fused-conv.ts share. The layer keeps its class, weights and serialization; only an own `call`
// property hides the prototype's, and deleting it puts the stock call back.

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

  /** Whether `layer`'s call is one this set shadowed it with. */
  has(layer: object): boolean {
    return this.calls.has((layer as { call?: object }).call ?? {});
  }
}
