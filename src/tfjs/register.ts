// Registers odecomp's kernels into tfjs's 'wasm' backend through the public
// kernel registry. One explicit list; a kernel is one file under kernels/.
import { findBackend, getKernel, registerKernel, unregisterKernel, type KernelBackend, type KernelConfig } from "@tensorflow/tfjs-core";
// Import the stock wasm backend first so its kernels are registered before
// ours: ours then replace them, never the reverse.
import "@tensorflow/tfjs-backend-wasm";
import { ready } from "../core/loader.ts";
import { stockKernels } from "./stock.ts";
import { clearPairing } from "./conv-grad-pairing.ts";
import { batchMatMulConfig } from "./kernels/BatchMatMul.ts";
import { conv2DBackpropFilterConfig } from "./kernels/Conv2DBackpropFilter.ts";
import { conv2DBackpropInputConfig } from "./kernels/Conv2DBackpropInput.ts";
import { depthwiseConv2dNativeBackpropFilterConfig } from "./kernels/DepthwiseConv2dNativeBackpropFilter.ts";
import { depthwiseConv2dNativeBackpropInputConfig } from "./kernels/DepthwiseConv2dNativeBackpropInput.ts";
import { maxPoolGradConfig } from "./kernels/MaxPoolGrad.ts";
import { maxPoolRoutedConfig } from "./kernels/MaxPool.ts";
import { tileConfig } from "./kernels/Tile.ts";
import { conv2DRoutedConfig } from "./kernels/Conv2D.ts";
import { fusedConv2DRoutedConfig } from "./kernels/FusedConv2D.ts";
import { identityConfig } from "./kernels/Identity.ts";
import { castConfig } from "./kernels/Cast.ts";
import { sumConfig } from "./kernels/Sum.ts";
import { batchNormTrainConfig } from "./kernels/BatchNormTrain.ts";
import { batchNormTrainGradConfig } from "./kernels/BatchNormTrainGrad.ts";
import { adamUpdateConfig } from "./kernels/AdamUpdate.ts";
import { conv2DBiasActConfig, conv2DBiasActGradConfig } from "./kernels/Conv2DBiasAct.ts";
import { fusedMatMulRoutedConfig } from "./kernels/FusedMatMul.ts";

/**
 * The kernels registered into 'wasm'. Stock has no Conv2DBackpropFilter / Depthwise…Backprop*.
 * Where stock has one, the choice is by measurement (bench/tfjs.bench.ts, 3–4 runs on a loaded
 * 2-vCPU machine, x[32,32,32,64] with a 3×3×64×64 filter):
 * - Conv2DBackpropInput: ours 4.8–9.6 GFLOP/s vs stock 0.43–0.70 → ours (11–15×).
 * - BatchMatMul: transposed ours 9–33× stock, batched NN 10–11× → ours; unbatched NN is
 *   handed to the stock kernel (XNNPACK, level with ours under load, ≈ 28 GFLOP/s quiet).
 * - Tile (43–51×) and MaxPoolGrad (4.6–4.7×): found slow by profiling the bench's training
 *   steps (stock Tile ≈ 40 % of the ResNet-style step via BN's gradient, stock MaxPoolGrad ≈ 25 %
 *   of the CNN step).
 * - Sum over leading axes (bias gradients) and Identity (no copy): found by profiling the main
 *   job's training step (bench/engine.bench.ts: stock Sum 5–10 %, stock Identity 1.5–5.6 % of the step).
 *   Cast to the same dtype (no copy; ReLU's gradient): stock 0.5–0.8 % of the step there.
 * - Conv2D / FusedConv2D route: ours when odecomp has more threads than tfjs-wasm (Node: 2 vs 1; ours
 *   1.5–2.1× stock on 3×3 convs with a free second core, see kernels/Conv2D.ts); otherwise stock (ours
 *   0.65–1.18× stock on one thread, bench/tfjs.bench.ts) for every call it computes correctly, and ours
 *   for a non-square filter with stride > 1, where stock is wrong.
 * - _FusedMatMul (Dense forward) route, as the convs: ours (threaded GEMM + the conv epilogue) when
 *   odecomp has more threads than tfjs-wasm and the product has ≥ 4 M multiply-adds (the main CNN's
 *   fc1: 1.4–2.3× stock with two threads, see kernels/FusedMatMul.ts); stock XNNPACK otherwise.
 * - MaxPool route, as the convs: ours (threaded by images, output left resident) when odecomp has more
 *   threads than tfjs-wasm; stock otherwise (see kernels/MaxPool.ts for the A/B).
 */
export const WASM_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  batchMatMulConfig,
  tileConfig,
  maxPoolGradConfig,
  maxPoolRoutedConfig,
  conv2DRoutedConfig,
  fusedConv2DRoutedConfig,
  fusedMatMulRoutedConfig,
  sumConfig,
  identityConfig,
  castConfig,
  // not stock kernels: BatchNormalization's training step (src/train/fused-bn.ts), Adam's update (src/train/fused-adam.ts),
  // a conv with its bias and activation (src/train/fused-conv.ts)
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  adamUpdateConfig,
  conv2DBiasActConfig,
  conv2DBiasActGradConfig,
];

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
      stockKernels.set(config.kernelName, existing);
      unregisterKernel(config.kernelName, "wasm");
    }
    registerKernel(config);
  }
}

/** Undoes registerWasmKernels: removes ours and restores the stock kernels they replaced. */
export function unregisterWasmKernels(): void {
  clearPairing();
  const backend = findBackend("wasm") as KernelBackend | null;
  for (const config of WASM_KERNELS) {
    const existing = getKernel(config.kernelName, "wasm");
    if (existing?.kernelFunc !== config.kernelFunc) continue;
    unregisterKernel(config.kernelName, "wasm");
    const stock = stockKernels.get(config.kernelName);
    if (stock) {
      registerKernel(stock);
      // The backend runs setupFunc only for kernels registered when it initialises.
      if (backend && stock.setupFunc) stock.setupFunc(backend);
      stockKernels.delete(config.kernelName);
    }
  }
}

/** Names of the kernels registerWasmKernels installs. */
export function wasmKernelNames(): string[] {
  return WASM_KERNELS.map((c) => c.kernelName);
}
