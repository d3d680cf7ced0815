// Registers odecomp's kernels into tfjs's 'wasm' backend through the public
// kernel registry. One explicit list; a kernel is one file under kernels/.
import { findBackend, getKernel, registerKernel, unregisterKernel, type KernelBackend, type KernelConfig } from "@tensorflow/tfjs-core";
// Import the stock wasm backend first so its kernels are registered before
// ours: ours then replace them, never the reverse.
import "@tensorflow/tfjs-backend-wasm";
import { ready } from "../core/loader.ts";
import { batchMatMulConfig } from "./kernels/BatchMatMul.ts";
import { conv2DBackpropFilterConfig } from "./kernels/Conv2DBackpropFilter.ts";
import { depthwiseConv2dNativeBackpropFilterConfig } from "./kernels/DepthwiseConv2dNativeBackpropFilter.ts";
import { depthwiseConv2dNativeBackpropInputConfig } from "./kernels/DepthwiseConv2dNativeBackpropInput.ts";

/**
 * The kernels registered into 'wasm'. Kept out on measurement (bench/tfjs.bench.ts):
 * - Conv2D, Conv2DBackpropInput: ours (patches + GEMM) are slower than stock XNNPACK — see the bench rows.
 * - _FusedMatMul: Dense forward runs untransposed, where stock XNNPACK is fast; Dense backward
 *   goes through BatchMatMul (the gradient of fused.matMul calls matMul with transposes).
 */
export const WASM_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  batchMatMulConfig,
];

/** Stock configs we replaced, to restore them on unregister. */
const replaced = new Map<string, KernelConfig>();

/**
 * Registers odecomp's kernels into the 'wasm' backend (waits for odecomp's own
 * wasm to load first). Idempotent; may be called before or after
 * `tf.setBackend('wasm')`; other backends are untouched.
 */
export async function registerWasmKernels(): Promise<void> {
  await ready();
  for (const config of WASM_KERNELS) {
    const existing = getKernel(config.kernelName, "wasm");
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) {
      replaced.set(config.kernelName, existing);
      unregisterKernel(config.kernelName, "wasm");
    }
    registerKernel(config);
  }
}

/** Undoes registerWasmKernels: removes ours and restores the stock kernels they replaced. */
export function unregisterWasmKernels(): void {
  const backend = findBackend("wasm") as KernelBackend | null;
  for (const config of WASM_KERNELS) {
    const existing = getKernel(config.kernelName, "wasm");
    if (existing?.kernelFunc !== config.kernelFunc) continue;
    unregisterKernel(config.kernelName, "wasm");
    const stock = replaced.get(config.kernelName);
    if (stock) {
      registerKernel(stock);
      // The backend runs setupFunc only for kernels registered when it initialises.
      if (backend && stock.setupFunc) stock.setupFunc(backend);
      replaced.delete(config.kernelName);
    }
  }
}

/** Names of the kernels registerWasmKernels installs. */
export function wasmKernelNames(): string[] {
  return WASM_KERNELS.map((c) => c.kernelName);
}
