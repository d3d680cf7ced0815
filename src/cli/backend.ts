// tfjs backends for the CLI: "cpu" for compress / reconstruct / inspect (small,
// exact, no wasm files to locate), "wasm" with odecomp's kernels registered for
// training.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  if (name === "wasm") {
    const { registerWasmKernels } = await import("../tfjs/index.ts");
    await registerWasmKernels();
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  }
  await tf.ready();
  if (name === "cpu") quietCpuBanner();
}

/**
 * tfjs' cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js … install tfjs-node"
 * on its first tensor write when env IS_NODE is true (MathBackendCPU.write, through backend_util.warn).
 * The CLI uses the cpu backend on purpose (small, exact), so the advice is noise there. Clearing the
 * backend's own first-use flag silences exactly that banner; the global PROD / IS_TEST flags would also
 * hide every other tfjs warning, and a console.warn filter would leak into library callers.
 */
function quietCpuBanner(): void {
  const b = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (b && typeof b.firstUse === "boolean") b.firstUse = false;
}
