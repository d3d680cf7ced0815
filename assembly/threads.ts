// Thread pool over one shared memory (the *-threads builds; inert elsewhere).
//
// Every thread runs its own instance of this module on the same shared memory.
// The calling ("main") instance is told the pool size by threads_config; worker
// instances sit in thread_loop. A job is described in the control block at
// ctrl_ptr() (assembly/mem.ts): the caller writes kind, part count and
// arguments, sets PENDING to the number of workers, bumps GEN and notifies;
// each worker wakes (memory.atomic.wait32 on GEN), runs its part when its id
// is below the part count, and decrements PENDING (the last one notifies).
// The caller runs part 0 itself, then waits until PENDING is 0 — with
// atomic.wait where the runtime allows blocking, else by spinning (a browser
// page's main thread). Every worker acknowledges every job, so the caller
// never rewrites the block while a late worker may still be reading it.
// Worker instances have threads = 1, so a kernel they run never dispatches.
import { ctrl_ptr } from "./mem";
import { gemm_part } from "./linalg/gemm";
import { eigh_batch_part, invit_part, tridiag_part } from "./linalg/eig";
import { conv_dw_part, conv_rows_part } from "./conv/grad";
import { conv_pw_part } from "./conv/pointwise_grad";
import { cgs_part } from "./linalg/orth";
import { reflect_part } from "./linalg/reflect";
import { bidiag_part, svd_ub_part } from "./linalg/svd";
import { tridc_part } from "./linalg/tridiag_dc";

const GEN: usize = 0; // i32 job generation
const PENDING: usize = 4; // i32 workers that have not acknowledged the job
const KIND: usize = 8; // i32 job kind
const PARTS: usize = 12; // i32 parts in the job (part 0 is the caller's)
const FAILED: usize = 16; // i32 set when a worker trapped during the job
/** Job arguments: MAX_ARGS slots of 4 bytes (i32 / f32 / pointers) up to the end of the 256-byte block. */
const ARGS: usize = 64;
export const MAX_ARGS: i32 = 48;

export const JOB_QUIT: i32 = -1;
export const JOB_GEMM: i32 = 1;
export const JOB_EIGH: i32 = 2;
export const JOB_BIDIAG: i32 = 3;
export const JOB_TRIDIAG: i32 = 4;
export const JOB_CONV_DW: i32 = 5;
export const JOB_CONV_ROWS: i32 = 6;
export const JOB_INVIT: i32 = 7;
export const JOB_CGS: i32 = 8;
export const JOB_SVD_UB: i32 = 10;
export const JOB_REFLECT: i32 = 11;
export const JOB_CONV_PW: i32 = 12;
export const JOB_TRIDC: i32 = 13;

/** Polls of GEN (about 20–50 µs) a worker makes before it sleeps in atomic.wait. */
const WORKER_SPINS = 1 << 14;
/** Polls of PENDING the caller makes before it sleeps (where it may). */
const CALLER_SPINS = 1 << 14;

let threads: i32 = 1; // pool size including the caller (main instance only)
let canWait: bool = true; // may the caller block in atomic.wait?
let workers: i32 = 0;
let busy = false; // the caller is running its part of a job: kernels it calls must not dispatch
let worker = false; // this instance runs thread_loop

/** Threads a kernel may split its work over (1 in worker instances, inside a job, and single-threaded builds). */
@inline export function par_threads(): i32 {
  return busy ? 1 : threads;
}

/**
 * Run the kernels called from here on serially on the calling thread (par_threads() is 1)
 * until par_release(returned value): for work whose parallel pieces are too small to pay
 * for waking the workers. Splits never change results, so neither does this.
 */
export function par_hold(): bool {
  const was = busy;
  busy = true;
  return was;
}

export function par_release(was: bool): void {
  busy = was;
}

/**
 * Take the next item of a job's shared counter (an i32 in scratch the caller zeroed before
 * par_run): returns 0, 1, 2, … across all threads, each value once. Parts that claim fixed
 * items this way instead of a static share keep the result independent of who runs which
 * item, and a thread the OS deschedules holds up only the item it is on.
 */
export function par_claim(counter: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(counter, 1);
  const v = load<i32>(counter);
  store<i32>(counter, v + 1);
  return v;
}

/** True in a worker instance (its scratch is an arena carved out of the caller's). */
@inline export function in_worker(): bool {
  return worker;
}

@inline export function arg_ptr(i: i32): usize {
  return ctrl_ptr() + ARGS + (<usize>i << 2);
}
@inline export function set_arg_i32(i: i32, v: i32): void { store<i32>(arg_ptr(i), v); }
@inline export function set_arg_f32(i: i32, v: f32): void { store<f32>(arg_ptr(i), v); }
@inline export function arg_i32(i: i32): i32 { return load<i32>(arg_ptr(i)); }
@inline export function arg_f32(i: i32): f32 { return load<f32>(arg_ptr(i)); }

/**
 * Set the pool size seen by kernels on this (main) instance: n threads in all,
 * n − 1 of them workers already waiting in thread_loop. wait = 0 makes the
 * caller spin instead of blocking (a browser main thread may not block).
 */
export function threads_config(n: i32, wait: i32): void {
  threads = n < 1 ? 1 : n;
  workers = threads - 1;
  canWait = wait != 0;
}

/** Current job generation (a new worker starts waiting for the one after it). */
export function threads_generation(): i32 {
  if (ASC_FEATURE_THREADS) return atomic.load<i32>(ctrl_ptr() + GEN);
  return load<i32>(ctrl_ptr() + GEN);
}

function runPart(kind: i32, part: i32): void {
  if (kind == JOB_GEMM) gemm_part(part);
  else if (kind == JOB_EIGH) eigh_batch_part(part);
  else if (kind == JOB_BIDIAG) bidiag_part(part);
  else if (kind == JOB_TRIDIAG) tridiag_part(part);
  else if (kind == JOB_CONV_DW) conv_dw_part(part);
  else if (kind == JOB_CONV_ROWS) conv_rows_part(part);
  else if (kind == JOB_INVIT) invit_part(part);
  else if (kind == JOB_CGS) cgs_part(part);
  else if (kind == JOB_SVD_UB) svd_ub_part(part);
  else if (kind == JOB_REFLECT) reflect_part(part);
  else if (kind == JOB_CONV_PW) conv_pw_part(part);
  else if (kind == JOB_TRIDC) tridc_part(part);
}

/**
 * Run a job whose arguments are already in the ARGS slots: `parts` parts over
 * the caller and the workers (parts ≤ threads). Returns when all are done;
 * traps if a worker failed.
 */
export function par_run(kind: i32, parts: i32): void {
  if (ASC_FEATURE_THREADS) {
    const c = ctrl_ptr();
    store<i32>(c + KIND, kind);
    store<i32>(c + PARTS, parts);
    atomic.store<i32>(c + PENDING, workers);
    atomic.add<i32>(c + GEN, 1);
    atomic.notify(c + GEN, workers);
    busy = true;
    if (kind != JOB_QUIT) runPart(kind, 0);
    join(c);
    busy = false;
    if (atomic.load<i32>(c + FAILED) != 0) {
      atomic.store<i32>(c + FAILED, 0);
      unreachable();
    }
  } else {
    busy = true;
    for (let p = 0; p < parts; p++) runPart(kind, p);
    busy = false;
  }
}

function join(c: usize): void {
  if (ASC_FEATURE_THREADS) {
    let spins = 0;
    for (;;) {
      const p = atomic.load<i32>(c + PENDING);
      if (p == 0) return;
      // spin briefly first: the workers usually finish within microseconds of the caller
      if (canWait && ++spins > CALLER_SPINS) memory.atomic.wait32(c + PENDING, p, -1);
    }
  }
}

/**
 * After a trap escaped a kernel on the calling thread (possibly inside its part of a job):
 * wait for the workers to finish that job and clear the job state, so the pool works again.
 */
export function threads_recover(): void {
  if (ASC_FEATURE_THREADS) {
    const c = ctrl_ptr();
    if (workers > 0) join(c);
    atomic.store<i32>(c + FAILED, 0);
  }
  busy = false;
}

/** Tell every worker to leave thread_loop; returns when all have acknowledged. Pool size becomes 1. */
export function threads_quit(): void {
  if (workers > 0) par_run(JOB_QUIT, 0);
  threads = 1;
  workers = 0;
}

function acknowledge(c: usize): void {
  if (ASC_FEATURE_THREADS) {
    if (atomic.sub<i32>(c + PENDING, 1) == 1) atomic.notify(c + PENDING, 1);
  }
}

/**
 * A worker's loop: wait for jobs after generation `seen`, run part `id` of each
 * (id ≥ 1; part 0 is the caller's) and acknowledge it. Returns on JOB_QUIT.
 */
export function thread_loop(id: i32, seen: i32): void {
  if (ASC_FEATURE_THREADS) {
    const c = ctrl_ptr();
    worker = true;
    for (;;) {
      // spin a little before sleeping: kernels often issue jobs back to back (a GEMM per
      // reflector block, a job per bidiagonalisation step), and waking from a futex costs more
      let g = atomic.load<i32>(c + GEN);
      let spins = 0;
      while (g == seen) {
        if (++spins > WORKER_SPINS) memory.atomic.wait32(c + GEN, seen, -1);
        g = atomic.load<i32>(c + GEN);
      }
      seen = g;
      const kind = atomic.load<i32>(c + KIND);
      if (kind == JOB_QUIT) {
        acknowledge(c);
        return;
      }
      if (id < load<i32>(c + PARTS)) runPart(kind, id);
      acknowledge(c);
    }
  }
}

/** Called by a worker whose thread_loop trapped: flag the job as failed, acknowledge it, return the generation to wait after. */
export function thread_failed(): i32 {
  if (ASC_FEATURE_THREADS) {
    const c = ctrl_ptr();
    atomic.store<i32>(c + FAILED, 1);
    // Read the generation before acknowledging: once acknowledged, the caller may publish the next job,
    // and a worker that reported that one as seen would skip it and leave the caller waiting for ever.
    const g = atomic.load<i32>(c + GEN);
    acknowledge(c);
    return g;
  }
  return 0;
}
