// Thread pool over one shared memory (the *-threads builds; inert elsewhere).
//
// Every thread runs its own instance of this module on the same shared memory.
// The calling ("main") instance is told the pool size by threads_config; worker
// instances sit in thread_loop. A job is described in the control block at
// ctrl_ptr() (assembly/mem.ts): the caller writes the arguments, sets PENDING to
// the number of workers that take part (ids 1 … parts − 1), then publishes
// generation, kind and part count together in one 64-bit atomic store (JOB) and
// notifies; each worker wakes (memory.atomic.wait32 on JOB's generation half),
// and runs and acknowledges its part only when its id is below the part count
// (the last one to decrement PENDING notifies). The caller runs part 0 itself,
// then waits until PENDING is 0 — with atomic.wait where the runtime allows
// blocking, else by spinning (a browser page's main thread).
// Only the workers that take part acknowledge: a job of 8 parts on 16 threads
// waited for all 15 workers before (measured on 16 cores: the bidiagonalisation's
// 1024 small jobs took 82 ms at 16 threads against 52 at 8, the idle workers having
// gone to sleep between jobs). A worker left out reads nothing but the JOB word,
// whose one atomic load gives it a consistent generation, kind and part count even
// when the caller has moved on; a taking-part worker is waited for, so the caller
// never rewrites the arguments while it may still read them. JOB_QUIT is taken by all.
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
import { pool_fwd_part, pool_grad_part } from "./conv/pool";
import { act_grad_part } from "./conv/act_grad";
import { gemm_tn_part } from "./conv/gemm_tn";
import { bn_part } from "./norm/batchnorm";

const PENDING: usize = 4; // i32 taking-part workers that have not acknowledged the job
const SPINS: usize = 32; // i32 polls before a worker sleeps; 0: WORKER_SPINS (threads_spins, for benches)
const FAILED: usize = 16; // i32 set when a worker trapped during the job
/** i64: generation (low half, the wait32 address) | (kind + 1) << 48 | parts << 32. */
const JOB: usize = 24;
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
export const JOB_POOL_GRAD: i32 = 14;
export const JOB_ACT_GRAD: i32 = 15;
export const JOB_GEMM_TN: i32 = 16;
export const JOB_BN: i32 = 17;
export const JOB_POOL_FWD: i32 = 18;

/** Polls of JOB (about 20–50 µs) a worker makes before it sleeps in atomic.wait. (4× longer cost 10 % on
 *  more threads than cores, where a spinning worker takes a core from a working one.) Spinning 64× longer
 *  (1–3 ms, past the gaps a training step leaves between our parallel kernels) was tried in session 18:
 *  3–6 % faster decomposed steps in two in-process A/Bs, 0–5 % slower or faster in three more — within
 *  this machine's noise, so the count stays. threads_spins overrides it (bench/engine.bench.ts A/B). */
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

/**
 * Start a claim counter in argument slot i for a job: the parts claim its items with par_claim(arg_ptr(i)).
 * The slot lies in the shared control block, which the caller does not rewrite until every part has
 * acknowledged, so the counter needs no memory of its own.
 */
export function claim_arg(i: i32): void {
  store<i32>(arg_ptr(i), 0);
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

/** Polls a worker makes before it sleeps in atomic.wait (0: the default WORKER_SPINS); read by the workers from the control block. */
export function threads_spins(n: i32): void {
  if (ASC_FEATURE_THREADS) atomic.store<i32>(ctrl_ptr() + SPINS, n < 0 ? 0 : n);
}

/** Current job generation (a new worker starts waiting for the one after it). */
export function threads_generation(): i32 {
  if (ASC_FEATURE_THREADS) return <i32>atomic.load<i64>(ctrl_ptr() + JOB);
  return <i32>load<i64>(ctrl_ptr() + JOB);
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
  else if (kind == JOB_POOL_GRAD) pool_grad_part(part);
  else if (kind == JOB_ACT_GRAD) act_grad_part(part);
  else if (kind == JOB_GEMM_TN) gemm_tn_part(part);
  else if (kind == JOB_BN) bn_part(part);
  else if (kind == JOB_POOL_FWD) pool_fwd_part(part);
}

/**
 * Run a job whose arguments are already in the ARGS slots: `parts` parts over
 * the caller and the workers (parts ≤ threads). Returns when all are done;
 * traps if a worker failed.
 */
export function par_run(kind: i32, parts: i32): void {
  if (ASC_FEATURE_THREADS) {
    const c = ctrl_ptr();
    const quit = kind == JOB_QUIT;
    atomic.store<i32>(c + PENDING, quit ? workers : max(parts, 1) - 1);
    const gen = <u32>atomic.load<i64>(c + JOB) + 1;
    atomic.store<i64>(c + JOB, (<i64>(kind + 1) << 48) | (<i64>(quit ? 0 : parts) << 32) | <i64>gen);
    atomic.notify(c + JOB, workers);
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
      let job = atomic.load<i64>(c + JOB);
      let spins = 0;
      const set = atomic.load<i32>(c + SPINS), limit = set > 0 ? set : WORKER_SPINS;
      while (<i32>job == seen) {
        if (++spins > limit) memory.atomic.wait32(c + JOB, seen, -1);
        job = atomic.load<i64>(c + JOB);
      }
      seen = <i32>job;
      const kind = <i32>(job >>> 48) - 1;
      if (kind == JOB_QUIT) {
        acknowledge(c);
        return;
      }
      if (id < <i32>((job >>> 32) & 0xffff)) {
        runPart(kind, id);
        acknowledge(c);
      }
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
    const g = <i32>atomic.load<i64>(c + JOB);
    acknowledge(c);
    return g;
  }
  return 0;
}
