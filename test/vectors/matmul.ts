// matmul vectors: all four transposes at sizes that exercise SIMD tails and
// blocking edges, square and non-square, against the float64 scalar reference.
import { matmul, wasmMemoryBytes, type Tensor } from "../../src/index.ts";
import { randn } from "../helpers/random.ts";
import { refMatmul, relErr } from "../helpers/reference.ts";
import { withinLimits, type VectorCase } from "./case.ts";

const SIZES = [1, 3, 4, 5, 17, 64, 65, 129];
const mk = (r: number, c: number, seed: number): Tensor => ({ data: randn(r * c, seed), shape: [r, c] });

/** (m, n, k) triples: every size squared, plus each size against a small and a mid neighbour on the other axes. */
function shapes(): [number, number, number][] {
  const out: [number, number, number][] = [];
  SIZES.forEach((s, i) => {
    const other = SIZES[(i + 3) % SIZES.length];
    out.push([s, s, s], [s, other, 5], [3, s, other], [other, 17, s]);
  });
  return out;
}

function transposeCase(ta: boolean, tb: boolean): VectorCase {
  const tag = `${ta ? "T" : "N"}${tb ? "T" : "N"}`;
  return {
    name: `matmul ${tag} (sizes ${SIZES.join(", ")})`,
    run() {
      let worst = 0, worstM = 0, worstN = 0, worstK = 0, seed = 11;
      for (const [m, n, k] of shapes()) {
        const a = ta ? mk(k, m, seed++) : mk(m, k, seed++);
        const b = tb ? mk(n, k, seed++) : mk(k, n, seed++);
        const c = matmul(a, b, { transposeA: ta, transposeB: tb });
        if (c.shape[0] !== m || c.shape[1] !== n || c.data.length !== m * n) {
          return { pass: false, figures: { m, n, k }, note: `shape [${c.shape}] for ${m}×${k}·${k}×${n}; expected [${m},${n}]` };
        }
        const e = relErr(c.data, refMatmul(a, b, ta, tb));
        // A NaN error sticks (and fails the limit check); otherwise keep the largest.
        if (!Number.isNaN(worst) && !(e <= worst)) [worst, worstM, worstN, worstK] = [e, m, n, k];
      }
      return withinLimits({ relErr: worst, worstM, worstN, worstK }, { relErr: 1e-5 });
    },
  };
}

export const matmulVectors: VectorCase[] = [
  transposeCase(false, false),
  transposeCase(false, true),
  transposeCase(true, false),
  transposeCase(true, true),
  {
    name: "matmul does not grow wasm memory across repeated calls",
    run() {
      const a = mk(96, 80, 1), b = mk(80, 72, 2);
      matmul(a, b);
      const before = wasmMemoryBytes();
      for (let i = 0; i < 10; i++) matmul(a, b, { transposeB: false });
      const after = wasmMemoryBytes();
      return { pass: after === before, figures: { before, after }, note: after === before ? undefined : `memory grew ${before} → ${after} B` };
    },
  },
];
