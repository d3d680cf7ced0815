// C ← C·H_{nref−1}⋯H_0 (reflectors stored as rows), split over the pool by fixed bands of C's rows.
//   apply_reflectors_banded_f32(refl, ldr, off, nref, tau, c, rows, ldc, width)
//                        the non-triangular case of apply_reflectors_rows_f32 (assembly/linalg/qr.ts)
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

/** Reflectors per compact-WY block (as in apply_reflectors_rows_f32). */
const NB = 64;
/** Rows of C per band (a multiple of the GEMM register tile's 4 rows). */
const BAND = 64;
/** A worker's scratch for one band: W and W2 (BAND×NB) and GEMM packing (≤ (MC·KC + KC·NC + MR·NR) f32), with margin. */
const ARENA: usize = ((2 * BAND * NB + 128 * 256 + 256 * 2048 + 32) << 2) + (64 << 10);

// per block (i32 × 6): first reflector i0, count b (0: block skipped), V (0: apply one by one), M = Tᵀ, T, width L
const R_REC: usize = 24;
const R_REFL = 0, R_LDR = 1, R_OFF = 2, R_TAU = 3, R_C = 4, R_ROWS = 5, R_LDC = 6, R_WIDTH = 7, R_BLOCKS = 8, R_DESC = 9, R_CLAIM = 10, R_ARENA = 11, R_PHASE = 12;

export function apply_reflectors_banded_f32(refl: usize, ldr: i32, off: i32, nref: i32, tau: usize, c: usize, rows: i32, ldc: i32, width: i32): void {
  if (rows <= 0 || nref <= 0) return;
  const mark = scratch_mark();
  const blocks = (nref + NB - 1) / NB;
  const desc = scratch_alloc(<usize>blocks * R_REC);
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
  const bands = (rows + BAND - 1) / BAND;
  let parts = min(par_threads(), bands);
  const arena = parts > 1 ? scratch_try_alloc(ARENA * <usize>(parts - 1)) : 0;
  if (arena == 0) parts = 1; // no memory for the workers' scratch: the same bands on one thread
  const claim = scratch_alloc(16);
  if (parts > 1) {
    // (the control block's arguments are written only for a job: a serial call may run inside another job)
    set_arg_i32(R_REFL, <i32>refl); set_arg_i32(R_LDR, ldr); set_arg_i32(R_OFF, off); set_arg_i32(R_TAU, <i32>tau);
    set_arg_i32(R_C, <i32>c); set_arg_i32(R_ROWS, rows); set_arg_i32(R_LDC, ldc); set_arg_i32(R_WIDTH, width);
    set_arg_i32(R_BLOCKS, blocks); set_arg_i32(R_DESC, <i32>desc); set_arg_i32(R_CLAIM, <i32>claim); set_arg_i32(R_ARENA, <i32>arena);
    // phase 0: the blocks' V and T (claimed block by block); phase 1: the bands
    for (let phase = 0; phase < 2; phase++) {
      store<i32>(claim, 0);
      set_arg_i32(R_PHASE, phase);
      par_run(JOB_REFLECT, parts);
    }
  } else {
    store<i32>(claim, 0);
    prepareBlocks(refl, ldr, off, tau, blocks, desc, claim);
    store<i32>(claim, 0);
    applyBands(refl, ldr, off, tau, c, rows, ldc, width, blocks, desc, claim);
  }
  scratch_reset(mark);
}

/** Part `part` of a JOB_REFLECT job: the blocks (phase 0) or bands (phase 1) it claims. */
export function reflect_part(part: i32): void {
  const refl = <usize>arg_i32(R_REFL), ldr = arg_i32(R_LDR), off = arg_i32(R_OFF), tau = <usize>arg_i32(R_TAU);
  const blocks = arg_i32(R_BLOCKS), desc = <usize>arg_i32(R_DESC), claim = <usize>arg_i32(R_CLAIM);
  if (part > 0 && in_worker()) {
    const a = <usize>arg_i32(R_ARENA) + <usize>(part - 1) * ARENA;
    scratch_arena(a, a + ARENA);
  }
  if (arg_i32(R_PHASE) == 0) prepareBlocks(refl, ldr, off, tau, blocks, desc, claim);
  else applyBands(refl, ldr, off, tau, <usize>arg_i32(R_C), arg_i32(R_ROWS), arg_i32(R_LDC), arg_i32(R_WIDTH), blocks, desc, claim);
}

/** V (b×L, row j = v_{i0+j} from column i0 + off, zeros before its start), T and M = Tᵀ of each claimed block. */
function prepareBlocks(refl: usize, ldr: i32, off: i32, tau: usize, blocks: i32, desc: usize, claim: usize): void {
  for (let q = par_claim(claim); q < blocks; q = par_claim(claim)) {
    const r = desc + <usize>q * R_REC;
    const vr = <usize>load<i32>(r, 8);
    if (vr == 0) continue;
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

/** Bands of C claimed from the shared counter, each through every block in order. */
function applyBands(refl: usize, ldr: i32, off: i32, tau: usize, c: usize, rows: i32, ldc: i32, width: i32, blocks: i32, desc: usize, claim: usize): void {
  const mark = scratch_mark();
  const W = scratch_alloc(<usize>(BAND * NB) << 2), W2 = scratch_alloc(<usize>(BAND * NB) << 2);
  for (let band = par_claim(claim); band * BAND < rows; band = par_claim(claim)) {
    const r0 = band * BAND, rb = min(BAND, rows - r0);
    const cb = at4(c, r0 * ldc);
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
  }
  scratch_reset(mark);
}
