// Loads what odecomp's compress() saved (test/models/fixtures/compressed, made by
// fixtures/make-fixture.ts) with plain TensorFlow.js only — no odecomp import —
// and checks it predicts what the compressed model predicted before saving.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { readFileSync } from "node:fs";

const dir = new URL("./fixtures/compressed/", import.meta.url);

describe("a compressed model in stock tfjs", () => {
  it("loads from model.json + weights.bin (Conv2D + DepthwiseConv2D chains) and gives the same predictions", async () => {
    await tf.setBackend("cpu");
    const modelJSON = JSON.parse(readFileSync(new URL("model.json", dir), "utf8"));
    const bin = readFileSync(new URL(modelJSON.weightsManifest[0].paths[0], dir));
    const weightSpecs = modelJSON.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
    const model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJSON.modelTopology, weightSpecs, weightData }), { strict: true });
    const io = JSON.parse(readFileSync(new URL("io.json", dir), "utf8"));
    expect(model.layers.map((l) => l.getClassName())).toEqual(io.layers);
    expect(model.layers.some((l) => l.name.includes("__odc_"))).toBe(true);
    expect(io.layers).toContain("DepthwiseConv2D");
    const y = model.predict(tf.tensor(io.input, io.inputShape)) as tf.Tensor;
    const got = y.dataSync();
    let num = 0, den = 0;
    io.expected.forEach((v: number, i: number) => { num += (got[i] - v) ** 2; den += v * v; });
    expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
    y.dispose();
    model.dispose();
  });
});
