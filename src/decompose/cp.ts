// CP (CANDECOMP/PARAFAC) by alternating least squares with extrapolation.
// Each mode update solves the normal equations U_n · (∘_{k≠n} U_kᵀU_k) = MTTKRP_n
// (Hadamard of R×R Grams, Cholesky in f64 in wasm), then moves the column norms
// into the weights. The fit error comes from Grams + the last MTTKRP
// (‖X‖² − 2⟨X, X̂⟩ + ‖X̂‖²), not from a reconstruction; only once that estimate
// drops under 2e-3, where f32 cancellation makes it noise, is the residual
// computed directly (one GEMM the size of an MTTKRP).
// Swamps (long plateaus, common when R exceeds small mode sizes such as 3×3
// kernels) are shortened by a proximal term that fades with the error.
// Acceleration: after each sweep the step from the previous sweep is
// extrapolated, U + s·(U − U_prev) with s = it^(1/e) (Bro's line search, as in
// TensorLy), kept only when it lowers the error; e grows after each rejection.
import { type Tensor, checkTensor, sizeOf } from "../core/tensor.ts";
import { type Scratch, withScratch } from "../core/heap.ts";
import { gemm } from "../core/kernels.ts";
import { fail } from "../core/errors.ts";
import { show } from "../core/show.ts";
import { KERNEL_SLACK, scaleInPlace, unscale } from "../linalg/scale.ts";
import { khatriRaoPtr, mttkrpInto } from "./ops.ts";
import { intOption, leadingVectorsPtr, numOption, oneOf, seedOption } from "./common.ts";
import { type RankSpec, cpParams, resolveCPRank } from "./rank.ts";
import { type EncodedFactorized, FactorizedTensor } from "./factorized.ts";

export const CP_INITS = ["svd", "random"] as const;

export interface CPOptions {
  /** Number of rank-one terms, or 'same' / { fraction } of parameters to keep. */
  rank: RankSpec;
  /** 'svd' (default: leading singular vectors of each unfolding, random columns beyond the mode size) or 'random'. */
  init?: (typeof CP_INITS)[number];
  /** ALS sweeps at most (default 100). */
  maxIter?: number;
  /** Stop when the relative error fell by less than tol over the last 10 sweeps (default 1e-8). */
  tol?: number;
  /** Seed of the random init / random columns (default 0). */
  seed?: number;
  /** Extrapolation between sweeps (default true). */
  lineSearch?: boolean;
  /**
   * Swamp reduction (Navasca, De Lathauwer & Kindermann 2008): each mode update also
   * penalises μ‖U_n − U_n^prev‖² with μ = proximal · current relative error, so it fades
   * to 0 as the fit converges (default 0.1; 0 turns it off).
   */
  proximal?: number;
  /**
   * Fresh starts (new random columns; the SVD part of the init is kept) tried after a start stalls —
   * stops on `tol` — at a relative error above 1e-4; the start with the lowest error is returned
   * (default 3; 0 turns them off). Each start may run `maxIter` sweeps. Planted rank 32 on
   * (64, 64, 3, 3) stalled near 4e-2 on 3 of 10 draws with a single start; with 3 restarts 14 of 15
   * draws reach relErr < 1e-3 (2 restarts: 9 of 10), at (32, 32, 3, 3) rank 16 19 of 20.
   */
  restarts?: number;
}

/** Below this relative error a stalled start has converged (f32 fits floor near 1e-6): no restart. */
const RESTART_ABOVE = 1e-4;

export interface EncodedCP extends EncodedFactorized {
  $class: "CPTensor"; weights: Float32Array; factors: Tensor[]; shape: number[]; iterations: number; errorHistory: number[];
}

/** Σ_r weights[r] · factors[0][:, r] ∘ … ∘ factors[N−1][:, r]; factor columns have unit norm. */
export class CPTensor extends FactorizedTensor {
  constructor(
    readonly weights: Float32Array,
    readonly factors: Tensor[],
    readonly shape: number[],
    /** ALS sweeps run. */
    readonly iterations: number,
    /** Relative error after each sweep (non-increasing). */
    readonly errorHistory: number[],
  ) {
    super();
  }

  get kind(): "CPTensor" {
    return "CPTensor";
  }

  /** [R]: the number of rank-one terms. */
  get ranks(): number[] {
    return [this.weights.length];
  }

  /** @deprecated Use `ranks[0]` (the one rank getter of every FactorizedTensor). */
  get rank(): number {
    return this.weights.length;
  }

  toDense(): Tensor {
    return withScratch((s) => {
      const R = this.weights.length;
      const ps = this.factors.map((f) => s.put(f.data));
      return { data: s.take(densePtr(s, ps, this.weights, this.shape, R), sizeOf(this.shape)), shape: [...this.shape] };
    });
  }

  nParams(): number {
    return cpParams(this.shape, this.weights.length);
  }

  encode(): EncodedCP {
    return { $class: "CPTensor", weights: this.weights, factors: this.factors, shape: this.shape, iterations: this.iterations, errorHistory: this.errorHistory };
  }

  static decode(e: EncodedCP): CPTensor {
    return new CPTensor(e.weights, e.factors, e.shape, e.iterations, e.errorHistory);
  }
}

/** Dense Σ_r w_r u0_r ∘ … : (U_0·diag(w)) · KR(U_1…U_{N−1})ᵀ, one GEMM. */
function densePtr(s: Scratch, factors: number[], weights: Float32Array | number, shape: readonly number[], R: number): number {
  const w = typeof weights === "number" ? weights : s.put(weights);
  const f0 = s.f32(shape[0] * R);
  s.k.copy_block_f32(factors[0], R, f0, R, shape[0], R);
  s.k.scale_cols_f32(f0, shape[0], R, w);
  const rest = khatriRaoPtr(s, factors.slice(1).map((p, k) => ({ ptr: p, rows: shape[k + 1] })), R);
  const out = s.f32(sizeOf(shape));
  if (rest.ptr === 0) s.k.copy_block_f32(f0, R, out, R, shape[0], R);
  else gemm(s.k, { transB: true, m: shape[0], n: rest.rows, k: R, a: f0, lda: R, b: rest.ptr, ldb: R, c: out, ldc: rest.rows });
  return out;
}

interface Model { f: number[]; w: number }

export function cp(t: Tensor, options: CPOptions): CPTensor {
  const where = "cp";
  checkTensor(where, "t", t);
  if (options === null || typeof options !== "object") fail(where, `options must be an object like { rank: 8 }, got ${show(options)}`);
  const init = oneOf(where, "init", options.init, CP_INITS, "svd");
  const maxIter = intOption(where, "maxIter", options.maxIter, 100, 1);
  const tol = numOption(where, "tol", options.tol, 1e-8, 0);
  const seed = seedOption(where, options.seed);
  const lineSearch = options.lineSearch ?? true;
  if (typeof lineSearch !== "boolean") fail(where, `lineSearch must be true or false, got ${show(lineSearch)}`);
  const proximal = numOption(where, "proximal", options.proximal, 0.1, 0);
  const restarts = intOption(where, "restarts", options.restarts, 3, 0, 100);
  const R = resolveCPRank(where, t.shape, options.rank);
  const shape = [...t.shape];
  const N = shape.length;
  const size = sizeOf(shape);

  return withScratch((s) => {
    // three models, N+1 Grams, the MTTKRP and its Khatri–Rao products, a dense reconstruction
    // for the direct error, the init's Gram eigensolves: checked before anything is allocated
    const maxD = Math.max(...shape);
    s.need(4 * (2 * size + 3 * (N + 1) * R + 5 * shape.reduce((a, d) => a + d, 0) * R + (N + 3) * R * R + 2 * (size / Math.min(...shape)) * R + 2 * maxD * R)
      + 8 * R * R + 4 * (4 * maxD * maxD) + KERNEL_SLACK, where, `CP-ALS at rank ${R} of a [${shape}] tensor`);
    const k = s.k;
    const x = s.put(t.data, where, "t");
    // tiny or huge values: fit 2^e·t (exact), weights are scaled back at the end
    const scaleExp = scaleInPlace(s, x, size);
    const normX2 = k.sumsq_f32(x, size);
    const RR = R * R;
    const newModel = (): Model => ({ f: shape.map((d) => s.f32(d * R)), w: s.f32(R) });
    const copyModel = (dst: Model, src: Model) => {
      shape.forEach((d, n) => k.copy_block_f32(src.f[n], 1, dst.f[n], 1, d * R, 1));
      k.copy_block_f32(src.w, 1, dst.w, 1, R, 1);
    };
    const cur = newModel(), prev = newModel(), trial = newModel(), best = newModel();
    const grams = shape.map(() => s.f32(RR));
    const V = s.f32(RR);
    const M = s.f32(Math.max(...shape) * R);
    const ones = s.f32(R);
    s.view(ones, R).fill(1);

    // ---- init: leading singular vectors of each unfolding (computed once, reused by restarts),
    // random columns beyond the mode size (and everywhere for init 'random'), drawn per start
    const lead = shape.map((d, n) => {
      if (init !== "svd") return 0;
      const r = Math.min(d, R);
      const keep = s.f32(d * r);
      const mark = k.scratch_mark();
      k.copy_block_f32(leadingVectorsPtr(s, x, shape, n, r), r, keep, r, d, r);
      k.scratch_reset(mark);
      return keep;
    });
    const initModel = (start: number) => {
      shape.forEach((d, n) => {
        const u = cur.f[n];
        k.fill_randn_f32(u, d * R, (seed + 7919 * (n + 1) + 104729 * start) >>> 0);
        if (lead[n] !== 0) k.copy_block_f32(lead[n], Math.min(d, R), u, R, d, Math.min(d, R));
        k.normalize_cols_f32(u, d, R, trial.w);
      });
      k.copy_block_f32(ones, 1, cur.w, 1, R, 1);
    };
    const gramsOf = (m: Model) => shape.forEach((d, n) => gemm(k, { transA: true, m: R, n: R, k: d, a: m.f[n], lda: R, b: m.f[n], ldb: R, c: grams[n], ldc: R }));
    const hadamardExcept = (skip: number) => {
      let first = true;
      for (let n = 0; n < N; n++) {
        if (n === skip) continue;
        if (first) k.copy_block_f32(grams[n], 1, V, 1, RR, 1);
        else k.hadamard_f32(V, grams[n], RR, V);
        first = false;
      }
    };
    const directError = (m: Model) => {
      const mark = k.scratch_mark();
      const d = densePtr(s, m.f, m.w, shape, R);
      const e = k.diffsq_f32(d, x, size);
      k.scratch_reset(mark);
      return e;
    };
    const toRel = (sq: number) => (normX2 > 0 ? Math.sqrt(Math.max(sq, 0) / normX2) : 0);
    /** Error of a model from Grams (already set for m) and the MTTKRP of mode n at M with factor m.f[n]. */
    const errorFrom = (m: Model, n: number) => {
      const inner = k.weighted_inner_f32(M, m.f[n], m.w, shape[n], R);
      hadamardExcept(-1);
      const model2 = k.quad_form_f32(V, R, m.w);
      const rel = toRel(normX2 - 2 * inner + model2);
      return rel < 2e-3 ? toRel(directError(m)) : rel;
    };
    /** Full error of an arbitrary model (its Grams are computed into `grams`). */
    const errorOf = (m: Model) => {
      gramsOf(m);
      const mark = k.scratch_mark();
      mttkrpInto(s, x, shape, m.f, R, N - 1, M);
      k.scratch_reset(mark);
      return errorFrom(m, N - 1);
    };

    /** ALS sweeps from cur (initialised); returns its error history and whether it stopped on a stall. */
    const run = () => {
      gramsOf(cur);
      const history: number[] = [];
      let err = Infinity;
      let lsExp = 3;
      const MU = proximal;
      const window = 10;
      for (let it = 0; it < maxIter; it++) {
        if (it > 0) copyModel(prev, cur);
        const mu = Number.isFinite(err) ? MU * err : 0;
        for (let n = 0; n < N; n++) {
          const mark = k.scratch_mark();
          mttkrpInto(s, x, shape, cur.f, R, n, M);
          hadamardExcept(n);
          if (mu > 0) {
            // proximal term μ‖U_n − U_n^prev‖² (swamp reduction): (V + μI), M + μ·U_n^prev·diag(λ)
            // (M itself stays intact: the error estimate after the last mode needs it)
            const p = s.f32(shape[n] * R);
            k.copy_block_f32(cur.f[n], 1, p, 1, shape[n] * R, 1);
            k.scale_cols_f32(p, shape[n], R, cur.w);
            k.add_scaled_f32(M, p, mu, shape[n] * R, p);
            k.add_diag_f32(V, R, mu);
            k.spd_solve_right_f32(V, R, p, shape[n], cur.f[n]);
          } else {
            k.spd_solve_right_f32(V, R, M, shape[n], cur.f[n]);
          }
          k.scratch_reset(mark);
          k.normalize_cols_f32(cur.f[n], shape[n], R, cur.w);
          gemm(k, { transA: true, m: R, n: R, k: shape[n], a: cur.f[n], lda: R, b: cur.f[n], ldb: R, c: grams[n], ldc: R });
        }
        let e = errorFrom(cur, N - 1);
        if (lineSearch && it > 0) {
          const step = Math.pow(it + 1, 1 / lsExp);
          shape.forEach((d, n) => k.lerp_f32(prev.f[n], cur.f[n], step, d * R, trial.f[n]));
          k.lerp_f32(prev.w, cur.w, step, R, trial.w);
          const eTrial = errorOf(trial);
          if (eTrial < e) {
            copyModel(cur, trial);
            shape.forEach((d, n) => {
              // renormalise columns, folding the norms into the weights
              k.normalize_cols_f32(cur.f[n], d, R, trial.w);
              k.hadamard_f32(cur.w, trial.w, R, cur.w);
            });
            e = eTrial;
          } else {
            lsExp += 1;
          }
          gramsOf(cur);
        }
        history.push(e);
        err = e;
        // Stop when the error fell by less than tol over the last `window` sweeps: a single-sweep
        // change can be ~0 by rounding in a swamp (the estimate jitters by ~1e-7/err), and
        // swamps are exactly where ALS must keep going.
        if (tol > 0 && it >= window && history[it - window] - e < tol) return { err, history, stalled: true };
      }
      return { err, history, stalled: false };
    };

    // A start that stalls above RESTART_ABOVE (a swamp, or simply the best this rank can do) is
    // followed by up to `restarts` fresh starts (new random columns); the lowest error wins.
    initModel(0);
    let bestRun = run();
    for (let start = 1; start <= restarts && bestRun.stalled && bestRun.err > RESTART_ABOVE; start++) {
      copyModel(best, cur);
      initModel(start);
      const r = run();
      if (r.err < bestRun.err) bestRun = r;
      else copyModel(cur, best);
    }
    const err = bestRun.err;
    const history = bestRun.history;
    const iterations = history.length;
    if (!Number.isFinite(err)) fail(where, `CP-ALS produced a non-finite error (${err}) for a tensor of shape [${shape}] at rank ${R}; expected finite factors`);
    if (normX2 > 0 && s.k.maxabs_f32(cur.w, R) === 0) fail(where, `CP-ALS produced all-zero weights for a nonzero tensor of shape [${shape}] at rank ${R}`);
    unscale(s, where, "CP weights", cur.w, R, scaleExp);
    const weights = s.take(cur.w, R);
    const factors = shape.map((d, n) => ({ data: s.take(cur.f[n], d * R), shape: [d, R] }));
    return new CPTensor(weights, factors, shape, iterations, history);
  });
}
