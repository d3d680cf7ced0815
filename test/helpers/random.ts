// Seeded data for tests: a small, fast PRNG (mulberry32) and Gaussian samples.
// The library's own seeded PRNG: tests and data shuffling draw from one generator.
import { seededRandom } from "../../src/data/dataset.ts";

export const rng = seededRandom;

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function randn(n: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g();
  return out;
}
