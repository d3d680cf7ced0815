// Resident outputs: the tensors odecomp's training kernels produce stay readable in our heap after they
// are copied out to tfjs's, so the next of our kernels that takes one as input (the next conv's x, the
// gradient kernels' dy, y and x) reads it where it is instead of copying it back in.
// Why: tfjs-wasm and odecomp have separate linear memories, and every kernel copied each input in and its
// output out (src/tfjs/bridge.ts). In one training step of the main job's CNN at two threads that was
// 87 MB in (6.7 ms) and 49 MB out (3.3 ms) for the baseline, 109 MB in (9.1 ms) and 60 MB out (3.8 ms)
// for its decomposition (session 16, copy timers around copyIn / copyOut): 12–15 % of the step, and
// serial while the kernels around it run on two threads. Almost every input of a conv chain is the
// output of one of ours.
// How: a ring of RING_BYTES in our heap, pinned below every scratch scope (core/heap.ts requestPinned).
// A kernel allocates its output in the ring (outBuf), computes into it, and copyOut records the tfjs
// tensor's dataId against the ring slot. Slots are handed out in order and the oldest are overwritten
// first; a slot that the running kernel reads or writes is never overwritten by that kernel (its
// allocation spills to plain scratch instead), and an output over half the ring is never kept.
// tfjs data is immutable per dataId (a new output gets a new dataId; Variable.assign takes the new
// tensor's dataId), so a recorded slot holds exactly the tensor's values for as long as it is live;
// a slot read through readIn must not be written (act_bias_grad_f32 writes relu's dz elsewhere then).
// Results are the same bits with or without the ring: only where the input bytes come from changes.
// Lazy copy-out: a kept output's copy into tfjs's heap is put off until something there reads it. tfjs-wasm
// reaches a tensor's bytes only through its dataIdMap entry's `id` (stock kernels hand it to the C++
// side) or `memoryOffset` (readSync, typedArrayFromHeap): those two become getters that copy the slot
// over first, and the slot is copied over before it is overwritten. A tensor disposed while still
// lazy is never copied at all (disposeData is wrapped to drop the getters first). Most of a conv
// chain's outputs are read only by our kernels and die within the step, so most copies vanish.
// Only with two or more odecomp threads, where our kernels take the forward convs too (with one,
// XNNPACK computes most forward passes and their outputs are never ours).
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { requestPinned, type Scratch } from "../core/heap.ts";
import type { KernelExports } from "../core/loader.ts";
import { getThreads } from "../core/loader.ts";

/** Ring size: a decomposed main-job step writes about 60 MB of outputs, the baseline's about 49 MB. */
export const RING_BYTES = 128 << 20;

/**
 * Bench / test switches: `enabled` false reads every input by copy (the "before"); `lazy` false copies
 * every output out at once; `bytes` sizes the next ring.
 */
export const residentOptions = { enabled: true, lazy: true, bytes: RING_BYTES };

/** Counters since load (bench/engine.bench.ts and the tests read them); `deferred` outputs were kept lazily, `materialized` of them copied out later. */
export const residentStats = { hits: 0, misses: 0, kept: 0, spills: 0, evictions: 0, hitBytes: 0, deferred: 0, materialized: 0 };

/** A lazily kept output: `materialize` copies it into tfjs's heap (once), `drop` forgets it uncopied. */
interface Lazy { materialize(): void; drop(): void }

interface Slot {
  off: number;
  bytes: number;
  live: boolean;
  /** The scope that last read or wrote the slot: that scope's own allocations never overwrite it. */
  scope: Scratch | null;
  /** Set while the tfjs tensor's own bytes have not been written yet. */
  lazy: Lazy | null;
}

class Ring {
  head = 0;
  /** Live slots in allocation order (oldest first, from qh). */
  queue: Slot[] = [];
  qh = 0;
  ids = new WeakMap<object, Slot>();
  /** Slots allocated by a scope and not yet recorded, by pointer. */
  pending = new Map<number, Slot>();
  constructor(readonly k: KernelExports, readonly base: number, readonly size: number) {}

  /** The slots an allocation of `bytes` at the head overwrites (after a wrap: all of the previous lap's too), or null if one is busy in `s`. */
  private victims(bytes: number, s: Scratch): { start: number; count: number } | null {
    const wrap = this.head + bytes > this.size;
    const start = wrap ? 0 : this.head;
    let i = this.qh;
    for (; i < this.queue.length; i++) {
      const v = this.queue[i]!;
      // live slots at or after head are the previous lap's (oldest first), those before it this lap's
      const overwritten = v.off >= this.head ? wrap || v.off < start + bytes : wrap && v.off < bytes;
      if (!overwritten) break;
      if (v.scope === s) return null;
    }
    return { start, count: i - this.qh };
  }

  alloc(s: Scratch, bytes: number): number {
    if (bytes > this.size / 2) return 0;
    const v = this.victims(bytes, s);
    if (!v) return 0;
    for (let i = 0; i < v.count; i++) {
      const old = this.queue[this.qh++]!;
      old.lazy?.materialize();
      old.live = false;
      this.pending.delete(this.base + old.off);
      residentStats.evictions++;
    }
    if (this.qh > 1024 && this.qh * 2 > this.queue.length) { this.queue = this.queue.slice(this.qh); this.qh = 0; }
    const slot: Slot = { off: v.start, bytes, live: true, scope: s, lazy: null };
    this.queue.push(slot);
    this.head = v.start + ((bytes + 15) & ~15);
    this.pending.set(this.base + slot.off, slot);
    return this.base + slot.off;
  }

  /** The pending slot at p (allocated by a scope of these kernels, still live) now holds `dataId`'s values, or null. */
  record(s: Scratch, p: number, dataId: object): Slot | null {
    const slot = this.k === s.k ? this.pending.get(p) : undefined;
    if (!slot?.live) return null;
    this.pending.delete(p);
    this.ids.set(dataId, slot);
    residentStats.kept++;
    return slot;
  }

  /** Copy every lazy slot out (before the ring's records are dropped). */
  drain(): void {
    for (let i = this.qh; i < this.queue.length; i++) this.queue[i]!.lazy?.materialize();
  }
}

let ring: Ring | null = null;
let requested = false;

/** The ring for this call's kernels, or null (disabled, one thread, not pinned yet, or memory refused it). */
function ringFor(s: Scratch): Ring | null {
  if (!residentOptions.enabled || getThreads() < 2) return null;
  if (ring && ring.k === s.k) return ring;
  if (ring) { ring.drain(); ring = null; }
  if (!requested) {
    requested = true;
    const bytes = residentOptions.bytes;
    requestPinned(bytes, (k, p) => { ring = new Ring(k, p, bytes); requested = false; });
  }
  return null;
}

/** Drop the ring's records (bench A/Bs; the pinned memory stays for the next use). */
export function forgetResident(): void {
  ring?.drain();
  if (ring) ring = new Ring(ring.k, ring.base, ring.size);
}

/** Drop the ring itself, so the next kernel call pins one of residentOptions.bytes (tests: the old one stays pinned, unused). */
export function resetResident(): void {
  ring?.drain();
  ring = null;
  requested = false;
}

/** Where t's values already are in our heap (its live ring slot, now busy in s), or 0: copy it in. */
export function residentPtr(s: Scratch, t: TensorInfo): number {
  const r = ringFor(s);
  if (!r) return 0;
  const slot = r.ids.get(t.dataId);
  if (!slot?.live) {
    residentStats.misses++;
    return 0;
  }
  slot.scope = s;
  residentStats.hits++;
  residentStats.hitBytes += slot.bytes;
  return r.base + slot.off;
}

/** Room for an output of n floats: a ring slot where one can be had, else scratch. */
export function outBuf(s: Scratch, n: number): number {
  const r = ringFor(s);
  const p = r ? r.alloc(s, Math.max(n, 1) * 4) : 0;
  if (p !== 0) return p;
  if (r) residentStats.spills++;
  return s.f32(n);
}

/** After copyOut: the tfjs tensor `out` now has the values at p; remember that when p is a ring slot. */
export function recordOutput(s: Scratch, p: number, out: TensorInfo): void {
  ring?.record(s, p, out.dataId);
}

/** tfjs-wasm's private surface that lazy copy-out needs (checked at run time: without it outputs are copied at once). */
interface TensorData { id: number; memoryOffset: number; refCount: number }
interface LazyBackend {
  dataIdMap: { get(dataId: object): TensorData | undefined; has(dataId: object): boolean };
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const lazyOf = new WeakMap<TensorData, Lazy>();
const hooked = new WeakSet<object>();

/** Wrap disposeData once per backend: a lazy tensor about to be freed is forgotten, not copied out. */
function hookDispose(backend: LazyBackend): void {
  if (hooked.has(backend)) return;
  hooked.add(backend);
  const dispose = backend.disposeData;
  backend.disposeData = function (this: LazyBackend, dataId: object, force = false): boolean {
    const data = this.dataIdMap.has(dataId) ? this.dataIdMap.get(dataId) : undefined;
    const lazy = data && lazyOf.get(data);
    if (lazy && (force || data.refCount <= 1)) lazy.drop();
    return dispose.call(this, dataId, force);
  };
}

function lazyBackend(b: object): b is LazyBackend {
  const m = (b as Partial<LazyBackend>).dataIdMap;
  return typeof m?.get === "function" && typeof m.has === "function" && typeof (b as Partial<LazyBackend>).disposeData === "function";
}

/**
 * After makeOutput: keep `out` (n floats at p, a pending ring slot) lazily instead of copying it now.
 * Returns false where it cannot (not a ring slot, lazy off, or a backend without tfjs-wasm's data map):
 * the caller copies then.
 */
export function keepLazily(s: Scratch, p: number, out: TensorInfo, backend: object): boolean {
  const r = ring;
  if (!residentOptions.lazy || !r || r.k !== s.k || !r.pending.get(p)?.live || !lazyBackend(backend)) return false;
  const data = backend.dataIdMap.get(out.dataId);
  if (!data || typeof data.memoryOffset !== "number" || typeof data.id !== "number") return false;
  const slot = r.record(s, p, out.dataId)!;
  hookDispose(backend);
  residentStats.deferred++;
  const id = data.id, memoryOffset = data.memoryOffset;
  const plain = (key: "id" | "memoryOffset", value: number) => Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  const lazy: Lazy = {
    drop() {
      plain("id", id);
      plain("memoryOffset", memoryOffset);
      lazyOf.delete(data);
      slot.lazy = null;
    },
    materialize() {
      lazy.drop();
      if (!backend.dataIdMap.has(out.dataId)) return;
      let dst: Float32Array;
      try {
        dst = backend.typedArrayFromHeap(out) as Float32Array;
      } catch {
        return; // its backend was disposed (its wasm module is gone): nothing left to copy into
      }
      dst.set(new Float32Array(r.k.memory.buffer, r.base + slot.off, dst.length));
      residentStats.materialized++;
    },
  };
  for (const key of ["id", "memoryOffset"] as const) {
    Object.defineProperty(data, key, { get: () => { lazy.materialize(); return key === "id" ? id : memoryOffset; }, enumerable: true, configurable: true });
  }
  lazyOf.set(data, lazy);
  slot.lazy = lazy;
  return true;
}
