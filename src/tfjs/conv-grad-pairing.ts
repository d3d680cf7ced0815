// Pairs the two gradient kernels of a pointwise conv so they run as one (assembly/conv/pointwise_grad.ts).
//
// tfjs asks for a conv's gradients as two kernels: Conv2DBackpropInput(dy, w) for dx, then
// Conv2DBackpropFilter(x, dy) for dw — from the Conv2D gradient's two thunks (x first), or eagerly
// from fused.conv2d's custom gradient (dx first). For the decomposed chains' narrow 1×1 convs each
// kernel is a pass over dy, copied into our heap each time; computing both in the first pass saves
// one copy and one stream of dy. The dx kernel does not receive x, so the forward kernels remember,
// per filter, the input they last convolved it with (`rememberForwardInput`); the dx kernel of a
// pointwise conv computes dw too when that x is still alive and of the right shape, and parks dw
// (a few KB, as a plain array: no tensor to leak when nobody asks for it) under the identities of
// x and dy. The dw kernel takes it only when called with those very tensors (tfjs tensors never
// change their data) and the same filter shape; anything else computes dw as before. So the results
// are those of the two kernels run apart (bitwise: pointwise_grad.ts blocks its sums the same way);
// a pairing that does not happen (weights shared between two calls, a frozen layer whose dw nobody
// asks for, an input gradient alone) only costs the dw computed for nothing.
import type { TensorInfo } from "@tensorflow/tfjs-core";

type DataId = object;

/** Filter dataId → the input of the last forward conv that used it (weak: both go with their tensors). */
const forwardInput = new WeakMap<DataId, TensorInfo>();

let enabled = true;

/** Turn the pairing off (or back on): the A/B switch of bench/engine.bench.ts (`--without=pairing`). */
export function setConvGradPairing(on: boolean): void {
  enabled = on;
  parked = null;
}

/** Called by the Conv2D / FusedConv2D kernels on every forward call. */
export function rememberForwardInput(filter: TensorInfo, x: TensorInfo): void {
  if (enabled) forwardInput.set(filter.dataId as DataId, x);
}

/** The input last convolved with `filter`, or undefined. */
export function forwardInputOf(filter: TensorInfo): TensorInfo | undefined {
  return enabled ? forwardInput.get(filter.dataId as DataId) : undefined;
}

interface Parked { x: DataId; dy: DataId; filterShape: string; dw: Float32Array }

/** One slot: tfjs asks for a conv's dw right after its dx (nothing runs in between). */
let parked: Parked | null = null;

/** How often dw was computed alongside dx, and how often a Conv2DBackpropFilter call took it (tests, bench). */
const counts = { parked: 0, taken: 0 };

export function pairingCounts(): { parked: number; taken: number } {
  return { ...counts };
}

/** Keep dw = xᵀ·dy, computed alongside dx, for the Conv2DBackpropFilter call that follows. */
export function parkFilterGrad(x: TensorInfo, dy: TensorInfo, filterShape: readonly number[], dw: Float32Array): void {
  parked = { x: x.dataId as DataId, dy: dy.dataId as DataId, filterShape: filterShape.join(","), dw };
  counts.parked++;
}

/** The parked dw when (x, dy, filterShape) are the ones it was computed from, else null; the slot is emptied either way. */
export function takeFilterGrad(x: TensorInfo, dy: TensorInfo, filterShape: readonly number[]): Float32Array | null {
  const p = parked;
  parked = null;
  if (!p || p.x !== x.dataId || p.dy !== dy.dataId || p.filterShape !== filterShape.join(",")) return null;
  counts.taken++;
  return p.dw;
}

/** Drop any parked dw (tests; unregistering the kernels). */
export function clearPairing(): void {
  parked = null;
}
