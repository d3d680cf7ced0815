// The stock wasm kernels our registration replaced, kept so a kernel of ours
// can hand a case to the stock one where that measured faster (and so
// unregisterWasmKernels can restore them).
import type { KernelBackend, KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";

export const stockKernels = new Map<string, KernelConfig>();
const setUp = new WeakMap<KernelConfig, WeakSet<object>>();

/**
 * Run the stock kernel `name` on `backend`; undefined when there is none.
 * Its setupFunc runs once per backend first (the backend only sets up the
 * kernels registered when it initialised, and ours may have been then).
 */
export function runStock(name: string, args: { inputs: object; backend: object; attrs: object }): TensorInfo | undefined {
  const config = stockKernels.get(name);
  if (!config) return undefined;
  let done = setUp.get(config);
  if (!done) setUp.set(config, (done = new WeakSet()));
  if (!done.has(args.backend)) {
    config.setupFunc?.(args.backend as KernelBackend);
    done.add(args.backend);
  }
  return config.kernelFunc(args as Parameters<KernelConfig["kernelFunc"]>[0]) as TensorInfo;
}
