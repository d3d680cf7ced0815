import { beforeAll, describe, expect, it } from "vitest";
import { fold, khatriRao, modeProduct, mttkrp, ready, unfold, unfoldGram, wasmMemoryBytes } from "../../src/index.ts";
import { refKhatriRao, refModeProduct, refUnfold, randTensor } from "../helpers/tensors.ts";
import { maxRelErr, relErr } from "../helpers/reference.ts";

beforeAll(() => ready());

// shapes whose A/I/B blocks hit SIMD tails (1, 3, 5, 7, 17) and the B<16 / B≥16 / B≥64 kernel paths
const shapes = [[1, 5], [3, 7], [2, 3, 4], [4, 1, 5, 2], [5, 17, 3], [3, 4, 33], [2, 65, 3, 3], [17, 3, 5, 7], [7, 2, 70]];

describe("unfold / fold", () => {
  it("match TensorLy's moveaxis+reshape unfolding and invert exactly", () => {
    let seed = 1;
    for (const shape of shapes) {
      const t = randTensor(shape, seed++);
      for (let m = 0; m < shape.length; m++) {
        const u = unfold(t, m);
        expect(u.shape).toEqual([shape[m], t.data.length / shape[m]]);
        expect(maxRelErr(u.data, refUnfold(t, m))).toBe(0);
        const back = fold(u, m, shape);
        expect(back.shape).toEqual(shape);
        expect(maxRelErr(back.data, t.data)).toBe(0);
      }
    }
  });
});

describe("modeProduct", () => {
  it("agrees with the scalar reference, plain and transposed, on every mode", () => {
    let seed = 100;
    for (const shape of shapes) {
      const t = randTensor(shape, seed++);
      for (let m = 0; m < shape.length; m++) {
        for (const J of [1, 3, 5, 17]) {
          const u = randTensor([J, shape[m]], seed++);
          const ref = refModeProduct(t, u, m);
          const y = modeProduct(t, u, m);
          expect(y.shape).toEqual(ref.shape);
          expect(relErr(y.data, ref.data)).toBeLessThan(1e-5);
          // transposed: pass Uᵀ stored I×J
          const ut = { data: new Float32Array(u.data.length), shape: [shape[m], J] };
          for (let j = 0; j < J; j++) for (let i = 0; i < shape[m]; i++) ut.data[i * J + j] = u.data[j * shape[m] + i];
          expect(relErr(modeProduct(t, ut, m, { transpose: true }).data, ref.data)).toBeLessThan(1e-5);
        }
      }
    }
  });

  it("rejects a factor of the wrong size, naming both", () => {
    expect(() => modeProduct(randTensor([3, 4], 1), randTensor([2, 5], 2), 1)).toThrow(/u \[2,5\] has 5 columns but mode 1 of t \[3,4\] has size 4/);
    expect(() => modeProduct(randTensor([3, 4], 1), randTensor([2, 3], 2), 2)).toThrow(/mode 2 is out of range.*expected an integer in 0…1/);
  });
});

describe("khatriRao / mttkrp / unfoldGram", () => {
  it("Khatri–Rao matches the reference (first matrix slowest)", () => {
    let seed = 300;
    for (const R of [1, 3, 4, 5, 17]) {
      const mats = [randTensor([3, R], seed++), randTensor([5, R], seed++), randTensor([2, R], seed++)];
      const kr = khatriRao(mats);
      expect(kr.shape).toEqual([30, R]);
      expect(relErr(kr.data, refKhatriRao(mats))).toBeLessThan(1e-6);
    }
    expect(() => khatriRao([randTensor([3, 2], 1), randTensor([3, 3], 2)])).toThrow(/mats\[1\] has 3 columns but mats\[0\] has 2/);
  });

  it("MTTKRP equals unfold · KR(others) on every mode and path", () => {
    let seed = 400;
    for (const shape of [[4, 5, 3], [32, 9, 3, 3], [3, 5, 2, 7], [17, 3, 33], [3, 40, 60]]) {
      const t = randTensor(shape, seed++);
      for (const R of [1, 5, 16, 17, 33]) {
        const factors = shape.map((d) => randTensor([d, R], seed++));
        for (let m = 0; m < shape.length; m++) {
          const kr = refKhatriRao(factors.filter((_, k) => k !== m).map((f) => ({ data: Float32Array.from(f.data), shape: f.shape })));
          const un = refUnfold(t, m);
          const cols = t.data.length / shape[m];
          const ref = new Float64Array(shape[m] * R);
          for (let i = 0; i < shape[m]; i++) for (let r = 0; r < R; r++) {
            let s = 0;
            for (let c = 0; c < cols; c++) s += un[i * cols + c] * kr[c * R + r];
            ref[i * R + r] = s;
          }
          expect(relErr(mttkrp(t, factors, m).data, ref)).toBeLessThan(2e-5);
        }
      }
    }
  });

  /** X_(m)·X_(m)ᵀ in f64 from the scalar unfolding. */
  const refGram = (t: Parameters<typeof refUnfold>[0], m: number): Float64Array => {
    const un = refUnfold(t, m);
    const I = t.shape[m], cols = t.data.length / I;
    const ref = new Float64Array(I * I);
    for (let i = 0; i < I; i++) for (let j = 0; j < I; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += un[i * cols + c] * un[j * cols + c];
      ref[i * I + j] = s;
    }
    return ref;
  };

  it("Gram of each unfolding matches X_(n)·X_(n)ᵀ", () => {
    let seed = 500;
    for (const shape of shapes) {
      const t = randTensor(shape, seed++);
      for (let m = 0; m < shape.length; m++) {
        expect(relErr(unfoldGram(t, m).data, refGram(t, m))).toBeLessThan(1e-5);
      }
    }
  });

  it("Gram over several upper-triangle row blocks (sizes 65, 129, 130) matches the reference and is exactly symmetric", () => {
    // the three paths: Xᵀ·X (last mode), per leading index (long trailing blocks), unfolded copy
    for (const [shape, m] of [[[40, 129], 1], [[2, 130, 70], 1], [[5, 65, 3], 1]] as [number[], number][]) {
      const t = randTensor(shape, 900 + shape[m]);
      const I = shape[m];
      const g = unfoldGram(t, m).data;
      expect(relErr(g, refGram(t, m)), `shape [${shape}]`).toBeLessThan(1e-5);
      let asym = 0;
      for (let i = 0; i < I; i++) for (let j = 0; j < i; j++) if (g[i * I + j] !== g[j * I + i]) asym++;
      expect(asym, `shape [${shape}]`).toBe(0);
    }
  });

  it("rejects NaN and does not grow wasm memory across calls", () => {
    const t = randTensor([3, 4, 5], 1);
    t.data[7] = NaN;
    expect(() => unfold(t, 0)).toThrow(/t has a non-finite value \(NaN\) at flat index 7/);
    const ok = randTensor([16, 16, 9], 2);
    unfoldGram(ok, 1);
    const before = wasmMemoryBytes();
    for (let i = 0; i < 20; i++) { unfoldGram(ok, 1); modeProduct(ok, randTensor([4, 16], 3), 1); }
    expect(wasmMemoryBytes()).toBe(before);
  });
});
