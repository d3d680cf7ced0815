// Cast to the dtype a tensor already has, without a copy: the output shares the input's data (its
// reference count goes up), as Identity.ts does. Stock tfjs-wasm copies the whole tensor whatever the
// dtypes; every ReLU's gradient casts its float32 step mask to float32 (`mul(dy, cast(step(x),
// 'float32'))`), 5 full-size copies per step of the main job's CNN (≈ 1 ms, 0.5–0.8 % of the step in
// bench/engine.bench.ts). A cast to bool is x ≠ 0, as on tfjs-cpu: stock tfjs-wasm copies the values
// into the bool array (float32 [-2.2, 3] → [254, 3], found by test/tfjs/engine-cast.test.ts). Other
// casts that change the dtype, and strings, stay stock.
import { Cast, type CastAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../bridge.ts";
import { runStock } from "../stock.ts";
import { identity, type RefCounting } from "./Identity.ts";

export function cast(args: { inputs: { x: TensorInfo }; backend: RefCounting & WasmBackendLike; attrs: CastAttrs }): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  if (attrs.dtype === "bool" && (x.dtype === "float32" || x.dtype === "int32")) {
    const out = backend.makeOutput(x.shape.slice(), "bool");
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    return out;
  }
  if (x.dtype !== attrs.dtype || x.dtype === "string") return runStock(Cast, args)!;
  return identity(args);
}

export const castConfig: KernelConfig = {
  kernelName: Cast,
  backendName: "wasm",
  kernelFunc: cast as unknown as KernelFunc,
};
