import { beforeAll, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { ACTIVATION_BYTES, largestActivation, predict, predictBatchSize, TFJS_PREDICT_BATCH } from "../../src/models/predict.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function cnn(input: (number | null)[], filters = 8): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: input, filters, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: 5, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

describe("predict batch", () => {
  it("measures the largest layer output per sample", () => {
    const m = cnn([12, 10, 3], 8);
    expect(largestActivation(m)).toBe(12 * 10 * 8);
    m.dispose();
  });

  it("takes the whole batch when the largest activation fits, tfjs's 32 when it does not or is unknown", () => {
    const small = cnn([12, 10, 3]);
    expect(predictBatchSize(small, 1000)).toBe(1000);
    expect(predictBatchSize(small, 7)).toBe(7);
    // 256·256·64 floats = 16 MiB per sample: 8 fit in ACTIVATION_BYTES, floored at 32
    const big = cnn([256, 256, 3], 64);
    expect(Math.floor(ACTIVATION_BYTES / (4 * 256 * 256 * 64))).toBeLessThan(TFJS_PREDICT_BATCH);
    expect(predictBatchSize(big, 1000)).toBe(TFJS_PREDICT_BATCH);
    expect(predictBatchSize(big, 5)).toBe(5);
    // in between: 64·64·32 floats = 512 KiB per sample → 256 per call
    const mid = cnn([64, 64, 3], 32);
    expect(predictBatchSize(mid, 1000)).toBe(ACTIVATION_BYTES / (4 * 64 * 64 * 32));
    const open = cnn([null, null, 3]);
    expect(largestActivation(open)).toBeNull();
    expect(predictBatchSize(open, 1000)).toBe(TFJS_PREDICT_BATCH);
    for (const m of [small, big, mid, open]) m.dispose();
  });

  it("gives model.predict's outputs in one call, without leaking", () => {
    const m = cnn([9, 7, 2]);
    for (const n of [1, 3, 33, 129]) {
      const x = tf.randomNormal([n, 9, 7, 2], 0, 1, "float32", n);
      const spy = vi.spyOn(m, "predict");
      const before = tf.memory().numTensors;
      const y = predict(m, x);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0][1]).toEqual({ batchSize: n });
      spy.mockRestore();
      expect(tf.memory().numTensors).toBe(before + 1);
      const ref = m.predict(x) as tf.Tensor; // tfjs's own slices of 32
      expect(y.shape).toEqual([n, 5]);
      const a = y.dataSync(), b = ref.dataSync();
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(b[i])));
      tf.dispose([x, y, ref]);
    }
    m.dispose();
  });
});
