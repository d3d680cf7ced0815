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
}
