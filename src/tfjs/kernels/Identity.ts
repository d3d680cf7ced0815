// Identity without a copy: the output shares the input's data (its reference count goes up), as
// tfjs-cpu's Identity and tfjs-wasm's own Reshape do. Stock tfjs-wasm copies the whole tensor, and a
// training step runs Identity 50–80 times (customGrad wraps every fused conv's inputs and outputs;
// the optimizer clones), ≈ 130–190 MB of copies per step of the main job's CNN (bench/engine.bench.ts).
// Safe because tfjs tensors are immutable: a Variable's assign swaps its data, never writes into it.
import { Identity, type DataId, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { runStock } from "../stock.ts";

export interface RefCounting { incRef(dataId: DataId): void }

export function identity(args: { inputs: { x: TensorInfo }; backend: RefCounting; attrs: object }): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === "string") return runStock(Identity, args)!; // strings live outside the heap
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: "wasm",
  kernelFunc: identity as unknown as KernelFunc,
};
