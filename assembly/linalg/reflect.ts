// C ← C·H_{nref−1}⋯H_0 (reflectors stored as rows), split over the pool by fixed bands of C's rows.
//   apply_reflectors_banded_f32(refl, ldr, off, nref, tau, c, rows, ldc, width)
//                        the non-triangular case of apply_reflectors_rows_f32 (assembly/linalg/qr.ts)
//   reflect_set(probs, i, refl, ldr, off, nref, tau, c, rows, ldc, width)
//   reflect_io(probs, i, src, lds, ncopy, dst, ldd)
//   apply_reflectors_multi_f32(probs, count)
//                        several independent back-transformations (problem records in probs,
//                        REFLECT_REC bytes each, filled by reflect_set) in one job; reflect_io
//                        optionally makes a problem's bands start from f64 rows (src: rows×lds f64,
//                        columns ≥ ncopy zero) and end by writing their transpose to dst (width×rows,
//                        row stride ldd), so the SVD's f64 → f32 copies and final transposes run inside
//                        the bands, while each band's rows are in cache.
//
// Every row of C is transformed on its own, so the rows are cut into bands of BAND rows and each
// thread claims whole bands (a shared counter: a descheduled thread delays only its band), running all reflector blocks on a band while its rows stay in cache:
// one job for the whole back-transformation instead of three small GEMM jobs per block of 64
// reflectors (each a wait for the slowest thread). The blocks' compact-WY factors (the
// gathered reflectors V and T) depend on the reflectors only and are formed once, before the
// bands. The bands depend on the size only and each band runs the same serial code, so the
// result is the same for any thread count.
import { scratch_alloc, scratch_arena, scratch_mark, scratch_reset, scratch_try_alloc } from "../mem";
import { JOB_REFLECT, arg_i32, in_worker, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";
import { gemm_f32 } from "./gemm";
import { larf_rows_f32, larft_f32, transpose_f32 } from "./qr";

@inline function at4(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function at8(p: usize, i: i32): usize { return p + (<usize>i << 3); }

/** Reflectors per compact-WY block (as in apply_reflectors_rows_f32). */
const NB = 64;
/** Rows of C per band (a multiple of the GEMM register tile's 4 rows). */
const BAND = 64;
/** Below this rows·width·reflectors (summed over the problems) one thread works alone (waking the pool costs more). */
const REFLECT_PAR_WORK: i64 = 1 << 18;
/** A worker's scratch for one band: W and W2 (BAND×NB) and GEMM packing (≤ (MC·KC + KC·NC + MR·NR) f32), with margin. */
const ARENA: usize = ((2 * BAND * NB + 128 * 256 + 256 * 2048 + 32) << 2) + (64 << 10);

// per block (i32 × 6): first reflector i0, count b (0: block skipped), V (0: apply one by one), M = Tᵀ, T, width L
const R_REC: usize = 24;
const R_PROBS = 0, R_COUNT = 1, R_CLAIM = 2, R_ARENA = 3, R_PHASE = 4;

// per problem (i32 slots): its arguments, then the blocks' descriptors and where its blocks and bands start in the job's numbering
/** Bytes of one problem record of apply_reflectors_multi_f32. */
export const REFLECT_REC: usize = 64;
const P_REFL = 0, P_LDR = 1, P_OFF = 2, P_NREF = 3, P_TAU = 4, P_C = 5, P_ROWS = 6, P_LDC = 7, P_WIDTH = 8;
const P_SRC = 9, P_LDS = 10, P_NCOPY = 11, P_DST = 12, P_LDD = 13, P_DESC = 14, P_BLOCKS = 15;

@inline function pget(probs: usize, i: i32, f: i32): i32 { return load<i32>(probs + <usize>i * REFLECT_REC + (<usize>f << 2)); }
@inline function pset(probs: usize, i: i32, f: i32, v: i32): void { store<i32>(probs + <usize>i * REFLECT_REC + (<usize>f << 2), v); }

/** Fill problem record i: C (rows×width, stride ldc) ← C·H_{nref−1}⋯H_0 (as apply_reflectors_banded_f32), no copies. */
export function reflect_set(probs: usize, i: i32, refl: usize, ldr: i32, off: i32, nref: i32, tau: usize, c: usize, rows: i32, ldc: i32, width: i32): void {
  pset(probs, i, P_REFL, <i32>refl); pset(probs, i, P_LDR, ldr); pset(probs, i, P_OFF, off); pset(probs, i, P_NREF, nref);
  pset(probs, i, P_TAU, <i32>tau); pset(probs, i, P_C, <i32>c); pset(probs, i, P_ROWS, rows); pset(probs, i, P_LDC, ldc);
  pset(probs, i, P_WIDTH, width);
  reflect_io(probs, i, 0, 0, 0, 0, 0);
}

/** Problem i's bands start as C[r][j] = src[r·lds + j] (f64) for j < ncopy, 0 after (src = 0: C as given), and end with dst ← Cᵀ (dst = 0: none). */
export function reflect_io(probs: usize, i: i32, src: usize, lds: i32, ncopy: i32, dst: usize, ldd: i32): void {
  pset(probs, i, P_SRC, <i32>src); pset(probs, i, P_LDS, lds); pset(probs, i, P_NCOPY, ncopy);
  pset(probs, i, P_DST, <i32>dst); pset(probs, i, P_LDD, ldd);
}

export function apply_reflectors_banded_f32(refl: usize, ldr: i32, off: i32, nref: i32, tau: usize, c: usize, rows: i32, ldc: i32, width: i32): void {
  if (rows <= 0 || nref <= 0) return;
  const mark = scratch_mark();
  const probs = scratch_alloc(REFLECT_REC);
  reflect_set(probs, 0, refl, ldr, off, nref, tau, c, rows, ldc, width);
  apply_reflectors_multi_f32(probs, 1);
  scratch_reset(mark);
}

/** The count problems of probs in one job: their blocks' factors, then all their bands from one counter. */
export function apply_reflectors_multi_f32(probs: usize, count: i32): void {
  const mark = scratch_mark();
  let bands = 0;
  let work: i64 = 0;
  for (let p = 0; p < count; p++) {
    const nref = pget(probs, p, P_NREF), rows = pget(probs, p, P_ROWS), off = pget(probs, p, P_OFF), width = pget(probs, p, P_WIDTH);
    const blocks = nref > 0 && rows > 0 ? (nref + NB - 1) / NB : 0;
    const desc = scratch_alloc(<usize>max(blocks, 1) * R_REC);
    pset(probs, p, P_BLOCKS, blocks);
    pset(probs, p, P_DESC, <i32>desc);
    // blocks in the order they are applied: the last NB reflectors first (C·H_{nref−1}⋯)
    let i1 = nref;
    for (let q = 0; q < blocks; q++) {
      const i0 = ((i1 - 1) / NB) * NB;
      const b = i1 - i0;
      const L = width - i0 - off;
      const r = desc + <usize>q * R_REC;
      store<i32>(r, i0);
      store<i32>(r, L > 0 ? b : 0, 4);
      store<i32>(r, 0, 8);
      store<i32>(r, L, 20);
      if (L > 0 && b >= 8 && L >= 16) {
        store<i32>(r, <i32>scratch_alloc(<usize>b * <usize>L * 4), 8);
        store<i32>(r, <i32>scratch_alloc(<usize>(b * b) << 2), 12);
        store<i32>(r, <i32>scratch_alloc(<usize>(b * b) << 2), 16);
      }
      i1 = i0;
    }
    if (rows > 0) bands += (rows + BAND - 1) / BAND;
    work += <i64>max(rows, 0) * <i64>width * <i64>min(max(nref, 1), width);
  }
  if (bands == 0) {
    scratch_reset(mark);
    return;
  }
  let parts = work >= REFLECT_PAR_WORK ? min(par_threads(), bands) : 1;
  const arena = parts > 1 ? scratch_try_alloc(ARENA * <usize>(parts - 1)) : 0;
  if (arena == 0) parts = 1; // no memory for the workers' scratch: the same bands on one thread
  const claim = scratch_alloc(16);
  if (parts > 1) {
    // (the control block's arguments are written only for a job: a serial call may run inside another job)
    set_arg_i32(R_PROBS, <i32>probs); set_arg_i32(R_COUNT, count); set_arg_i32(R_CLAIM, <i32>claim); set_arg_i32(R_ARENA, <i32>arena);
    // phase 0: the blocks' V and T (claimed block by block); phase 1: the bands
    for (let phase = 0; phase < 2; phase++) {
      store<i32>(claim, 0);
      set_arg_i32(R_PHASE, phase);
      par_run(JOB_REFLECT, parts);
    }
  } else {
    store<i32>(claim, 0);
    prepareBlocks(probs, count, claim);
    store<i32>(claim, 0);
    applyBands(probs, count, claim);
  }
  scratch_reset(mark);
}

/** Part `part` of a JOB_REFLECT job: the blocks (phase 0) or bands (phase 1) it claims. */
export function reflect_part(part: i32): void {
  const probs = <usize>arg_i32(R_PROBS), count = arg_i32(R_COUNT), claim = <usize>arg_i32(R_CLAIM);
  if (part > 0 && in_worker()) {
    const a = <usize>arg_i32(R_ARENA) + <usize>(part - 1) * ARENA;
    scratch_arena(a, a + ARENA);
  }
  if (arg_i32(R_PHASE) == 0) prepareBlocks(probs, count, claim);
  else applyBands(probs, count, claim);
}

/** V (b×L, row j = v_{i0+j} from column i0 + off, zeros before its start), T and M = Tᵀ of each claimed block (numbered across the problems). */
function prepareBlocks(probs: usize, count: i32, claim: usize): void {
  for (let g = par_claim(claim); ; g = par_claim(claim)) {
    let p = 0, q = g;
    while (p < count && q >= pget(probs, p, P_BLOCKS)) { q -= pget(probs, p, P_BLOCKS); p++; }
    if (p == count) return;
    const r = <usize>pget(probs, p, P_DESC) + <usize>q * R_REC;
    const vr = <usize>load<i32>(r, 8);
    if (vr == 0) continue;
    const refl = <usize>pget(probs, p, P_REFL), ldr = pget(probs, p, P_LDR), off = pget(probs, p, P_OFF), tau = <usize>pget(probs, p, P_TAU);
    const i0 = load<i32>(r), b = load<i32>(r, 4);
    const M = <usize>load<i32>(r, 12), T = <usize>load<i32>(r, 16);
    const L = load<i32>(r, 20);
    for (let j = 0; j < b; j++) {
      const dst = at4(vr, j * L);
      if (j > 0) memory.fill(dst, 0, <usize>j << 2);
      memory.copy(at4(dst, j), at4(refl, (i0 + j) * ldr + i0 + off + j), <usize>(L - j) << 2);
    }
    larft_f32(vr, at4(tau, i0), b, L, T);
    transpose_f32(T, b, b, b, M, b);
  }
}

/** Bands claimed from the shared counter (numbered across the problems), each through every block of its problem in order. */
function applyBands(probs: usize, count: i32, claim: usize): void {
  const mark = scratch_mark();
  const W = scratch_alloc(<usize>(BAND * NB) << 2), W2 = scratch_alloc(<usize>(BAND * NB) << 2);
  for (let g = par_claim(claim); ; g = par_claim(claim)) {
    let p = 0, band = g;
    while (p < count) {
      const nb = (pget(probs, p, P_ROWS) + BAND - 1) / BAND;
      if (band < nb) break;
      band -= nb;
      p++;
    }
    if (p == count) break;
    const refl = <usize>pget(probs, p, P_REFL), ldr = pget(probs, p, P_LDR), off = pget(probs, p, P_OFF), tau = <usize>pget(probs, p, P_TAU);
    const c = <usize>pget(probs, p, P_C), rows = pget(probs, p, P_ROWS), ldc = pget(probs, p, P_LDC), width = pget(probs, p, P_WIDTH);
    const blocks = pget(probs, p, P_BLOCKS), desc = <usize>pget(probs, p, P_DESC);
    const r0 = band * BAND, rb = min(BAND, rows - r0);
    const cb = at4(c, r0 * ldc);
    const src = <usize>pget(probs, p, P_SRC);
    if (src != 0) {
      const lds = pget(probs, p, P_LDS), ncopy = pget(probs, p, P_NCOPY);
      for (let i = 0; i < rb; i++) {
        const s = at8(src, (r0 + i) * lds), d = at4(cb, i * ldc);
        for (let j = 0; j < ncopy; j++) store<f32>(at4(d, j), <f32>load<f64>(at8(s, j)));
        if (width > ncopy) memory.fill(at4(d, ncopy), 0, <usize>(width - ncopy) << 2);
      }
    }
    for (let q = 0; q < blocks; q++) {
      const r = desc + <usize>q * R_REC;
      const i0 = load<i32>(r), b = load<i32>(r, 4);
      if (b == 0) continue;
      const vr = <usize>load<i32>(r, 8);
      const col0 = i0 + off, L = width - col0;
      if (vr != 0) {
        // C_b[:, col0:] ← C_b·(I − V Tᵀ Vᵀ) = C_b·H_{i0+b−1}⋯H_{i0}
        const cc = at4(cb, col0);
        gemm_f32(0, 1, rb, b, L, 1, cc, ldc, vr, L, 0, W, b);
        gemm_f32(0, 0, rb, b, b, 1, W, b, <usize>load<i32>(r, 12), b, 0, W2, b);
        gemm_f32(0, 0, rb, L, b, -1, W2, b, vr, L, 1, cc, ldc);
      } else {
        for (let i = i0 + b - 1; i >= i0; i--) {
          if (width - i - off > 0) larf_rows_f32(at4(refl, i * ldr + i + off), load<f32>(at4(tau, i)), rb, width - i - off, at4(cb, i + off), ldc);
        }
      }
    }
    const dst = <usize>pget(probs, p, P_DST);
    if (dst != 0) transpose_f32(cb, rb, width, ldc, at4(dst, r0), pget(probs, p, P_LDD));
  }
  scratch_reset(mark);
}
