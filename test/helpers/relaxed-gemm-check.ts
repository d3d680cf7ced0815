// Run by test/linalg/matmul-relaxed.test.ts in a child `node --experimental-wasm-relaxed-simd`:
// checks matmul and lowRankMatmul with the relaxed-SIMD build (fused multiply-add) against
// the float64 reference. Prints one JSON line { build, worst } and exits non-zero on failure.
import { lowRankMatmul, matmul, ready, runtimeInfo, type Tensor } from "../../src/index.ts";
import { randn } from "./random.ts";
import { refMatmul, relErr } from "./reference.ts";

await ready({ build: "relaxed" });
const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });
let worst = 0;
let seed = 1;
for (const [m, n, k] of [[1, 1, 1], [3, 17, 5], [5, 9, 33], [17, 33, 65], [65, 129, 64], [129, 65, 257], [7, 2049, 9], [257, 8, 300]]) {
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
    const a = ta ? mk(k, m, seed++) : mk(m, k, seed++);
    const b = tb ? mk(n, k, seed++) : mk(k, n, seed++);
    const c = matmul(a, b, { transposeA: ta, transposeB: tb });
    worst = Math.max(worst, relErr(c.data, refMatmul(a, b, ta, tb)));
  }
}
const x = mk(33, 70, 1), u = mk(70, 9, 2), v = mk(9, 41, 3);
worst = Math.max(worst, relErr(lowRankMatmul(x, u, v).data, refMatmul({ data: Float32Array.from(refMatmul(x, u)), shape: [33, 9] }, v)));
console.log(JSON.stringify({ build: runtimeInfo().build, worst }));
process.exit(worst < 1e-5 ? 0 : 1);
