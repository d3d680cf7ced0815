import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { finetune } from "../../src/train/finetune.ts";
import { evaluateModel, checkModelData } from "../../src/train/evaluate.ts";
import { smallCnn, stripesSet } from "./fixtures.ts";

beforeAll(async () => { await tf.setBackend("cpu"); });

describe("evaluateModel", () => {
  it("top-1 / top-5 / per-class / loss against a direct computation; Dropout off, deterministic", async () => {
    const set = stripesSet(40, 6, 3);
    const m = smallCnn({ classes: 6, seed: 2 });
    const r = await evaluateModel(m, set, { batchSize: 7 });
    const again = await evaluateModel(m, set, { batchSize: 40 });
    expect(again.top1).toBe(r.top1);
    expect(again.loss!).toBeCloseTo(r.loss!, 5);
    const x = tf.tensor(Float32Array.from(set.images, (v) => v / 255), [40, 12, 12, 3]);
    const p = m.predict(x) as tf.Tensor;
    const pv = p.arraySync() as number[][];
    let right = 0, loss = 0, top5 = 0;
    pv.forEach((row, i) => {
      const y = set.labels![i];
      if (row.indexOf(Math.max(...row)) === y) right++;
      loss -= Math.log(Math.max(row[y], 1e-7));
      if ([...row].sort((a, b) => b - a).slice(0, 5).includes(row[y])) top5++;
    });
    expect(r.top1).toBeCloseTo(right / 40, 10);
    expect(r.top5).toBeCloseTo(top5 / 40, 10);
    expect(r.loss!).toBeCloseTo(loss / 40, 3);
    expect(r.perClass!.map((c) => c.count)).toEqual([7, 7, 7, 7, 6, 6]);
    expect(r.perClass![0].name).toBe("c0");
    const self = await evaluateModel(m, { ...set, labels: null, classes: 0 }, { teacher: m });
    expect(self.agreement).toBe(1);
    expect(self.top1).toBeNull();
    tf.dispose([x, p]); m.dispose();
  });

  it("a model/data mismatch names both sides", async () => {
    const m = smallCnn({ classes: 4 });
    expect(() => checkModelData(m, stripesSet(8, 4, 1, 16, 16), "t")).toThrow(/takes 12×12 input but the data has 16×16 images/);
    const gray = { ...stripesSet(8, 4, 1), channels: 1, images: new Uint8Array(8 * 144) };
    expect(() => checkModelData(m, gray, "t")).toThrow(/takes 3-channel input but the data has 1-channel images/);
    expect(() => checkModelData(m, stripesSet(8, 5, 1), "t")).toThrow(/outputs 4 classes but the data has 5 classes \(c0, c1, c2, c3, c4\)/);
    m.dispose();
  });
});

describe("finetune", () => {
  it("with labels raises test accuracy; BatchNorm moving statistics move; no tensors leak", async () => {
    const train = stripesSet(96, 4, 11), test = stripesSet(48, 4, 12);
    const m = smallCnn({ classes: 4, seed: 5 });
    const mm0 = m.getLayer("bn1").getWeights()[2].dataSync().slice();
    const n0 = tf.memory().numTensors;
    const steps: number[] = [];
    const r = await finetune(m, train, { epochs: 2, batchSize: 16, learningRate: 5e-3, test, onStep: (p) => steps.push(p.step) });
    expect(tf.memory().numTensors).toBe(n0);
    expect(r.mode).toBe("labels");
    expect(r.epochs).toHaveLength(2);
    expect(steps.filter((s) => s === 6)).toHaveLength(2); // 96/16 = 6 steps per epoch
    expect(r.final!.top1!).toBeGreaterThan(r.before!.top1! + 0.2);
    const mm1 = m.getLayer("bn1").getWeights()[2].dataSync();
    expect(Math.max(...mm1.map((v, i) => Math.abs(v - mm0[i])))).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it("label-free distillation (logits student, softmax teacher) raises agreement with the teacher; cached and evicted teacher", async () => {
    const train = stripesSet(96, 4, 21), test = stripesSet(48, 4, 22);
    const teacher = smallCnn({ classes: 4, seed: 7 });
    await finetune(teacher, train, { epochs: 2, batchSize: 16, learningRate: 5e-3 });
    const unlabeled = { ...train, labels: null, classes: 0, classNames: undefined };
    for (const cache of [false, true]) {
      const student = smallCnn({ classes: 4, seed: 8, logits: true });
      const t = cache ? smallCnn({ classes: 4, seed: 7 }) : teacher;
      if (cache) t.setWeights(teacher.getWeights());
      const before = (await evaluateModel(student, test, { teacher })).agreement!;
      const n0 = tf.memory().numTensors;
      const r = await finetune(student, unlabeled, { epochs: 2, batchSize: 16, learningRate: 5e-3, teacher: t, temperature: 2, cacheTeacher: cache, evictTeacher: cache });
      if (!cache) expect(tf.memory().numTensors).toBe(n0);
      expect(r.mode).toBe("distill");
      const after = (await evaluateModel(student, test, { teacher })).agreement!;
      expect(after).toBeGreaterThan(before + 0.2);
      student.dispose();
    }
    teacher.dispose();
  });

  it("bad inputs: unlabeled without a teacher, cache with augment", async () => {
    const m = smallCnn({ classes: 4 });
    const unl = { ...stripesSet(8, 4, 1), labels: null, classes: 0 };
    await expect(finetune(m, unl)).rejects.toThrow(/no labels and no teacher/);
    await expect(finetune(m, stripesSet(8, 4, 1), { teacher: m, cacheTeacher: true, augment: true })).rejects.toThrow(/cacheTeacher with augment/);
    m.dispose();
  });
});
