// The stock wasm kernels our registration replaced, kept so a kernel of ours
// can hand a case to the stock one where that measured faster (and so
// unregisterWasmKernels can restore them).
import type { KernelBackend, KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";

/**
 * The stock kernels by name, and which backends each has been set up on. One table per realm
 * (the registration it records is per realm too); reach it through `stockKernels`.
 */
class StockKernels {
  private readonly configs = new Map<string, KernelConfig>();
  private readonly setUp = new WeakMap<KernelConfig, WeakSet<object>>();

  get(name: string): KernelConfig | undefined {
    return this.configs.get(name);
  }

  has(name: string): boolean {
    return this.configs.has(name);
  }

  /** Keep the stock kernel that a registration of ours is about to replace. */
  set(name: string, config: KernelConfig): this {
    this.configs.set(name, config);
    return this;
  }

  /** Forget it (after it was restored). */
  delete(name: string): boolean {
    return this.configs.delete(name);
  }

  /**
   * Run the stock kernel `name` on `backend`; undefined when there is none.
   * Its setupFunc runs once per backend first (the backend only sets up the
   * kernels registered when it initialised, and ours may have been then).
   */
  run(name: string, args: { inputs: object; backend: object; attrs: object }): TensorInfo | undefined {
    const config = this.configs.get(name);
    if (!config) return undefined;
    let done = this.setUp.get(config);
    if (!done) this.setUp.set(config, (done = new WeakSet()));
    if (!done.has(args.backend)) {
      config.setupFunc?.(args.backend as KernelBackend);
      done.add(args.backend);
    }
    return config.kernelFunc(args as Parameters<KernelConfig["kernelFunc"]>[0]) as TensorInfo;
  }
}

export const stockKernels = new StockKernels();

/** Run the stock kernel `name` on `backend` (stockKernels.run); undefined when there is none. */
export function runStock(name: string, args: { inputs: object; backend: object; attrs: object }): TensorInfo | undefined {
  return stockKernels.run(name, args);
}
