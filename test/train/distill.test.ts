import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { crossEntropy, distillLoss, outputKind, softKL, toLogits } from "../../src/train/distill.ts";
import { smallCnn } from "./fixtures.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

// Scalar reference: float64 T²·KL(softmax(t/T) ‖ softmax(s/T)) of one row.
function refKL(s: number[], t: number[], T: number): number {
  const sm = (v: number[]) => { const m = Math.max(...v.map((x) => x / T)); const e = v.map((x) => Math.exp(x / T - m)); const z = e.reduce((a, b) => a + b, 0); return e.map((x) => x / z); };
  const p = sm(t), q = sm(s);
  return T * T * p.reduce((acc, pi, i) => acc + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);
}

const S = [[1.5, -0.3, 0.2, 4.0], [0, 0, 0, 0], [-20, 10, 3, 0.5]];
const Tt = [[0.5, 2.0, -1.0, 3.0], [1, 2, 3, 4], [-20, 10, 3, 0.5]];

describe("distillation loss", () => {
  it("T²·KL matches a float64 scalar reference for several temperatures (0 when the logits agree)", () => {
    for (const T of [1, 2, 4, 10]) {
      const ref = S.map((s, i) => refKL(s, Tt[i], T)).reduce((a, b) => a + b, 0) / S.length;
      const got = tf.tidy(() => softKL(tf.tensor2d(S), tf.tensor2d(Tt), T).dataSync()[0]);
      expect(got).toBeCloseTo(ref, 4);
    }
    const same = tf.tidy(() => softKL(tf.tensor2d(Tt), tf.tensor2d(Tt), 3).dataSync()[0]);
    expect(Math.abs(same)).toBeLessThan(1e-5);
  });

  it("gradient w.r.t. the student logits is T·(softmax(s/T) − softmax(t/T))/batch, and matches finite differences", () => {
    const T = 3, s = tf.tensor2d(S), t = tf.tensor2d(Tt);
    const g = tf.grad((x: tf.Tensor) => softKL(x, t, T))(s);
    const analytic = tf.tidy(() => tf.div(tf.mul(tf.sub(tf.softmax(tf.div(s, T)), tf.softmax(tf.div(t, T))), T), S.length));
    const gv = g.dataSync(), av = analytic.dataSync();
    for (let i = 0; i < gv.length; i++) expect(gv[i]).toBeCloseTo(av[i], 5);
    // central differences on the float64 reference
    const h = 1e-4;
    const f = (m: number[][]) => m.map((row, i) => refKL(row, Tt[i], T)).reduce((a, b) => a + b, 0) / m.length;
    for (let i = 0; i < S.length; i++) for (let j = 0; j < 4; j++) {
      const up = S.map((r) => r.slice()), dn = S.map((r) => r.slice());
      up[i][j] += h; dn[i][j] -= h;
      expect(gv[i * 4 + j]).toBeCloseTo((f(up) - f(dn)) / (2 * h), 3);
    }
    tf.dispose([s, t, g, analytic]);
  });

  it("α mixes label CE and the soft term; no labels means α = 0; probabilities and logits give the same loss", () => {
    const s = tf.tensor2d(S), t = tf.tensor2d(Tt), y = tf.cast(tf.oneHot(tf.tensor1d([3, 0, 1], "int32"), 4), "float32");
    const ce = crossEntropy(y, s, "logits").dataSync()[0];
    const kl = softKL(s, t, 2).dataSync()[0];
    const mixed = distillLoss({ student: s, studentKind: "logits", teacher: t, teacherKind: "logits", labels: y, alpha: 0.3, temperature: 2 }).dataSync()[0];
    expect(mixed).toBeCloseTo(0.3 * ce + 0.7 * kl, 4);
    const unlabeled = distillLoss({ student: s, studentKind: "logits", teacher: t, teacherKind: "logits", labels: null, alpha: 0.3, temperature: 2 }).dataSync()[0];
    expect(unlabeled).toBeCloseTo(kl, 5);
    const ps = tf.softmax(s), pt = tf.softmax(t);
    const viaProbs = distillLoss({ student: ps, studentKind: "probabilities", teacher: pt, teacherKind: "probabilities", labels: y, alpha: 0.3, temperature: 2 }).dataSync()[0];
    expect(viaProbs).toBeCloseTo(mixed, 3);
    expect(crossEntropy(y, ps, "probabilities").dataSync()[0]).toBeCloseTo(ce, 4);
    // the CE reference: −mean log softmax(s)[label]
    const refCe = [3, 0, 1].map((k, i) => { const m = Math.max(...S[i]); const z = S[i].reduce((a, v) => a + Math.exp(v - m), 0); return -(S[i][k] - m - Math.log(z)); }).reduce((a, b) => a + b, 0) / 3;
    expect(ce).toBeCloseTo(refCe, 4);
    expect(() => distillLoss({ student: s, studentKind: "logits", teacher: t, teacherKind: "logits", labels: y, alpha: 1.5 })).toThrow(/alpha = 1.5/);
    tf.dispose([s, t, y, ps, pt]);
  });

  it("non-class outputs are matched by MSE; mismatched shapes are named", () => {
    const a = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), b = tf.tensor4d([0, 2, 5, 4], [1, 2, 2, 1]);
    expect(distillLoss({ student: a, studentKind: "other", teacher: b, teacherKind: "other", labels: null }).dataSync()[0]).toBeCloseTo(5 / 4, 6);
    expect(() => distillLoss({ student: a, studentKind: "other", teacher: tf.zeros([1, 3]), teacherKind: "other", labels: null })).toThrow(/\[1,2,2,1\].*\[1,3\]/);
    tf.dispose([a, b]);
  });

  it("outputKind reads the last layer: softmax → probabilities, linear → logits, sigmoid / 4-D → other; nested models unwrapped", () => {
    const soft = smallCnn({ classes: 3 }), logit = smallCnn({ classes: 3, logits: true });
    expect(outputKind(soft)).toBe("probabilities");
    expect(outputKind(logit)).toBe("logits");
    const sig = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: "sigmoid" })] });
    expect(outputKind(sig)).toBe("other");
    const seg = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 1 })] });
    expect(outputKind(seg)).toBe("other");
    const sepAct = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 }), tfl.layers.activation({ activation: "softmax" })] });
    expect(outputKind(sepAct)).toBe("probabilities");
    const inner = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: "softmax" })] });
    const outer = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 4 }), inner] });
    expect(outputKind(outer)).toBe("probabilities");
    const p = tf.tensor2d([[0, 1]]);
    expect(toLogits(p, "probabilities").dataSync()[0]).toBeLessThan(-15); // floored, finite
    for (const m of [soft, logit, sig, seg, sepAct, outer]) m.dispose();
    p.dispose();
  });
});

describe("distillHook in train()", () => {
  it("α = 0 makes the step loss the pure soft term: train() with the hook raises agreement with the teacher; no leak", async () => {
    const { train, baseline, distillHook } = await import("../../src/train/index.ts");
    const { evaluateModel } = await import("../../src/train/evaluate.ts");
    const { stripesSet } = await import("./fixtures.ts");
    const data = { train: stripesSet(64, 4, 61), test: stripesSet(32, 4, 62) };
    const teacher = smallCnn({ classes: 4, seed: 12 });
    await train(teacher, data, baseline({ epochs: 2 }), { batchSize: 16, optimizer: () => tf.train.adam(5e-3) });
    const student = smallCnn({ classes: 4, seed: 13, logits: true });
    const before = (await evaluateModel(student, data.test, { teacher })).agreement!;
    const n0 = tf.memory().numTensors;
    // labels shuffled: with α = 0 they must not matter
    const wrong = { ...data.train, labels: data.train.labels!.map((y) => (y + 1) % 4) };
    await train(student, { train: wrong, test: data.test }, baseline({ epochs: 2 }), { batchSize: 16, optimizer: () => tf.train.adam(5e-3), hooks: [distillHook({ teacher, alpha: 0, temperature: 2 })] });
    expect(tf.memory().numTensors).toBe(n0);
    const after = (await evaluateModel(student, data.test, { teacher })).agreement!;
    expect(after).toBeGreaterThan(before + 0.2);
    teacher.dispose(); student.dispose();
  });
});
