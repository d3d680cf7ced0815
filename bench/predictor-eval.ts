// Scoring the learning-curve predictor on real curves: the final accuracy
// predicted from the first `frac` of the epochs (MAE, in points, against the
// actual final accuracy; the "last value so far" as the naive reference), and
// early stopping (shouldStop from 3 epochs on): epochs saved and the accuracy
// it cost (actual final − accuracy at the stop); and the noise floor: the same
// ensemble fitted to every epoch, at the last one, against the actual last value.
import { predictCurve, shouldStop, type PredictorOptions } from "../src/train/predictor.ts";

export interface CurveScore {
  name: string; final: number; predicted: number; lastSeen: number; stopEpoch: number; accAtStop: number;
  /** The same ensemble fitted to ALL epochs, at the last one: how far the final value sits off a smooth curve (epoch-to-epoch noise). */
  smoothFinal: number;
}
export interface PredictorScore {
  n: number; mae: number; maxErr: number; naiveMae: number;
  /** Mean signed error (predicted − final), points: > 0 over-predicts. */
  bias: number;
  /** Mean |smooth fit to all epochs − final|, points: the noise floor no extrapolation can beat on average. */
  noiseMae: number;
  epochsSaved: number; epochsTotal: number; meanCost: number; maxCost: number; curves: CurveScore[];
}

export function scorePredictor(curves: { name: string; accuracy: number[] }[], o: { frac?: number; threshold?: number; options?: PredictorOptions } = {}): PredictorScore {
  const frac = o.frac ?? 0.3, threshold = o.threshold ?? 0.002;
  const out: CurveScore[] = [];
  for (const c of curves) {
    const E = c.accuracy.length, seen = Math.max(3, Math.floor(frac * E + 1e-9));
    const final = c.accuracy[E - 1];
    const predicted = predictCurve(c.accuracy.slice(0, seen), E, o.options).value;
    let stopEpoch = E;
    for (let e = 3; e < E; e++) {
      if (shouldStop(c.accuracy.slice(0, e), { threshold, horizon: E - e, ...o.options }).stop) { stopEpoch = e; break; }
    }
    const smoothFinal = predictCurve(c.accuracy, E, o.options).value;
    out.push({ name: c.name, final, predicted, smoothFinal, lastSeen: c.accuracy[seen - 1], stopEpoch, accAtStop: Math.max(...c.accuracy.slice(0, stopEpoch)) });
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const errs = out.map((c) => Math.abs(c.predicted - c.final) * 100);
  const costs = out.map((c) => (c.final - c.accAtStop) * 100);
  return {
    n: out.length, mae: mean(errs), bias: mean(out.map((c) => (c.predicted - c.final) * 100)), maxErr: Math.max(...errs), naiveMae: mean(out.map((c) => Math.abs(c.lastSeen - c.final) * 100)),
    noiseMae: mean(out.map((c) => Math.abs(c.smoothFinal - c.final) * 100)),
    epochsSaved: out.reduce((s, c, i) => s + curves[i].accuracy.length - c.stopEpoch, 0), epochsTotal: curves.reduce((s, c) => s + c.accuracy.length, 0),
    meanCost: mean(costs), maxCost: Math.max(...costs), curves: out,
  };
}
