// Deno smoke check of compress + the node:fs IOHandler (no tfjs-node, no Deno-specific code):
//   npx deno run --allow-read --allow-write --allow-env --allow-sys test/models/deno-io.smoke.ts
// Prints the max prediction difference after save → load (expected 0) and the files written.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { compress, fileSystem } from "../../src/models/index.ts";

// deno-lint-ignore no-explicit-any
const Deno = (globalThis as any).Deno;
await tf.setBackend("cpu");
const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 6 }), tfl.layers.dense({ units: 3 })] });
const { model } = await compress(m, { select: { kind: "full" } });
const dir: string = await Deno.makeTempDir();
await model.save(fileSystem(dir));
const back = await tfl.loadLayersModel(fileSystem(dir));
const x = tf.randomNormal([2, 8]);
const d = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor))).dataSync()[0];
const files = [...Deno.readDirSync(dir)].map((e: { name: string }) => e.name).sort();
console.log(`deno: fileSystem round trip max diff ${d}, files ${files.join(", ")}`);
if (d !== 0 || files.join() !== "model.json,weights.bin") throw new Error("deno smoke failed");
