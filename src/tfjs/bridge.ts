// Moving tensors between tfjs's wasm heap and ours. The two modules have
// separate linear memories, so each kernel copies its inputs in once and its
// result out once (no other copies): bytes per call = 4 · (|inputs| + |output|),
// less the inputs readIn finds still resident from an earlier kernel (resident.ts).
// Inputs are read through the backend's public surface (typedArrayFromHeap);
// outputs are allocated with makeOutput and filled through their heap view.
import type { DataType, TensorInfo, backend_util } from "@tensorflow/tfjs-core";
import type { Scratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { getThreads, threadsInfo } from "../core/loader.ts";
import { keepLazily, recordOutput, residentPtr } from "./resident.ts";

/** Whether odecomp's kernels have more threads than tfjs-wasm's pool (in Node tfjs-wasm has one, tfjs#3830): where ours may take calls stock also computes. */
export function oursHasMoreThreads(): boolean {
  return getThreads() > getThreadsCount();
}

/**
 * Bench switch (bench/engine.bench.ts A/B): with `threaded` false, the passes threaded in session 13 run
 * as before — the conv forward's bias + activation as a second pass over the output, and the relu /
 * bias gradient, the max-pool gradient and Dense's weight gradient on one thread, and Dense's forward
 * pass on the stock kernel (kernels/FusedMatMul.ts). Results are the same either way (every split is
 * bitwise neutral) but for the Dense forward's, whose sums stock orders otherwise.
 */
export const enginePasses = { threaded: true };

/** Run fn on one kernel thread when enginePasses.threaded is off (else as is). */
export function serialUnlessThreaded<T>(s: Scratch, fn: () => T): T {
  const n = getThreads();
  if (enginePasses.threaded || n <= 1) return fn();
  const wait = threadsInfo().blockingWait ? 1 : 0;
  s.k.threads_config(1, wait);
  try {
    return fn();
  } finally {
    s.k.threads_config(n, wait);
  }
}

/** The part of tfjs-backend-wasm's BackendWasm the kernels use. */
export interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** 0 once the tensor's data is gone. */
  refCount(dataId: object): number;
}

export function checkFloat32(kernel: string, name: string, t: TensorInfo): void {
  if (t.dtype !== "float32") fail(kernel, `input '${name}' has dtype '${t.dtype}'; expected 'float32'`);
}

/** Copy a tfjs tensor into our scratch; returns the pointer. */
export function copyIn(s: Scratch, backend: WasmBackendLike, t: TensorInfo): number {
  const src = backend.typedArrayFromHeap(t) as Float32Array;
  const p = s.f32(src.length);
  s.view(p, src.length).set(src);
  return p;
}

/**
 * A pointer to t's values in our heap: the resident copy of one of our earlier outputs where there
 * is one (src/tfjs/resident.ts), else a fresh copy. Read only: the kernel must not write there.
 */
export function readIn(s: Scratch, backend: WasmBackendLike, t: TensorInfo): number {
  return residentPtr(s, t) || copyIn(s, backend, t);
}

/** Allocate a tfjs output of `shape` and copy n floats from our pointer p into it. */
export function copyOut(s: Scratch, backend: WasmBackendLike, p: number, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  if (keepLazily(s, p, out, backend)) return out;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.set(s.view(p, dst.length));
  recordOutput(s, p, out);
  return out;
}

/** Field order of assembly/conv/geom.ts (16 × i32). */
export function putGeometry(s: Scratch, info: backend_util.Conv2DInfo, depthwise: boolean): number {
  const p = s.i32(16);
  new Int32Array(s.k.memory.buffer, p, 16).set([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
    depthwise ? info.outChannels / info.inChannels : 1,
  ]);
  return p;
}

export function checkNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    fail(kernel, `dataFormat '${dataFormat}' is not supported by odecomp's wasm kernel; expected 'NHWC' (channelsLast)`);
  }
}

export function checkStatus(kernel: string, status: number): void {
  if (status !== 0) fail(kernel, `out of wasm memory for the patch buffer (status ${status}); expected a smaller batch or image`);
}
