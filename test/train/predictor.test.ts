import { describe, expect, it } from "vitest";
import { curveFamilies, epochCurveFamilies, epochNoise, errorPow2, pow3Prior, exp3, fitCurves, logitLinear, logPower, nextRank, pow3, predictCurve, shouldStop, type CurveFamily } from "../../src/train/predictor.ts";
import { gaussian, rng } from "../helpers/random.ts";

const epochs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const cases: [CurveFamily, number[]][] = [[pow3, [0.95, 0.4, 0.8]], [exp3, [0.9, 0.5, 0.15]], [logPower, [0.97, 1.0, -1.3]]];

describe("curve families", () => {
  it("have Jacobians that match finite differences", () => {
    for (const [fam, p] of cases) for (const x of [1, 2.5, 17]) {
      const g = fam.grad(p, x);
      p.forEach((_, k) => {
        const h = 1e-6, q = p.slice(), r = p.slice();
        q[k] += h; r[k] -= h;
        expect(g[k]).toBeCloseTo((fam.f(q, x) - fam.f(r, x)) / (2 * h), 5);
      });
    }
  });
});

describe("fitCurves", () => {
  it.each(cases.map(([f, p]) => [f.name, f, p] as const))("recovers the parameters of a noiseless %s curve", (_n, fam, p) => {
    const x = epochs(30), y = x.map((t) => fam.f(p, t));
    const e = fitCurves(x, y);
    const fit = e.fits.find((f) => f.family === fam.name)!;
    fit.params.forEach((v, k) => expect(v).toBeCloseTo(p[k], 3));
    expect(fit.weight).toBeGreaterThan(0.99);
    expect(e.asymptote).toBeCloseTo(p[0], 3);
  });
  it.each(cases.map(([f, p]) => [f.name, f, p] as const))("recovers a noisy %s curve's asymptote and shape", (_n, fam, p) => {
    const g = gaussian(rng(7)), x = epochs(40), y = x.map((t) => fam.f(p, t) + 0.002 * g());
    const e = fitCurves(x, y);
    const fit = e.fits.find((f) => f.family === fam.name)!;
    expect(fit.dropped).toBeUndefined();
    expect(Math.abs(fit.params[0] - p[0])).toBeLessThan(0.01);
    expect(Math.abs(e.asymptote - p[0])).toBeLessThan(0.01);
    for (const t of [5, 40, 80]) expect(Math.abs(e.predict(t) - fam.f(p, t))).toBeLessThan(0.01);
  });
  it("keeps the asymptote within bounds for short, still-accelerating histories", () => {
    const e = fitCurves([1, 2, 3], [0.876, 0.882, 0.896]);
    for (const f of e.fits) if (!f.dropped) expect(f.params[0]).toBeLessThanOrEqual(1.05 + 1e-12);
    expect(e.asymptote).toBeLessThanOrEqual(1);
    expect(e.asymptote).toBeGreaterThan(0.896);
    expect(e.fits.reduce((s, f) => s + f.weight, 0)).toBeCloseTo(1, 9);
  });
  it("drops families that fit far worse than the best", () => {
    const x = epochs(20), y = x.map((t) => exp3.f([0.9, 0.5, 0.15], t));
    const e = fitCurves(x, y);
    expect(e.fits.find((f) => f.family === "exp3")!.weight).toBeGreaterThan(0.99);
    expect(e.fits.some((f) => f.dropped && /25× the best/.test(f.dropped))).toBe(true);
  });
  it("rejects bad inputs with clear errors", () => {
    expect(() => fitCurves([1, 2], [0.5, 0.6])).toThrow(/got 2 point\(s\); expected at least 3/);
    expect(() => fitCurves([1, 2, 3], [0.5, NaN, 0.7])).toThrow(/y\[1\] = NaN; expected a finite number/);
    expect(() => fitCurves([1, 3, 2], [0.5, 0.6, 0.7])).toThrow(/expected increasing x/);
    expect(() => fitCurves([0, 1, 2], [0.5, 0.6, 0.7])).toThrow(/x\[0\] = 0; expected a finite positive/);
    expect(() => fitCurves([1, 2, 3], [0.5, 0.6])).toThrow(/3 x values but 2 y values/);
    expect(() => predictCurve([0.1, 0.2, 0.3], 0)).toThrow(/at = 0; expected an epoch ≥ 1/);
  });
});

describe("predictCurve", () => {
  it("predicts the final value from the first 30% of a noisy curve within 1 point", () => {
    const g = gaussian(rng(3));
    for (const [fam, p] of cases) {
      const y = epochs(30).map((t) => fam.f(p, t) + 0.001 * g());
      // the curve's noise is known (0.001), smaller than the epoch default epochNoise
      const pred = predictCurve(y.slice(0, 9), 30, { families: curveFamilies, noise: 0.001 });
      expect(Math.abs(pred.value - fam.f(p, 30))).toBeLessThan(0.01);
    }
  });
});

describe("epoch ensemble (pow3 with a curvature prior + error power law)", () => {
  it("is the default over epochs; recovers an error power law and keeps c within the prior", () => {
    const y = epochs(10).map((t) => errorPow2.f([1, 0.3, 0.7], t));
    const p = predictCurve(y.slice(0, 3), 10);
    expect(p.ensemble.fits.map((f) => f.family)).toEqual(epochCurveFamilies.map((f) => f.name));
    expect(Math.abs(p.value - y[9])).toBeLessThan(0.005);
    const e = p.ensemble.fits.find((f) => f.family === "error-pow2")!;
    expect(e.params[0]).toBe(1);
    expect(e.params[1]).toBeCloseTo(0.3, 3);
    expect(e.params[2]).toBeCloseTo(0.7, 3);
    // A curve bending faster than c = 1.5 still gets a pow3-prior fit with c at the bound.
    const steep = epochs(6).map((t) => pow3.f([0.9, 0.5, 3], t));
    const q = predictCurve(steep, 10, { families: [pow3Prior] });
    expect(q.ensemble.fits[0].params[2]).toBeLessThanOrEqual(1.5);
    expect(q.value).toBeGreaterThan(0.85);
  });
});

describe("logit-linear family (not in the default ensemble)", () => {
  it("logit-linear (the session-12 variant, [pow3Prior, logitLinear]) recovers a slow-starting curve from 3 epochs", () => {
    // 21 %, 36 %, 47 % … 77 % at epoch 10 (logit(y) = 1.1·(log x − 1.2))
    const y = epochs(10).map((t) => logitLinear.f([1, 1.2, -1.1], t));
    const p = predictCurve(y.slice(0, 3), 10, { families: [pow3Prior, logitLinear] });
    const e = p.ensemble.fits.find((f) => f.family === "logit-linear")!;
    expect(e.params[0]).toBe(1);
    expect(e.params[1]).toBeCloseTo(1.2, 3);
    expect(e.params[2]).toBeCloseTo(-1.1, 3);
    expect(e.weight).toBeGreaterThan(0.85);
    expect(Math.abs(p.value - y[9])).toBeLessThan(0.015);
  });
  it("logit-linear: Jacobian matches finite differences, the asymptote stays 1, odd histories still fit", () => {
    const p = [1, 0.4, -0.8];
    for (const x of [1, 2.5, 17]) {
      const g = logitLinear.grad(p, x);
      p.forEach((_, k) => {
        const h = 1e-6, q = p.slice(), r = p.slice();
        q[k] += h; r[k] -= h;
        expect(g[k]).toBeCloseTo((logitLinear.f(q, x) - logitLinear.f(r, x)) / (2 * h), 5);
      });
    }
    // noisy 30-epoch curve: the fit recovers the shape and the prediction 20 epochs ahead
    const g = gaussian(rng(11)), y = epochs(30).map((t) => logitLinear.f([1, 0.5, -0.9], t) + 0.002 * g());
    const e = fitCurves(epochs(10), y.slice(0, 10), { families: [logitLinear] });
    expect(e.fits[0].params[0]).toBe(1);
    expect(Math.abs(e.fits[0].params[2] + 0.9)).toBeLessThan(0.1);
    expect(Math.abs(e.predict(30) - logitLinear.f([1, 0.5, -0.9], 30))).toBeLessThan(0.01);
    // accuracies at 1 and falling histories: finite starts, a fit, a bounded prediction
    for (const h of [[0.99, 1, 1], [0.5, 0.4, 0.3], [0, 0.1, 0.2]]) {
      expect(logitLinear.starts(epochs(3), h).flat().every(Number.isFinite)).toBe(true);
      const v = predictCurve(h, 10).value;
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });
});

describe("noise term (likelihood weights: fits within the noise share the weight)", () => {
  // pow3 with c = 1 through epochs 1–3: pow3-prior interpolates it exactly; the error power law (asymptote 1) misses by ≈ 0.3 points.
  const y = [1, 2, 3].map((t) => pow3.f([0.9, 0.3, 1], t));
  const byName = (p: ReturnType<typeof predictCurve>, name: string) => p.ensemble.fits.find((f) => f.family === name)!;
  it("without it an exact 3-parameter fit drops a close 2-parameter one; with it both are mixed", () => {
    const exact = predictCurve(y, 10, { noise: 0 });
    expect(byName(exact, "error-pow2").weight).toBe(0);
    expect(byName(exact, "error-pow2").dropped).toMatch(/25× the best/);
    const err = byName(exact, "error-pow2").mse;
    expect(err).toBeGreaterThan(1e-8);
    expect(err).toBeLessThan(epochNoise ** 2);
    const mixed = predictCurve(y, 10);
    const w = byName(mixed, "error-pow2").weight, w3 = byName(mixed, "pow3-prior").weight;
    expect(w).toBeGreaterThan(0.25);
    expect(w + w3).toBeCloseTo(1, 9);
    // weights ∝ the Gaussian likelihood exp(−SSE/2σ²)
    const m3 = byName(mixed, "pow3-prior").mse, m2 = byName(mixed, "error-pow2").mse;
    expect(Math.log(w / w3)).toBeCloseTo(-3 * (m2 - m3) / (2 * epochNoise ** 2), 6);
    // the mix lies between the two families' own predictions
    const lo = Math.min(errorPow2.f(byName(mixed, "error-pow2").params, 10), pow3Prior.f(byName(mixed, "pow3-prior").params, 10));
    const hi = Math.max(errorPow2.f(byName(mixed, "error-pow2").params, 10), pow3Prior.f(byName(mixed, "pow3-prior").params, 10));
    expect(mixed.value).toBeGreaterThanOrEqual(lo - 1e-12);
    expect(mixed.value).toBeLessThanOrEqual(hi + 1e-12);
    expect(hi - lo).toBeGreaterThan(1e-3);
  });
  it("still drops fits far outside the noise", () => {
    // plateau at 0.6: the error power law (asymptote 1) cannot follow it
    const plateau = epochs(20).map((t) => pow3.f([0.6, 0.3, 1.2], t));
    const p = predictCurve(plateau, 30);
    expect(byName(p, "error-pow2").dropped).toBe(`mse ${byName(p, "error-pow2").mse.toExponential(2)}: likelihood < e^-8 of the best fit's at noise ${epochNoise}`);
    expect(p.value).toBeCloseTo(pow3.f([0.6, 0.3, 1.2], 30), 3);
  });
  it("is 0 by default off the epoch axis and rejects bad values", () => {
    const e = fitCurves([1, 2, 3], y, { families: epochCurveFamilies });
    expect(e.fits.find((f) => f.family === "error-pow2")!.weight).toBe(0);
    expect(() => fitCurves([1, 2, 3], y, { noise: -1 })).toThrow(/noise = -1; expected a finite number ≥ 0/);
    expect(() => predictCurve(y, 10, { noise: NaN })).toThrow(/noise = NaN/);
  });
});

describe("shouldStop", () => {
  const curve = epochs(40).map((t) => pow3.f([0.95, 0.4, 0.8], t));
  it("continues early on and stops once the remaining gain is small", () => {
    const early = shouldStop(curve.slice(0, 5), { threshold: 0.005 });
    expect(early.stop).toBe(false);
    expect(early.predictedGain).toBeGreaterThan(0.05);
    const late = shouldStop(curve.slice(0, 40), { threshold: 0.005, horizon: 10 });
    expect(late.stop).toBe(true);
    expect(late.predictedGain).toBeLessThan(0.005);
    expect(late.reason).toMatch(/after 10 more epoch/);
  });
  it("rejects bad options", () => {
    expect(() => shouldStop(curve.slice(0, 5), { threshold: -1 })).toThrow(/threshold = -1/);
    expect(() => shouldStop(curve.slice(0, 5), { threshold: 0.01, horizon: 0.5 })).toThrow(/horizon = 0.5; expected a positive integer/);
    expect(() => shouldStop([0.5, 0.6], { threshold: 0.01 })).toThrow(/expected at least 3/);
  });
});

describe("nextRank", () => {
  // accuracy over rank, saturating: 0.985 − 0.9·r^(−1.2)
  const acc = (r: number) => pow3.f([0.985, 0.9, 1.2], r);
  it("picks the smallest rank predicted to reach the target", () => {
    const points = [5, 30, 150].map((rank) => ({ rank, accuracy: acc(rank) }));
    const choice = nextRank(points, { target: 0.97, maxRank: 150 });
    let truth = 1;
    while (acc(truth) < 0.97) truth++;
    expect(choice.rank).not.toBeNull();
    expect(Math.abs(choice.rank! - truth)).toBeLessThanOrEqual(1);
    expect(choice.predicted!).toBeGreaterThanOrEqual(0.97);
  });
  it("returns null when no rank reaches the target and checks options", () => {
    const points = [5, 30, 150].map((rank) => ({ rank, accuracy: acc(rank) }));
    expect(nextRank(points, { target: 0.999, maxRank: 150 }).rank).toBeNull();
    expect(() => nextRank(points, { target: 0.9, minRank: 10, maxRank: 5 })).toThrow(/rank range \[10, 5\]/);
  });
  it("uses every family by default", () => {
    expect(curveFamilies.map((f) => f.name)).toEqual(["pow3", "exp3", "logpower"]);
  });
});
