// Quantized (tensorflowjs converter --quantize_uint8|uint16|float16) and raw float16 models in and out:
// the float16 helper, the converter's affine scheme, and round trips through the CLI into stock tfjs.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { affineRange, dequantize, floatToHalf, halfToFloat, quantize } from "../../src/compress/quantize.ts";
import { quantizeArtifacts } from "../../src/compress/artifacts.ts";
import { artifactsFromJSON, artifactsToJSON, compressArtifacts, fileSystem, readModelFolder } from "../../src/models/index.ts";
import { loadStock, run, saved, tinyCnn, tmp } from "../cli/helpers.ts";

describe("float16 helper", () => {
  it("every finite half round-trips exactly; NaN and ±Inf keep their class", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) { expect(Number.isNaN(halfToFloat(floatToHalf(x)))).toBe(true); continue; }
      expect(floatToHalf(x)).toBe(h === 0x8000 ? 0x8000 : h);
    }
  });
  it("rounds to nearest, ties to even, subnormals and overflow", () => {
    expect(halfToFloat(floatToHalf(1 / 3))).toBe(0.333251953125);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // halfway to 65536 rounds to even → Inf
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(2 ** -24)).toBe(1); // smallest subnormal
    expect(floatToHalf(2 ** -25)).toBe(0); // tie → even (0)
    expect(floatToHalf(1.5 * 2 ** -24)).toBe(2); // tie → even (2)
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10 → even (1)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the first normal
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(1e-40)).toBe(0);
    expect(floatToHalf(1e30)).toBe(0x7c00);
  });
});

describe("affine uint8/uint16 as the converter", () => {
  it("scale = (max−min)/(2^bits−1), min nudged so 0 is exact; values within scale/2", () => {
    const r = affineRange(-1, 2, 8);
    expect(r.scale).toBeCloseTo(3 / 255, 15);
    expect(r.min).toBeCloseTo(-85 * 3 / 255, 15);
    expect(affineRange(0.5, 2, 8).min).toBe(0.5); // 0 not covered: no nudge
    const v = new Float32Array(1000).map((_, i) => Math.sin(i * 1.7) * 3 - 0.4);
    v[17] = 0;
    for (const d of ["uint8", "uint16"] as const) {
      const { bytes, quantization } = quantize(v, d, "w");
      const back = dequantize(bytes, v.length, quantization);
      expect(back[17]).toBeCloseTo(0, 6); // zero is representable
      const maxErr = Math.max(...Array.from(v, (x, i) => Math.abs(x - back[i])));
      expect(maxErr).toBeLessThanOrEqual(quantization.scale! * 0.5 + 1e-6);
    }
    expect(() => quantize(new Float32Array([1e6]), "float16", "dense/kernel")).toThrow(/weight 'dense\/kernel' has value 1000000 .* outside the float16 range/);
  });
});

let dir: string;
let ref: tfl.LayersModel;
beforeAll(async () => {
  await tf.setBackend("cpu");
  ref = tinyCnn();
  dir = await saved(ref);
});

/** The float model folder rewritten with every float32 weight in `dtype`, in the converter's format. */
function quantizedFolder(dtype: "uint8" | "uint16" | "float16", raw16 = false): string {
  const j = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const a = artifactsFromJSON(j, readFileSync(join(dir, "weights.bin")));
  const q = quantizeArtifacts(a, dtype).artifacts;
  const out = tmp();
  const { modelJSON, weightData } = artifactsToJSON(q, "group1-shard1of1.bin");
  if (raw16) for (const w of modelJSON.weightsManifest[0].weights) { delete w.quantization; w.dtype = "float16"; }
  writeFileSync(join(out, "model.json"), JSON.stringify(modelJSON));
  writeFileSync(join(out, "group1-shard1of1.bin"), new Uint8Array(weightData));
  return out;
}

function relDiff(a: tfl.LayersModel, b: tfl.LayersModel): number {
  return tf.tidy(() => {
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 7);
    const ya = a.predict(x) as tf.Tensor, yb = b.predict(x) as tf.Tensor;
    expect(Array.from(yb.dataSync()).every(Number.isFinite)).toBe(true);
    return tf.div(tf.norm(tf.sub(ya, yb)), tf.norm(ya)).dataSync()[0];
  });
}

describe("quantized models through the CLI into stock tfjs", () => {
  // Bounds on the output change from weight quantization alone (softmax outputs of the tiny CNN).
  const BOUND = { uint8: 5e-2, uint16: 5e-4, float16: 5e-3 } as const;
  it.each(["uint8", "uint16", "float16"] as const)("%s: loads, compresses, is written back in the same dtype, loads in stock tfjs", async (dtype) => {
    const input = quantizedFolder(dtype);
    const stockIn = await loadStock(input); // the fixture is in the converter's format: stock tfjs reads it
    const inErr = relDiff(ref, stockIn);
    expect(inErr).toBeLessThan(BOUND[dtype]);
    const ins = await run("inspect", input, "--json");
    expect(ins.code, ins.err).toBe(0);
    expect(JSON.parse(ins.out).quantization).toBe(dtype);

    const out = join(tmp(), "c");
    const r = await run("compress", input, "--out", out, "--rank-rule", "full", "--json");
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.quantization).toMatchObject({ dtype });
    expect(report.quantization.relError).toBeGreaterThan(0);
    expect(report.quantization.maxRelError).toBeLessThan({ uint8: 2e-2, uint16: 1e-4, float16: 1e-3 }[dtype]);
    expect(readFileSync(join(out, "plan.txt"), "utf8")).toMatch(new RegExp(`weights stored as ${dtype} .*relative weight error`));
    expect(JSON.parse(readFileSync(join(out, "plan.json"), "utf8")).quantization.dtype).toBe(dtype);
    const j = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    for (const w of j.weightsManifest[0].weights) expect(w.quantization?.dtype).toBe(dtype);
    const stockOut = await loadStock(out);
    // full rank: the factorization is (nearly) exact, so the difference is the two quantizations
    const outErr = relDiff(ref, stockOut);
    expect(outErr).toBeLessThan(2 * BOUND[dtype]);
    console.log(`quantized round trip ${dtype}: input model error ${inErr.toExponential(2)}, compressed+requantized ${outErr.toExponential(2)}, weight rel error ${report.quantization.relError.toExponential(2)}`);

    // reconstruct keeps the quantization too; --quantize none writes float32
    const folded = join(tmp(), "f");
    expect((await run("reconstruct", out, "--out", folded)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(folded, "model.json"), "utf8")).weightsManifest[0].weights[0].quantization.dtype).toBe(dtype);
    const plain = join(tmp(), "p");
    expect((await run("compress", input, "--out", plain, "--rank-rule", "full", "--quantize", "none")).code).toBe(0);
    expect(JSON.parse(readFileSync(join(plain, "model.json"), "utf8")).weightsManifest[0].weights[0].quantization).toBeUndefined();
    for (const m of [stockIn, stockOut]) m.dispose();
  });

  it("raw float16 dtype weights load (readModelFolder, fileSystem, compressArtifacts) and are written back as float16", async () => {
    const input = quantizedFolder("float16", true);
    const f = await readModelFolder(input);
    const model = await tfl.loadLayersModel(fileSystem(input));
    expect(relDiff(ref, model)).toBeLessThan(5e-3);
    const c = await compressArtifacts(f.artifacts, { select: { kind: "full" } });
    expect(c.artifacts.weightSpecs!.every((s) => s.dtype === "float32")).toBe(true);
    const out = join(tmp(), "c");
    const r = await run("compress", input, "--out", out, "--rank-rule", "full");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/weights stored as float16 .* relative weight error/);
    const stockOut = await loadStock(out);
    expect(relDiff(ref, stockOut)).toBeLessThan(1e-2);
    for (const m of [model, stockOut]) m.dispose();
  });

  it("the worker compresses quantized and raw float16 artifacts (dequantized inside the worker)", async () => {
    const { createWorker } = await import("../../src/worker/index.ts");
    const w = await createWorker();
    try {
      for (const input of [quantizedFolder("uint8"), quantizedFolder("float16", true)]) {
        const f = await readModelFolder(input);
        const r = await w.compressArtifacts(f.artifacts, { select: { kind: "full" } });
        const m = await tfl.loadLayersModel(tf.io.fromMemory(r.artifacts as tf.io.ModelArtifacts));
        expect(relDiff(ref, m)).toBeLessThan(5e-2);
        m.dispose();
      }
    } finally {
      await w.terminate();
    }
  });

  it("--quantize asks for a dtype on a float input; a bad value is a usage error", async () => {
    const out = join(tmp(), "q");
    const r = await run("compress", dir, "--out", out, "--budget", "0.5", "--quantize", "uint8");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "model.json"), "utf8")).weightsManifest[0].weights[0].quantization.dtype).toBe("uint8");
    (await loadStock(out)).dispose();
    const bad = await run("compress", dir, "--out", join(tmp(), "b"), "--quantize", "int4");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--quantize is 'int4'; expected uint8, uint16, float16 or none/);
  });

  it("quantization fields that do not fit are errors naming the weight", async () => {
    const input = quantizedFolder("uint8");
    const p = join(input, "model.json");
    const j = JSON.parse(readFileSync(p, "utf8"));
    j.weightsManifest[0].weights[1].quantization.scale = "big";
    writeFileSync(p, JSON.stringify(j));
    const r = await run("compress", input, "--out", join(tmp(), "x"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/weight 'conv1\/bias' has quantization scale "big"; expected a finite number/);
  });
});
