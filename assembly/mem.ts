// Scratch memory for kernels: a bump allocator over linear memory that the
// JS side marks before a call and resets after it, so repeated calls never
// grow memory. Kernels must not use `new` (the stub runtime never frees);
// every temporary comes from `scratch_alloc`.

//
// The first CTRL_BYTES above the static data are the thread pool's control
// block (assembly/threads.ts): every instance sharing one memory computes the
// same address, and scratch starts after it. A worker instance works in an
// arena its caller carved out of the caller's scratch (scratch_arena): its
// allocations stay below `limit` and never grow memory.

let base: usize = 0;
let top: usize = 0;
let limit: usize = 0; // 0: no arena limit (the owning thread; memory may grow)

/** Bytes reserved for the thread pool's control block. */
export const CTRL_BYTES: usize = 256;

@inline function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

/** Address of the thread pool's control block (the same in every instance of this module). */
@inline export function ctrl_ptr(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

@inline function ensureInit(): void {
  if (base == 0) {
    base = ctrl_ptr() + CTRL_BYTES;
    top = base;
  }
}

/** Make [start, end) this instance's scratch (a worker's share of its caller's scratch). */
export function scratch_arena(start: usize, end: usize): void {
  base = align16(start);
  top = base;
  limit = end;
}

/**
 * Scratch never extends past 2 GiB: kernels (and the JS side, which sees pointers as
 * signed i32) compute byte offsets in 32-bit signed arithmetic.
 */
export const SCRATCH_LIMIT: usize = 0x80000000;

// Bytes of the last request the owning thread could not serve (read by the JS side after a trap).
let failedBytes: usize = 0;

/** Bytes of the allocation that trapped (0 if none), cleared by the read. */
export function scratch_failed_bytes(): usize {
  const b = failedBytes;
  failedBytes = 0;
  return b;
}

/**
 * Reserve `bytes` (16-byte aligned), growing memory if needed. In a worker's arena,
 * returns 0 when the arena is full. On the owning thread a request past
 * SCRATCH_LIMIT, or one memory cannot grow for, traps (after recording its size):
 * kernels do not check for 0, and writing through a null pointer would corrupt
 * memory silently. The JS side checks sizes before calling, so this is the backstop.
 */
export function scratch_alloc(bytes: usize): usize {
  const p = scratch_try_alloc(bytes);
  if (p == 0 && limit == 0) {
    failedBytes = bytes;
    unreachable();
  }
  return p;
}

/** scratch_alloc for callers with a fallback (a threaded GEMM's pack buffers): 0 instead of a trap. */
export function scratch_try_alloc(bytes: usize): usize {
  ensureInit();
  const p = top;
  const end = align16(p + bytes);
  if (end < p || end > (limit != 0 ? limit : SCRATCH_LIMIT)) return 0;
  if (limit == 0) {
    const have = (<usize>memory.size()) << 16;
    if (end > have) {
      const pages = <i32>((end - have + 0xffff) >>> 16);
      if (memory.grow(pages) < 0) return 0;
    }
  }
  top = end;
  return p;
}

/** Current top of scratch: pass it to scratch_reset to free everything allocated after it. */
export function scratch_mark(): usize {
  ensureInit();
  return top;
}

export function scratch_reset(mark: usize): void {
  ensureInit();
  top = mark < base ? base : mark;
}

/** Index of the first NaN/Inf among n f32 values at p, or -1 when all are finite. */
export function first_nonfinite_f32(p: usize, n: i32): i32 {
  // x - x is 0 for finite x and NaN for NaN/Inf; NaN != NaN marks the lane.
  // 16 at a time, one test per block (the scalar tail below finds the index in a bad block)
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = p + (<usize>i << 2);
    const a = v128.load(o), b = v128.load(o + 16), c = v128.load(o + 32), e = v128.load(o + 48);
    const d = f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(e, e)));
    if (v128.any_true(f32x4.ne(d, d))) break;
  }
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    if (!isFinite<f32>(x)) return i;
  }
  return -1;
}
