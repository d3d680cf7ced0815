// Tucker decomposition: HOSVD and HOOI, full or partial (only the given modes —
// Tucker-2 on the two channel modes of a conv kernel, Tucker-1 on one mode).
// Leading singular vectors of each unfolding come from its Gram matrix
// X_(n)·X_(n)ᵀ (one GEMM, no unfolding copy for long blocks) and the exact
// symmetric eigensolver in wasm (HOSVD: all modes' solves side by side), never
// from an SVD of the unfolding; inside HOOI sweeps, wide modes at low rank take
// warm-started subspace steps instead (see EXACT_MAX).
import { type Tensor, checkTensor, sizeOf } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { gemm } from "../core/kernels.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { qrInto } from "../linalg/qr.ts";
import { KERNEL_SLACK, scaleInPlace, unscale } from "../linalg/scale.ts";
import { modeProductPtr, modeView, unfoldGramPtr } from "./ops.ts";
import { checkModes, intOption, leadingEigBatchPtr, leadingVectorsPtr, numOption, oneOf, seedOption } from "./common.ts";
import { type RankSpec, resolveTuckerRank, tuckerParams } from "./rank.ts";
import { type EncodedFactorized, FactorizedTensor } from "./factorized.ts";

// Inside HOOI sweeps, a mode larger than EXACT_MAX whose rank is at most a quarter of
// its size takes POWER_STEPS warm-started subspace steps instead of a full eigensolve.
// Measured (same process, Tucker-2 HOOI of random (C,C,3,3)): C=256 r=64 890 vs 1190 ms,
// C=512 r=128 ~35% faster, at a final relative error within 1.5e-4 of the exact inner
// solve (1–3 more sweeps); at r = C/2 the exact solve was as fast or faster, so it is kept.
const EXACT_MAX = 128;
const POWER_STEPS = 2;

export const TUCKER_METHODS = ["hosvd", "hooi"] as const;
export const TUCKER_INITS = ["svd", "random"] as const;

export interface TuckerOptions {
  /** One rank for every decomposed mode, one per mode in `modes`, 'same', or { fraction } of parameters to keep. */
  rank: RankSpec;
  /**
   * Modes to decompose, distinct, in the order their ranks are given (default: all). The others
   * keep their full size in the core: [0, 1] on an (O, I, kh, kw) kernel is Tucker-2, [1] Tucker-1.
   */
  modes?: number[];
  /** 'hosvd' (default) or 'hooi' (alternating refinement, starts from `init`). */
  method?: (typeof TUCKER_METHODS)[number];
  /** HOOI start: 'svd' (HOSVD factors, default) or 'random' (random orthonormal). */
  init?: (typeof TUCKER_INITS)[number];
  /** HOOI sweeps at most (default 100). */
  maxIter?: number;
  /** HOOI stops when the relative error changes by less than tol (default 1e-4, as TensorLy). */
  tol?: number;
  /** Seed of the random start (init 'random'; default 0). */
  seed?: number;
}

export interface EncodedTucker extends EncodedFactorized {
  $class: "TuckerTensor"; core: Tensor; factors: Tensor[]; modes: number[]; shape: number[]; iterations: number; errorHistory: number[];
}

/** core ×_{modes[i]} factors[i]: factors[i] is shape[modes[i]] × rank[i] with orthonormal columns. */
export class TuckerTensor extends FactorizedTensor {
  constructor(
    readonly core: Tensor,
    readonly factors: Tensor[],
    readonly modes: number[],
    readonly shape: number[],
    /** HOOI sweeps run (0 for HOSVD) and relative error after each. */
    readonly iterations = 0,
    readonly errorHistory: number[] = [],
  ) {
    super();
  }

  get kind(): "TuckerTensor" {
    return "TuckerTensor";
  }

  /** One rank per decomposed mode, in the order of `modes`. */
  get ranks(): number[] {
    return this.factors.map((f) => f.shape[1]);
  }

  toDense(): Tensor {
    return withScratch((s) => {
      let cur = { ptr: s.put(this.core.data), shape: [...this.core.shape] };
      this.modes.forEach((m, i) => {
        const u = this.factors[i];
        cur = modeProductPtr(s, cur.ptr, cur.shape, m, s.put(u.data), u.shape[0], false);
      });
      return { data: s.take(cur.ptr, sizeOf(cur.shape)), shape: cur.shape };
    });
  }

  nParams(): number {
    return tuckerParams(this.shape, this.modes, this.ranks);
  }

  encode(): EncodedTucker {
    return { $class: "TuckerTensor", core: this.core, factors: this.factors, modes: this.modes, shape: this.shape, iterations: this.iterations, errorHistory: this.errorHistory };
  }

  static decode(e: EncodedTucker): TuckerTensor {
    return new TuckerTensor(e.core, e.factors, e.modes, e.shape, e.iterations, e.errorHistory);
  }
}

/**
 * Project x onto the factors of every mode in `modes` except `skip` (x ×_k U_kᵀ).
 * `swapped` may hold, per mode, x already moved to (A·B)×I layout (see swappedInput):
 * the first product, the one on x itself, then skips that copy.
 */
function projectExcept(s: Scratch, x: number, shape: number[], modes: number[], factors: number[], ranks: number[], skip: number, swapped?: Map<number, number>) {
  let cur = { ptr: x, shape: [...shape] };
  modes.forEach((m, i) => {
    if (m === skip) return;
    const t = cur.ptr === x ? swapped?.get(m) : undefined;
    if (t === undefined) {
      cur = modeProductPtr(s, cur.ptr, cur.shape, m, factors[i], ranks[i], true);
      return;
    }
    // mode_product_f32's short-trailing-block path with its first copy done: the same gemm
    // on the (A·B)×I layout, then back to (A, J, B) — bitwise the same result
    const { A, I, B } = modeView(shape, m);
    const J = ranks[i];
    const yt = s.f32(A * B * J), out = s.f32(A * J * B);
    gemm(s.k, { m: A * B, n: J, k: I, a: t, lda: I, b: factors[i], ldb: J, c: yt, ldc: J });
    s.k.swap_last_f32(yt, A, B, J, out);
    const sh = [...shape];
    sh[m] = J;
    cur = { ptr: out, shape: sh };
  });
  return cur;
}

/**
 * For HOOI: x in (A·B)×I layout for each mode whose product is the first one applied to x in
 * some sweep step and that mode_product_f32 would copy to that layout (A > 1, 1 < B < 16) —
 * x never changes, so the copy is made once per call instead of once per sweep.
 */
function swappedInput(s: Scratch, x: number, shape: number[], modes: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of modes.slice(0, 2)) {
    const { A, I, B } = modeView(shape, m);
    if (A === 1 || B === 1 || B >= 16) continue;
    const t = s.f32(A * I * B);
    s.k.swap_last_f32(x, A, I, B, t);
    out.set(m, t);
  }
  return out;
}

export function tucker(t: Tensor, options: TuckerOptions): TuckerTensor {
  const where = "tucker";
  checkTensor(where, "t", t);
  if (options === null || typeof options !== "object") fail(where, `options must be an object like { rank: 8 }, got ${show(options)}`);
  const modes = checkModes(where, t.shape, options.modes);
  const method = oneOf(where, "method", options.method, TUCKER_METHODS, "hosvd");
  const init = oneOf(where, "init", options.init, TUCKER_INITS, "svd");
  const maxIter = intOption(where, "maxIter", options.maxIter, 100, 1);
  const tol = numOption(where, "tol", options.tol, 1e-4, 0);
  const seed = seedOption(where, options.seed);
  const ranks = resolveTuckerRank(where, t.shape, modes, options.rank);
  const shape = [...t.shape];

  return withScratch((s) => {
    // the tensor, projections and swapped layouts of it (HOOI), each mode's Gram and eigensolve
    const size = sizeOf(shape);
    s.need(4 * (size * (method === "hooi" ? 5 : 3) + modes.reduce((a, m) => a + 5 * shape[m] * shape[m], 0)) + KERNEL_SLACK, where, `the ${method.toUpperCase()} of a [${shape}] tensor`);
    const x = s.put(t.data, where, "t");
    // tiny or huge values: decompose 2^e·t (exact), the core is scaled back at the end
    const scaleExp = scaleInPlace(s, x, t.data.length);
    const normX = Math.sqrt(s.k.sumsq_f32(x, t.data.length));
    // factors live in fixed buffers; everything a sweep allocates is released after it
    const factors = modes.map((m, i) => s.f32(shape[m] * ranks[i]));
    const copyInto = (dst: number, src: number, n: number) => s.k.copy_block_f32(src, n, dst, n, 1, n);
    if (method === "hooi" && init === "random") {
      modes.forEach((m, i) => {
        s.k.fill_randn_f32(factors[i], shape[m] * ranks[i], (seed + 7919 * (i + 1)) >>> 0);
        s.k.orthonormalize_f32(factors[i], shape[m], ranks[i]);
      });
    } else {
      // HOSVD: every mode's Gram (each a threaded GEMM), then their eigensolves side by side
      const mark = s.k.scratch_mark();
      const grams = modes.map((m, i) => ({ g: unfoldGramPtr(s, x, shape, m), n: shape[m], r: ranks[i] }));
      leadingEigBatchPtr(s, grams).forEach((v, i) => copyInto(factors[i], v, shape[modes[i]] * ranks[i]));
      s.k.scratch_reset(mark);
    }
    // HOOI: x's swapped layouts, made once (see swappedInput)
    const swapped = method === "hooi" ? swappedInput(s, x, shape, modes) : undefined;
    const errOf = () => {
      const mark = s.k.scratch_mark();
      const c = projectExcept(s, x, shape, modes, factors, ranks, -1, swapped);
      const cn = s.k.sumsq_f32(c.ptr, sizeOf(c.shape));
      s.k.scratch_reset(mark);
      return normX > 0 ? Math.sqrt(Math.max(normX * normX - cn, 0)) / normX : 0;
    };
    const history: number[] = [];
    let iterations = 0;
    // the core of the last sweep (its final partial projection times the last new factor):
    // the factors do not change after it, so it is the result's core — no extra full pass
    let lastCore = 0;
    if (method === "hooi") {
      lastCore = s.f32(modes.reduce((n, m, i) => (n / shape[m]) * ranks[i], sizeOf(shape)));
      let prev = errOf();
      for (let it = 0; it < maxIter; it++) {
        let coreSq = 0;
        modes.forEach((m, i) => {
          const mark = s.k.scratch_mark();
          const y = projectExcept(s, x, shape, modes, factors, ranks, m, swapped);
          if (shape[m] <= EXACT_MAX || ranks[i] * 4 > shape[m]) {
            copyInto(factors[i], leadingVectorsPtr(s, y.ptr, y.shape, m, ranks[i]), shape[m] * ranks[i]);
          } else {
            // subspace-iteration steps on the Gram, warm-started from the current factor: U ← qr(G·U).
            // Each step cannot lower ‖core‖² (Ritz values of a PSD matrix only grow), so HOOI stays
            // monotone, and it avoids a full n×n eigensolve per mode and sweep.
            const n = shape[m], r = ranks[i];
            const g = unfoldGramPtr(s, y.ptr, y.shape, m);
            const t = s.f32(n * r);
            for (let step = 0; step < POWER_STEPS; step++) {
              gemm(s.k, { m: n, n: r, k: n, a: g, lda: n, b: factors[i], ldb: r, c: t, ldc: r });
              copyInto(factors[i], qrInto(s, t, n, r).q, n * r);
            }
          }
          if (i === modes.length - 1) {
            // the core is the last partial projection times the new factor: no extra full pass
            const c = modeProductPtr(s, y.ptr, y.shape, m, factors[i], ranks[i], true);
            coreSq = s.k.sumsq_f32(c.ptr, sizeOf(c.shape));
            copyInto(lastCore, c.ptr, sizeOf(c.shape));
          }
          s.k.scratch_reset(mark);
        });
        const err = normX > 0 ? Math.sqrt(Math.max(normX * normX - coreSq, 0)) / normX : 0;
        history.push(err);
        iterations = it + 1;
        // ‖X‖² − ‖core‖² in f32 data has a rounding floor near 3e-4 relative: below 1e-3 the change is noise
        if (Math.abs(prev - err) < tol || (err < 1e-3 && prev < 1e-3)) break;
        prev = err;
      }
    }
    const core = iterations > 0
      ? { ptr: lastCore, shape: shape.map((d, k) => (modes.includes(k) ? ranks[modes.indexOf(k)] : d)) }
      : projectExcept(s, x, shape, modes, factors, ranks, -1);
    unscale(s, where, "Tucker core values", core.ptr, sizeOf(core.shape), scaleExp);
    const coreT: Tensor = { data: s.take(core.ptr, sizeOf(core.shape)), shape: core.shape };
    const facT: Tensor[] = modes.map((m, i) => ({ data: s.take(factors[i], shape[m] * ranks[i]), shape: [shape[m], ranks[i]] }));
    return new TuckerTensor(coreT, facT, modes, shape, iterations, history);
  });
}
