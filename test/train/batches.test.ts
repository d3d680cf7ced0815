import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { forEachBatch } from "../../src/train/batches.ts";
import type { ImageSet } from "../../src/data/dataset.ts";

const set = (labeled: boolean): ImageSet => ({
  images: Uint8Array.from({ length: 10 * 4 * 4 * 3 }, (_, i) => i % 256), labels: labeled ? Uint8Array.from({ length: 10 }, (_, i) => i % 3) : null,
  count: 10, height: 4, width: 4, channels: 3, classes: labeled ? 3 : 0,
});

describe("forEachBatch over RGB and unlabeled sets", () => {
  it("builds [b, h, w, c] (image) and [b, h·w·c] (flat) batches without leaks", async () => {
    await tf.ready();
    const n0 = tf.memory().numTensors;
    const shapes: number[][] = [];
    await forEachBatch(set(true), { batchSize: 4, layout: "image", preprocess: "mobilenet", augment: { pad: 1 } }, ({ x, y, labels, indices }) => {
      shapes.push(x.shape);
      expect(y!.shape).toEqual([labels!.length, 3]);
      expect(indices.length).toBe(labels!.length);
      expect(Math.min(...x.dataSync())).toBeGreaterThanOrEqual(-1);
    });
    expect(shapes).toEqual([[4, 4, 4, 3], [4, 4, 4, 3], [2, 4, 4, 3]]);
    await forEachBatch(set(false), { batchSize: 8, shuffle: false }, ({ x, y, labels, indices, index }) => {
      expect(x.shape[1]).toBe(48);
      expect(y).toBeNull();
      expect(labels).toBeNull();
      expect(indices[0]).toBe(index * 8);
    });
    expect(tf.memory().numTensors).toBe(n0);
  });
});

describe("forEachBatch ranges", () => {
  it("visits batches [from, to) of the same epoch order with the same pixels and augmentation; a bad range is an error", async () => {
    const o = { batchSize: 3, seed: 7, epoch: 2, layout: "image" as const, augment: { pad: 1, flip: true } };
    const all: { index: number; indices: number[]; x: number[] }[] = [];
    await forEachBatch(set(true), o, ({ x, indices, index }) => { all.push({ index, indices: Array.from(indices), x: Array.from(x.dataSync()) }); });
    expect(all.map((b) => b.index)).toEqual([0, 1, 2, 3]);
    const parts: typeof all = [];
    for (const range of [[0, 1], [1, 3], [3, Infinity]] as [number, number][]) {
      await forEachBatch(set(true), { ...o, range }, ({ x, indices, index }) => { parts.push({ index, indices: Array.from(indices), x: Array.from(x.dataSync()) }); });
    }
    expect(parts).toEqual(all);
    let none = 0;
    await forEachBatch(set(true), { ...o, range: [4, 9] }, () => { none++; });
    expect(none).toBe(0);
    await expect(forEachBatch(set(true), { ...o, range: [2, 1] }, () => {})).rejects.toThrow(/range = \[2, 1\]; expected batch indices 0 ≤ from ≤ to/);
    await expect(forEachBatch(set(true), { ...o, range: [0.5, 2] }, () => {})).rejects.toThrow(/range = \[0.5, 2\]/);
  });
});
