// C = alpha * op(A) * op(B) + beta * C, row-major, op = transpose when the flag is set.
// A is m×k (or k×m when transA), B is k×n (or n×k when transB), C is m×n.
//
// Layout of the computation (Goto/BLIS): the n axis is cut into NC-wide
// blocks, k into KC-deep blocks, m into MC-tall blocks. For each (jc, pc) a
// KC×NC block of op(B) is packed into NR-wide column slivers (L3/L2 resident),
// for each ic an MC×KC block of alpha·op(A) into MR-tall row slivers (L2
// resident); the MR×NR micro-kernel then streams one A sliver and one B
// sliver (L1 resident) and keeps the MR×NR block of C in f32x4 registers.
// Packing absorbs both transposes (SIMD 4×4 transposes where the source is
// strided), so all four transpose combinations run the same inner loop.
// Edge tiles are zero-padded in the packed panels, computed into a small
// scratch tile and copied out. beta is applied when the first KC block is
// stored (beta = 0 never reads C); later KC blocks accumulate.
// Small or skinny products (m below a tile) take a direct unpacked path.
import { fma4 } from "../simd";
import { scratch_alloc, scratch_try_alloc, scratch_mark, scratch_reset } from "../mem";
import { JOB_GEMM, arg_f32, arg_i32, par_run, par_threads, set_arg_f32, set_arg_i32 } from "../threads";

// Register tile: MR rows × NR columns = 8 f32x4 accumulators. V8 (TurboFan) issues
// every load of a loop iteration before the arithmetic, so the live set is
// accumulators + MR broadcasts + NR/4 B vectors (+1 product temp without FMA):
// 8 + 4 + 2 + 1 = 15, exactly the allocatable xmm registers on x64. Larger tiles
// (5×8, 6×8, 4×12, 4×16, 8×8) and unrolling spill and measured slower here; in
// the relaxed build (fused madd, no temp) 3×12 also fits but measured slower than 4×8.
// The register-tile code below is spelled out (no arrays in kernels).
const MR = 4;
const NR = 8;
// Cache blocks (f32 elements): B sliver KC×NR (8 KiB) in L1, A block MC×KC (128 KiB)
// in L2, B panel KC×NC in L3 (Zen 4: 32 KiB L1d, 1 MiB L2). KC and MC are split
// evenly (blockSize) so a k of 257 runs as 2×129, not 256 + 1.
const MC = 128;
const KC = 256;
const NC = 2048;

/** MR×NR tile: c[i][j] = sum_p ap[p*MR+i]·bp[p*NR+j] (+ beta·c; beta = 0 never reads c). */
function kernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, beta: f32): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  const bend = bp + (<usize>kc << 5); // kc·NR·4 bytes
  while (bp < bend) {
    const b0 = v128.load(bp, 0);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap, 0);
    c00 = fma4(a, b0, c00);
    c01 = fma4(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = fma4(a, b0, c10);
    c11 = fma4(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = fma4(a, b0, c20);
    c21 = fma4(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = fma4(a, b0, c30);
    c31 = fma4(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  const ldcb = <usize>ldc << 2;
  if (beta == 0) {
    v128.store(c, c00, 0);
    v128.store(c, c01, 16);
    c += ldcb;
    v128.store(c, c10, 0);
    v128.store(c, c11, 16);
    c += ldcb;
    v128.store(c, c20, 0);
    v128.store(c, c21, 16);
    c += ldcb;
    v128.store(c, c30, 0);
    v128.store(c, c31, 16);
  } else if (beta == 1) {
    v128.store(c, f32x4.add(v128.load(c, 0), c00), 0);
    v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
    c += ldcb;
    v128.store(c, f32x4.add(v128.load(c, 0), c10), 0);
    v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
    c += ldcb;
    v128.store(c, f32x4.add(v128.load(c, 0), c20), 0);
    v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
    c += ldcb;
    v128.store(c, f32x4.add(v128.load(c, 0), c30), 0);
    v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
  } else {
    const bv = f32x4.splat(beta);
    v128.store(c, fma4(bv, v128.load(c, 0), c00), 0);
    v128.store(c, fma4(bv, v128.load(c, 16), c01), 16);
    c += ldcb;
    v128.store(c, fma4(bv, v128.load(c, 0), c10), 0);
    v128.store(c, fma4(bv, v128.load(c, 16), c11), 16);
    c += ldcb;
    v128.store(c, fma4(bv, v128.load(c, 0), c20), 0);
    v128.store(c, fma4(bv, v128.load(c, 16), c21), 16);
    c += ldcb;
    v128.store(c, fma4(bv, v128.load(c, 0), c30), 0);
    v128.store(c, fma4(bv, v128.load(c, 16), c31), 16);
  }
}
// Products with fewer rows than this, or less work than DIRECT_WORK multiply-adds, skip packing
// (measured: packing pays from about 16³ up; below 4 rows a tile would be mostly padding).
const DIRECT_M = 4;
const DIRECT_WORK: i64 = 4096;

@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

/** Evenly split `total` into blocks of at most `max`, rounded up to a multiple of `unit`. */
@inline function blockSize(total: i32, max: i32, unit: i32): i32 {
  const blocks = ceilDiv(total, max);
  const even = ceilDiv(total, blocks);
  return min(ceilDiv(even, unit) * unit, max);
}

@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize, scale: v128, scaled: bool): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  let o0 = f32x4.shuffle(t0, t2, 0, 1, 4, 5);
  let o1 = f32x4.shuffle(t0, t2, 2, 3, 6, 7);
  let o2 = f32x4.shuffle(t1, t3, 0, 1, 4, 5);
  let o3 = f32x4.shuffle(t1, t3, 2, 3, 6, 7);
  if (scaled) {
    o0 = f32x4.mul(o0, scale);
    o1 = f32x4.mul(o1, scale);
    o2 = f32x4.mul(o2, scale);
    o3 = f32x4.mul(o3, scale);
  }
  v128.store(dst, o0);
  v128.store(dst + stride, o1);
  v128.store(dst + 2 * stride, o2);
  v128.store(dst + 3 * stride, o3);
}

/**
 * Pack the mc×kc block of alpha·op(A) starting at (i0, p0) into MR-row slivers:
 * sliver s holds rows s·MR … s·MR+MR−1 as kc groups of MR values (rows past mc are 0).
 */
function packA(transA: i32, a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, alpha: f32, dst: usize): void {
  const scaled = alpha != 1;
  const av = f32x4.splat(alpha);
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const d = dst + (<usize>(s * kc) << 2);
    if (transA) {
      // op(A)[i][p] = A[p][i]: each p is a contiguous run of rows.
      for (let p = 0; p < kc; p++) {
        const src = a + (<usize>((p0 + p) * lda + i0 + s) << 2);
        const o = d + (<usize>(p * MR) << 2);
        if (rows == MR) {
          let i = 0;
          for (; i + 4 <= MR; i += 4) {
            const v = v128.load(src + (<usize>i << 2));
            v128.store(o + (<usize>i << 2), scaled ? f32x4.mul(v, av) : v);
          }
          for (; i < MR; i++) store<f32>(o + (<usize>i << 2), alpha * load<f32>(src + (<usize>i << 2)));
        } else {
          for (let i = 0; i < MR; i++) store<f32>(o + (<usize>i << 2), i < rows ? alpha * load<f32>(src + (<usize>i << 2)) : 0);
        }
      }
    } else {
      // op(A)[i][p] = A[i][p]: rows are contiguous in p; transpose 4×4 blocks.
      const src = a + (<usize>((i0 + s) * lda + p0) << 2);
      const ldab = <usize>lda << 2;
      const strideb: usize = MR << 2;
      let p = 0;
      if (rows == MR) {
        for (; p + 4 <= kc; p += 4) {
          const sp = src + (<usize>p << 2);
          const o = d + (<usize>(p * MR) << 2);
          let i = 0;
          for (; i + 4 <= MR; i += 4) {
            const r = sp + <usize>i * ldab;
            transpose4(v128.load(r), v128.load(r + ldab), v128.load(r + 2 * ldab), v128.load(r + 3 * ldab),
              o + (<usize>i << 2), strideb, av, scaled);
          }
          if (MR - i == 2) {
            const r = sp + <usize>i * ldab;
            let x = v128.load(r);
            let y = v128.load(r + ldab);
            if (scaled) { x = f32x4.mul(x, av); y = f32x4.mul(y, av); }
            const lo = f32x4.shuffle(x, y, 0, 4, 1, 5);
            const hi = f32x4.shuffle(x, y, 2, 6, 3, 7);
            const q = o + (<usize>i << 2);
            v128.store64_lane(q, lo, 0);
            v128.store64_lane(q + strideb, lo, 1);
            v128.store64_lane(q + 2 * strideb, hi, 0);
            v128.store64_lane(q + 3 * strideb, hi, 1);
          } else {
            for (; i < MR; i++) {
              for (let q = 0; q < 4; q++) {
                store<f32>(o + (<usize>(q * MR + i) << 2), alpha * load<f32>(sp + <usize>i * ldab + (<usize>q << 2)));
              }
            }
          }
        }
      }
      for (; p < kc; p++) {
        const o = d + (<usize>(p * MR) << 2);
        const sp = src + (<usize>p << 2);
        for (let i = 0; i < MR; i++) store<f32>(o + (<usize>i << 2), i < rows ? alpha * load<f32>(sp + <usize>i * ldab) : 0);
      }
    }
  }
}

/**
 * Pack the kc×nc block of op(B) starting at (p0, j0) into NR-column slivers:
 * sliver s holds columns s·NR … s·NR+NR−1 as kc groups of NR values (columns past nc are 0).
 */
function packB(transB: i32, b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  const one = f32x4.splat(1);
  const ldbb = <usize>ldb << 2;
  const strideb: usize = NR << 2;
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const d = dst + (<usize>(s * kc) << 2);
    if (!transB) {
      // op(B)[p][j] = B[p][j]: each p is a contiguous run of columns.
      const src = b + (<usize>(p0 * ldb + j0 + s) << 2);
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const r = src + <usize>p * ldbb;
          const o = d + <usize>p * strideb;
          for (let j = 0; j < NR; j += 4) v128.store(o + (<usize>j << 2), v128.load(r + (<usize>j << 2)));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const r = src + <usize>p * ldbb;
          const o = d + <usize>p * strideb;
          for (let j = 0; j < NR; j++) store<f32>(o + (<usize>j << 2), j < cols ? load<f32>(r + (<usize>j << 2)) : 0);
        }
      }
    } else {
      // op(B)[p][j] = B[j][p]: columns of op(B) are rows of B; transpose 4×4 blocks.
      const src = b + (<usize>((j0 + s) * ldb + p0) << 2);
      let p = 0;
      if (cols == NR) {
        for (; p + 4 <= kc; p += 4) {
          const sp = src + (<usize>p << 2);
          const o = d + <usize>p * strideb;
          for (let j = 0; j < NR; j += 4) {
            const r = sp + <usize>j * ldbb;
            transpose4(v128.load(r), v128.load(r + ldbb), v128.load(r + 2 * ldbb), v128.load(r + 3 * ldbb),
              o + (<usize>j << 2), strideb, one, false);
          }
        }
      }
      for (; p < kc; p++) {
        const o = d + <usize>p * strideb;
        const sp = src + (<usize>p << 2);
        for (let j = 0; j < NR; j++) store<f32>(o + (<usize>j << 2), j < cols ? load<f32>(sp + <usize>j * ldbb) : 0);
      }
    }
  }
}

/** C[0:rows, 0:cols] = tile + beta·C (beta = 0 never reads C). */
function storeEdge(tile: usize, rows: i32, cols: i32, c: usize, ldc: i32, beta: f32): void {
  for (let i = 0; i < rows; i++) {
    const t = tile + (<usize>(i * NR) << 2);
    const cr = c + (<usize>(i * ldc) << 2);
    for (let j = 0; j < cols; j++) {
      const o = cr + (<usize>j << 2);
      const v = load<f32>(t + (<usize>j << 2));
      store<f32>(o, beta == 0 ? v : v + beta * load<f32>(o));
    }
  }
}

/** C = beta·C (beta = 0 writes zeros without reading C). */
function scaleC(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  if (beta == 1) return;
  for (let i = 0; i < m; i++) {
    const cr = c + (<usize>(i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const o = cr + (<usize>j << 2);
      store<f32>(o, beta == 0 ? <f32>0 : beta * load<f32>(o));
    }
  }
}

/**
 * Direct unpacked path for products too small or too skinny to repay packing:
 * op(B) untransposed → row-axpy form (streams rows of B); transposed → dot products of contiguous rows.
 */
function gemmDirect(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): void {
  for (let i = 0; i < m; i++) {
    const crow = c + (<usize>(i * ldc) << 2);
    if (transB) {
      for (let j = 0; j < n; j++) {
        const brow = b + (<usize>(j * ldb) << 2);
        let s: f32 = 0;
        if (!transA) {
          const arow = a + (<usize>(i * lda) << 2);
          let acc = f32x4.splat(0);
          let p = 0;
          for (; p + 4 <= k; p += 4) acc = fma4(v128.load(arow + (<usize>p << 2)), v128.load(brow + (<usize>p << 2)), acc);
          s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
          for (; p < k; p++) s += load<f32>(arow + (<usize>p << 2)) * load<f32>(brow + (<usize>p << 2));
        } else {
          for (let p = 0; p < k; p++) s += load<f32>(a + (<usize>(p * lda + i) << 2)) * load<f32>(brow + (<usize>p << 2));
        }
        const o = crow + (<usize>j << 2);
        store<f32>(o, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(o));
      }
    } else {
      scaleC(1, n, beta, crow, ldc);
      for (let p = 0; p < k; p++) {
        const aip = alpha * load<f32>(a + (<usize>(transA ? p * lda + i : i * lda + p) << 2));
        const brow = b + (<usize>(p * ldb) << 2);
        const av = f32x4.splat(aip);
        let j = 0;
        for (; j + 4 <= n; j += 4) {
          const off = <usize>j << 2;
          v128.store(crow + off, fma4(av, v128.load(brow + off), v128.load(crow + off)));
        }
        for (; j < n; j++) {
          const o = crow + (<usize>j << 2);
          store<f32>(o, load<f32>(o) + aip * load<f32>(brow + (<usize>j << 2)));
        }
      }
    }
  }
}

/** Bytes of packing buffers (A block, B panel, edge tile) the packed path needs for an m×n×k product. */
@inline function packBytes(m: i32, n: i32, k: i32): usize {
  const kcMax = blockSize(k, KC, 1);
  return (<usize>blockSize(m, MC, MR) * kcMax + <usize>kcMax * blockSize(n, NC, NR) + MR * NR) << 2;
}

/** The packed (Goto/BLIS) path with caller-provided buffers at buf (packBytes(m, n, k) bytes). */
function gemmPacked(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, buf: usize,
): void {
  const kcMax = blockSize(k, KC, 1);
  const ncMax = blockSize(n, NC, NR);
  const mcMax = blockSize(m, MC, MR);
  const pa = buf;
  const pb = pa + (<usize>mcMax * kcMax << 2);
  const tile = pb + (<usize>kcMax * ncMax << 2);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      packB(transB, b, ldb, pc, jc, kc, nc, pb);
      const bet: f32 = pc == 0 ? beta : 1;
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        packA(transA, a, lda, ic, pc, mc, kc, alpha, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + (<usize>(ir * kc) << 2);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              kernel(kc, ap, bp, cp, ldc, bet);
            } else {
              kernel(kc, ap, bp, tile, NR, 0);
              storeEdge(tile, mr, nr, cp, ldc, bet);
            }
          }
        }
      }
    }
  }
}

// Threaded split: C is cut into a grid of pr × pc blocks of whole register tiles (rows in
// multiples of MR, columns in multiples of NR), one per part; each block runs the packed path on
// its own buffers. A part packs its rows of A and its columns of B, so the grid is the one with the
// least packing per part (rows + columns of a block): with 16 parts on a 2048² product a 4 × 4 grid
// packs half of what 16 column bands did (each band packed all of A — measured on 16 cores, the
// bands reached 6.5× where 16 independent one-thread GEMMs reached 11×). The k blocking depends on
// k only and tiles stay aligned to the same global MR×NR grid, so every element of C goes through
// the same operations as on one thread: results are bitwise identical for any thread count.
// A product is split only when each part gets at least PAR_WORK multiply-adds
// (waking the workers costs some microseconds; 64³ MACs take about 10 µs).
const PAR_WORK: i64 = 1 << 18;

// argument slots of a JOB_GEMM job
const G_TA = 0, G_TB = 1, G_M = 2, G_N = 3, G_K = 4, G_ALPHA = 5, G_A = 6, G_LDA = 7, G_B = 8, G_LDB = 9;
const G_BETA = 10, G_C = 11, G_LDC = 12, G_PR = 13, G_PARTS = 15, G_BUF = 16, G_STRIDE = 17;

/** Part `part` of the JOB_GEMM job in the control block (run by the caller and the workers). */
export function gemm_part(part: i32): void {
  const transA = arg_i32(G_TA), transB = arg_i32(G_TB);
  const m = arg_i32(G_M), n = arg_i32(G_N), k = arg_i32(G_K);
  let a = <usize>arg_i32(G_A), b = <usize>arg_i32(G_B), c = <usize>arg_i32(G_C);
  const lda = arg_i32(G_LDA), ldb = arg_i32(G_LDB), ldc = arg_i32(G_LDC);
  const pr = arg_i32(G_PR), pc = arg_i32(G_PARTS) / pr;
  const pi = part / pc, pj = part % pc;
  const ru = ceilDiv(m, MR), cu = ceilDiv(n, NR);
  const i0 = <i32>(<i64>ru * pi / pr) * MR, i1 = min(<i32>(<i64>ru * (pi + 1) / pr) * MR, m);
  const j0 = <i32>(<i64>cu * pj / pc) * NR, j1 = min(<i32>(<i64>cu * (pj + 1) / pc) * NR, n);
  if (i1 <= i0 || j1 <= j0) return;
  const buf = <usize>arg_i32(G_BUF) + <usize>part * <usize>arg_i32(G_STRIDE);
  a += <usize>(transA ? i0 : i0 * lda) << 2;
  b += <usize>(transB ? j0 * ldb : j0) << 2;
  c += <usize>(i0 * ldc + j0) << 2;
  gemmPacked(transA, transB, i1 - i0, j1 - j0, k, arg_f32(G_ALPHA), a, lda, b, ldb, arg_f32(G_BETA), c, ldc, buf);
}

/** Split the packed product over the pool; false when it is too small to split (or buffers cannot be had). */
function gemmThreaded(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): bool {
  const ru = ceilDiv(m, MR), cu = ceilDiv(n, NR);
  const work = <i64>m * n * k;
  const parts = <i32>min<i64>(min<i64>(par_threads(), <i64>ru * cu), work / PAR_WORK);
  if (parts < 2) return false;
  // the grid pr × pc = parts with the least rows + columns per block (ties: more column blocks when n ≥ m, as before)
  let pr = 0;
  let best: i64 = i64.MAX_VALUE;
  for (let r = 1; r <= parts; r++) {
    if (parts % r != 0 || r > ru || parts / r > cu) continue;
    const cost = <i64>ceilDiv(ru, r) * MR + <i64>ceilDiv(cu, parts / r) * NR;
    if (cost < best || (cost == best && m > n)) { best = cost; pr = r; }
  }
  if (pr == 0) return false; // no grid fits (a prime part count over too few row and column tiles)
  const pc = parts / pr;
  // an upper bound of packBytes over every part (blockSize(t, max, unit) ≤ min(max, t rounded up to unit))
  const kcMax = blockSize(k, KC, 1);
  const rows = min(MC, ceilDiv(ru, pr) * MR);
  const cols = min(NC, ceilDiv(cu, pc) * NR);
  const stride = (<usize>rows * kcMax + <usize>kcMax * cols + MR * NR) << 2;
  const mark = scratch_mark();
  const buf = scratch_try_alloc(stride * parts); // none left: run on one thread instead
  if (buf == 0) {
    scratch_reset(mark);
    return false;
  }
  set_arg_i32(G_TA, transA); set_arg_i32(G_TB, transB);
  set_arg_i32(G_M, m); set_arg_i32(G_N, n); set_arg_i32(G_K, k);
  set_arg_f32(G_ALPHA, alpha); set_arg_f32(G_BETA, beta);
  set_arg_i32(G_A, <i32>a); set_arg_i32(G_LDA, lda);
  set_arg_i32(G_B, <i32>b); set_arg_i32(G_LDB, ldb);
  set_arg_i32(G_C, <i32>c); set_arg_i32(G_LDC, ldc);
  set_arg_i32(G_PR, pr); set_arg_i32(G_PARTS, parts);
  set_arg_i32(G_BUF, <i32>buf); set_arg_i32(G_STRIDE, <i32>stride);
  par_run(JOB_GEMM, parts);
  scratch_reset(mark);
  return true;
}

export function gemm_f32(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scaleC(m, n, beta, c, ldc);
    return;
  }
  if (m < DIRECT_M || <i64>m * n * k <= DIRECT_WORK) {
    gemmDirect(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (par_threads() > 1 && gemmThreaded(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  const mark = scratch_mark();
  const buf = scratch_alloc(packBytes(m, n, k));
  if (buf == 0) {
    // Memory cannot grow for the packing buffers: fall back to the unpacked path.
    scratch_reset(mark);
    gemmDirect(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemmPacked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, buf);
  scratch_reset(mark);
}
