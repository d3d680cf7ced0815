// Saving and loading without tfjs-node: the node:fs IOHandler (atomic, never
// overwrites), and the file-system-free artifacts path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactsFromJSON, artifactsToJSON, compress, compressArtifacts, fileSystem, modelToArtifacts, reconstruct } from "../../src/models/index.ts";
import { convModel, predictionError, randomInput, setup, tf, tfl } from "./helpers.ts";

let dir = "";
beforeAll(async () => {
  await setup();
  dir = await mkdtemp(join(tmpdir(), "odecomp-io-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("fileSystem handler", () => {
  it("saves model.json + weights.bin atomically and loads them back with tfjs", async () => {
    const m = convModel({ h: 6, w: 6, s: 4, t: 6, k: [3, 3], padding: "same" });
    const { model } = await compress(m, { ranks: { conv: [2, 3] }, methods: { conv: "tucker2" } });
    const path = join(dir, "a");
    await model.save(fileSystem(path));
    expect((await readdir(path)).sort()).toEqual(["model.json", "weights.bin"]); // no temp files left
    const loaded = await tfl.loadLayersModel(fileSystem(path));
    const x = randomInput([2, 6, 6, 4], 1);
    expect(predictionError(model, loaded, x)).toBe(0);
    // reconstruct works on the reloaded model (the chain is recognised by its saved names)
    const back = await reconstruct(loaded);
    expect(back.folded.map((f) => f.layer)).toEqual(["conv"]);
    expect(predictionError(model, back.model, x)).toBeLessThan(1e-5);
    x.dispose();
  });

  it("never overwrites an existing model unless asked, and accepts a .json path", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    const path = join(dir, "b");
    await m.save(fileSystem(path));
    const before = await readFile(join(path, "model.json"), "utf8");
    await expect(m.save(fileSystem(path))).rejects.toThrow(/model.json already exists; refusing to overwrite/);
    expect(await readFile(join(path, "model.json"), "utf8")).toBe(before);
    await m.save(fileSystem(path, { overwrite: true }));
    await m.save(fileSystem(join(dir, "c", "net.json")));
    expect((await readdir(join(dir, "c"))).sort()).toEqual(["net.json", "net.weights.bin"]);
    const again = await tfl.loadLayersModel(fileSystem(`file://${join(dir, "c", "net.json")}`));
    expect(again.countParams()).toBe(m.countParams());
    await expect(tfl.loadLayersModel(fileSystem(join(dir, "missing")))).rejects.toThrow(/missing\/model\.json does not exist/);
  });
});

describe("artifacts path (no file system)", () => {
  it("model.json object + bytes in, compressed artifacts out, loadable with tf.io.fromMemory", async () => {
    const m = convModel({ h: 6, w: 6, s: 4, t: 6, k: [3, 3], padding: "same" });
    const { modelJSON, weightData } = artifactsToJSON(await modelToArtifacts(m));
    const json = JSON.stringify(modelJSON);
    const input = artifactsFromJSON(json, new Uint8Array(weightData));
    const r = await compressArtifacts(input, { select: { kind: "full" }, methods: { conv: "spatial-svd" } });
    expect(r.plan.entries[0].method).toBe("spatial-svd");
    const out = artifactsToJSON(r.artifacts);
    expect(JSON.stringify(out.modelJSON)).toContain("conv__odc_spatial_1");
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(r.artifacts as tf.io.ModelArtifacts));
    const x = randomInput([2, 6, 6, 4], 2);
    expect(predictionError(m, loaded, x)).toBeLessThan(1e-4);
    // input artifacts untouched
    expect(JSON.stringify(input.modelTopology)).toBe(JSON.stringify(modelJSON.modelTopology));
    x.dispose();
  });

  it("rejects weight bytes that do not match the manifest", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    const { modelJSON } = artifactsToJSON(await modelToArtifacts(m));
    expect(() => artifactsFromJSON(modelJSON, new ArrayBuffer(4))).toThrow("weightData has 4 bytes but the manifest's weights need 32");
    expect(() => artifactsFromJSON({} as never, new ArrayBuffer(0))).toThrow("modelJSON has no modelTopology");
  });
});
