// The own-model flow through the CLI, in-process: evaluate → finetune → compress --finetune on a
// small RGB functional CNN with BatchNorm saved as model.json and a PNG class folder written here.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadStock, run, saved, tmp } from "./helpers.ts";
import { npyBytes, npyStrings, npzBytes, pngBytes, writeFile } from "../data/fixtures.ts";
import { smallCnn, stripesSet } from "../train/fixtures.ts";
import type { ImageSet } from "../../src/data/dataset.ts";
import { schemaProblems } from "../../src/cli/schema.ts";

/** Write `set` as root/<split>/<class>/<i>.png. */
function writeFolder(root: string, split: string, set: ImageSet): void {
  const px = set.height * set.width * set.channels;
  for (let i = 0; i < set.count; i++) {
    const k = set.labels![i];
    writeFile(root, `${split}/c${k}/${i}.png`, pngBytes(set.images.subarray(i * px, (i + 1) * px), set.height, set.width, set.channels));
  }
}

let data = "", model = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  data = tmp("odecomp-ft-data-");
  writeFolder(data, "train", stripesSet(96, 4, 31));
  writeFolder(data, "test", stripesSet(48, 4, 32));
  model = await saved(smallCnn({ classes: 4, seed: 9 }));
});

const common = ["--backend", "cpu", "--quiet"];

describe("odecomp evaluate / finetune / compress --finetune on a user model and folder", () => {
  let tuned = "";
  it("evaluate → finetune raises accuracy; the model is written with finetune.json recording the preprocessing", async () => {
    const ev = await run("evaluate", model, "--data", data, "--json", ...common);
    expect(ev.code, ev.err).toBe(0);
    const e0 = JSON.parse(ev.out);
    expect(e0.count).toBe(48);
    expect(e0.perClass).toHaveLength(4);
    expect(e0.top5).toBeNull(); // 4 classes
    expect(e0.preprocess).toEqual({ kind: "unit" });
    tuned = join(tmp(), "tuned");
    const ft = await run("finetune", model, "--data", data, "--out", tuned, "--epochs", "2", "--lr", "0.005", "--batch-size", "16", "--json", ...common);
    expect(ft.code, ft.err).toBe(0);
    const r = JSON.parse(ft.out);
    expect(r.before.top1).toBeCloseTo(e0.top1, 10);
    expect(r.final.top1).toBeGreaterThan(e0.top1 + 0.2);
    expect(JSON.parse(readFileSync(join(tuned, "finetune.json"), "utf8")).preprocess).toEqual({ kind: "unit" });
    const ev2 = await run("evaluate", tuned, "--data", data, "--json", ...common);
    expect(JSON.parse(ev2.out).top1).toBeCloseTo(r.final.top1, 10);
    const text = await run("evaluate", tuned, "--data", data, "--teacher", model, ...common);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/top-1 \d+\.\d\d%.*agreement \d+\.\d\d%/);
    expect(text.out).toMatch(/\| c3 +\| +12 \|/);
  });

  it("compress --finetune ends above its right-after accuracy; plan.txt, plan.json, report.html carry the curve", async () => {
    const out = join(tmp(), "small");
    const r = await run("compress", tuned, "--out", out, "--budget", "0.3", "--finetune", data, "--epochs", "2", "--lr", "0.003", "--batch-size", "16", "--json", ...common);
    expect(r.code, r.err).toBe(0);
    const rec = JSON.parse(r.out).plan.recovery;
    expect(rec.metric).toBe("top-1 accuracy");
    expect(rec.recalibratedBatchNorm).toBe(2);
    expect(rec.curve.map((c: { step: string }) => c.step)).toEqual(["original", "compressed", "epoch 1", "epoch 2"]);
    expect(rec.final.top1).toBeGreaterThan(rec.afterCompression.top1);
    expect(JSON.parse(readFileSync(join(out, "plan.json"), "utf8")).recovery.final.top1).toBe(rec.final.top1);
    expect(readFileSync(join(out, "plan.txt"), "utf8")).toMatch(/recovery on .*\n[\s\S]*\| epoch 2 /);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).toContain('{"kind":"unit"}');
    // BatchNorm: kept while recovering, folded into the chains' last layers when writing (as plain compress folds it)
    const plan = JSON.parse(readFileSync(join(out, "plan.json"), "utf8"));
    expect(plan.foldedBatchNorm.map((b: { batchNorm: string }) => b.batchNorm)).toEqual(["bn1", "bn2"]);
    const layers = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).modelTopology.config.layers as { class_name: string; config: { name: string } }[];
    expect(layers.some((l) => l.class_name === "BatchNormalization")).toBe(false);
    for (const b of plan.foldedBatchNorm) expect(layers.find((l) => l.config.name === b.into)?.class_name).toBe("Conv2D");
    // reported as plain compress reports a folded model: no BN rows, the folded models' parameter counts
    expect(plan.entries.map((e: { kind: string }) => e.kind)).not.toContain("BatchNormalization");
    const manifest = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).weightsManifest[0].weights as { shape: number[] }[];
    expect(plan.totals.paramsAfter).toBe(manifest.reduce((n, w) => n + w.shape.reduce((x, y) => x * y, 1), 0));
    const plain = await run("compress", tuned, "--out", join(tmp(), "plain"), "--budget", "0.3", "--json", ...common);
    expect(plan.totals.paramsBefore).toBe(JSON.parse(plain.out).plan.totals.paramsBefore);
    // the written (folded) model is evaluated as written, and folding is exact: it scores what the last epoch did
    const ev = JSON.parse((await run("evaluate", out, "--data", data, "--json", ...common)).out);
    expect(ev.top1).toBeCloseTo(rec.written.top1, 10);
    expect(rec.written.top1).toBeCloseTo(rec.final.top1, 10);
    expect(readFileSync(join(out, "plan.txt"), "utf8")).toMatch(/BatchNormalization folded: bn1 → \S+, bn2 → \S+[\s\S]*\| written \(BN folded\) +\|/);
    // --no-fold-bn keeps them
    const kept = join(tmp(), "kept");
    const k = await run("compress", tuned, "--out", kept, "--budget", "0.3", "--finetune", data, "--epochs", "1", "--lr", "0.003", "--batch-size", "16", "--no-fold-bn", "--json", ...common);
    expect(k.code, k.err).toBe(0);
    expect(JSON.parse(k.out).plan.foldedBatchNorm).toBeUndefined();
    expect(readFileSync(join(kept, "model.json"), "utf8").match(/"BatchNormalization"/g)).toHaveLength(2);
  });

  it("compress --finetune --quantize uint8 stores the recovered weights as uint8; the written model loads and scores close to the float one", async () => {
    const out = join(tmp(), "q8");
    const r = await run("compress", tuned, "--out", out, "--budget", "0.3", "--finetune", data, "--epochs", "2", "--lr", "0.003", "--batch-size", "16", "--quantize", "uint8", "--json", ...common);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(schemaProblems(j)).toEqual([]); // plain compress's --json schema, plus plan.recovery
    expect(j.quantization.dtype).toBe("uint8");
    expect(j.quantization.relError).toBeGreaterThan(0);
    expect(j.quantization.relError).toBeLessThan(0.02);
    const manifest = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).weightsManifest[0].weights as { quantization?: { dtype: string } }[];
    expect(manifest.every((w) => w.quantization?.dtype === "uint8")).toBe(true);
    const rec = j.plan.recovery;
    expect(rec.final.top1).toBeGreaterThan(rec.afterCompression.top1);
    // close to the float model of the last epoch: at most 2 of 48 predictions change, and it mostly agrees with the original as much
    expect(Math.abs(rec.written.top1 - rec.final.top1)).toBeLessThanOrEqual(2 / 48 + 1e-9);
    expect(Math.abs(rec.written.agreement - rec.final.agreement)).toBeLessThanOrEqual(2 / 48 + 1e-9);
    // stock tfjs loads it, and odecomp evaluate reads back the accuracy the run reported for it
    await tf.setBackend("cpu");
    const m = await loadStock(out);
    expect(m.layers.some((l) => l.getClassName() === "BatchNormalization")).toBe(false);
    m.dispose();
    const ev = JSON.parse((await run("evaluate", out, "--data", data, "--json", ...common)).out);
    expect(ev.top1).toBeCloseTo(rec.written.top1, 10);
    expect(readFileSync(join(out, "plan.txt"), "utf8")).toMatch(/weights stored as uint8 [\s\S]*\| written \(BN folded, uint8\) +\|/);
  });

  it("--out is claimed as plain compress claims it: the same refusals, an existing folder kept empty and a new one removed on failure, --force and stale markers", async () => {
    const three = tmp("odecomp-ft-3c-");
    { const t = stripesSet(9, 3, 6); for (let i = 0; i < 9; i++) writeFile(three, `c${t.labels![i]}/${i}.png`, pngBytes(t.images.subarray(i * 432, (i + 1) * 432), 12, 12, 3)); }
    const plain = (out: string, ...more: string[]) => run("compress", tuned, "--out", out, "--budget", "0.3", ...more, ...common);
    const tune = (out: string, d = data, ...more: string[]) => run("compress", tuned, "--out", out, "--budget", "0.3", "--finetune", d, "--epochs", "1", "--batch-size", "16", ...more, ...common);
    const same = (a: { code: number; err: string }, b: { code: number; err: string }, code: number, msg: RegExp) => {
      expect([a.code, b.code]).toEqual([code, code]);
      expect(a.err).toMatch(msg);
      expect(b.err.replace(/^.*progress.*\n/gm, "")).toBe(a.err.replace(/^.*progress.*\n/gm, ""));
    };
    // a non-empty folder without --force, the input's own folder, a folder another live run holds
    const full = tmp("odecomp-ft-full-");
    writeFile(full, "keep.txt", new TextEncoder().encode("mine"));
    same(await plain(full), await tune(full), 2, /--out .* exists and is not empty; choose a new folder or pass --force/);
    expect(readFileSync(join(full, "keep.txt"), "utf8")).toBe("mine");
    same(await plain(tuned), await tune(tuned), 2, /is the input's folder/);
    // a --ranks naming no layer is the same usage error (the planner's, found after the claim, which is given up)
    const ranks = join(tmp(), "ranks");
    same(await plain(ranks, "--ranks", "nosuch=2"), await tune(ranks, data, "--ranks", "nosuch=2"), 2, /--ranks: .*ranks names layer 'nosuch'/);
    expect(existsSync(ranks)).toBe(false);
    const timed = await tune(join(tmp(), "timed"), data, "--timing");
    expect(timed.code).toBe(2);
    expect(timed.err).toMatch(/--backend cpu with --timing: timing measures on the wasm backend; expected --backend wasm/);
    const busy = tmp("odecomp-ft-busy-");
    writeFile(busy, ".odecomp-writing", new TextEncoder().encode(`${process.pid} other`));
    same(await plain(busy), await tune(busy), 1, /is being written by another odecomp run \(pid \d+\)/);
    expect(readFileSync(join(busy, ".odecomp-writing"), "utf8")).toBe(`${process.pid} other`);
    // a failing run (3 classes for a 4-class model): a new --out is removed again, an existing empty one stays empty
    const fresh = join(tmp(), "fresh");
    expect((await tune(fresh, three)).code).toBe(1);
    expect(existsSync(fresh)).toBe(false);
    const empty = tmp("odecomp-ft-empty-");
    expect((await tune(empty, three)).code).toBe(1);
    expect(readdirSync(empty)).toEqual([]);
    // --force replaces a non-empty folder; a marker left by a dead run is removed and said so
    for (const go of [(o: string) => plain(o, "--force"), (o: string) => tune(o, data, "--force")]) {
      const old = tmp("odecomp-ft-old-");
      writeFile(old, "stale.txt", new TextEncoder().encode("x"));
      writeFile(old, ".odecomp-writing", new TextEncoder().encode("999999999 x"));
      const r = await go(old);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/removed a stale marker .*\.odecomp-writing left by an interrupted run \(pid 999999999\)/);
      expect(readdirSync(old).sort()).toEqual(expect.arrayContaining(["model.json", "plan.json", "plan.txt", "weights.bin"]));
      expect(readdirSync(old)).not.toContain("stale.txt");
      expect(readdirSync(old)).not.toContain(".odecomp-writing");
    }
  });

  it("label-free: compress --finetune on an unlabeled folder raises agreement with the original", async () => {
    const unl = tmp("odecomp-ft-unl-");
    const s = stripesSet(96, 4, 41);
    const px = s.height * s.width * 3;
    for (let i = 0; i < s.count; i++) writeFile(unl, `${i}.png`, pngBytes(s.images.subarray(i * px, (i + 1) * px), s.height, s.width, 3));
    const out = join(tmp(), "unl");
    const r = await run("compress", tuned, "--out", out, "--budget", "0.3", "--finetune", unl, "--epochs", "2", "--lr", "0.003", "--batch-size", "16", "--val-split", "0.25", "--json", ...common);
    expect(r.code, r.err).toBe(0);
    const rec = JSON.parse(r.out).plan.recovery;
    expect(rec.metric).toMatch(/agreement/);
    expect(rec.mode).toBe("distill");
    expect(rec.final.agreement).toBeGreaterThan(rec.afterCompression.agreement);
  });

  it("bad inputs: a clear error naming both values, exit code, nothing written", async () => {
    const out = join(tmp(), "never");
    const gray = tmp("odecomp-ft-gray-");
    const g = stripesSet(8, 4, 5);
    for (let i = 0; i < 8; i++) {
      const px = new Uint8Array(144);
      for (let p = 0; p < 144; p++) px[p] = g.images[(i * 144 + p) * 3];
      writeFile(gray, `c${i % 4}/${i}.png`, pngBytes(px, 12, 12, 1));
    }
    let r = await run("finetune", model, "--data", gray, "--out", out, ...common);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`model ${model}.* takes 3-channel input but data ${gray} has 1-channel images`));
    expect(existsSync(out)).toBe(false);
    const three = tmp("odecomp-ft-3-");
    { const t = stripesSet(9, 3, 6); for (let i = 0; i < 9; i++) writeFile(three, `c${t.labels![i]}/${i}.png`, pngBytes(t.images.subarray(i * 432, (i + 1) * 432), 12, 12, 3)); }
    r = await run("compress", model, "--out", out, "--budget", "0.5", "--finetune", three, ...common);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/outputs 4 classes but data .* has 3 classes \(c0, c1, c2\)/);
    expect(existsSync(out)).toBe(false);
    await tf.setBackend("cpu");
    const seg = await saved(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 2, kernelSize: 1, name: "seg" })] }));
    r = await run("evaluate", seg, "--data", data, ...common);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/output \[null,12,12,2\] is not a class distribution.*teacher/);
    r = await run("evaluate", model, "--data", data, "--preprocess", "bogus", ...common);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--preprocess is 'bogus'; expected one of unit, mobilenet, imagenet/);
    r = await run("finetune", model, "--data", data, "--out", out, "--distill-alpha", "2", ...common);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe("class names from an .npz", () => {
  it("evaluate's per-class table and the class-count error name the classes 'class_names' holds", async () => {
    const dir = tmp("odecomp-ft-npz-");
    const arrays = (set: ImageSet) => [npyBytes("|u1", [set.count, 12, 12, 3], set.images), npyBytes("|u1", [set.count], set.labels!)] as const;
    const [xt, yt] = arrays(stripesSet(32, 4, 61)), [xs, ys] = arrays(stripesSet(16, 4, 62));
    const file = writeFile(dir, "named.npz", npzBytes({ x_train: xt, y_train: yt, x_test: xs, y_test: ys, class_names: npyStrings("<U", ["red", "green", "blue", "red vertical"]) }));
    const ev = await run("evaluate", model, "--data", file, ...common);
    expect(ev.code, ev.err).toBe(0);
    expect(ev.out).toMatch(/\| blue +\| +4 \|/);
    expect(ev.out).toMatch(/\| red vertical +\| +4 \|/);
    const three = writeFile(dir, "three.npz", npzBytes({ x_train: xt, y_train: npyBytes("|u1", [32], Array.from({ length: 32 }, (_, i) => i % 3)), x_test: xs, y_test: npyBytes("|u1", [16], Array.from({ length: 16 }, (_, i) => i % 3)), class_names: npyStrings("<U", ["cat", "dog", "bird"]) }));
    const bad = await run("evaluate", model, "--data", three, ...common);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/outputs 4 classes but data .*three\.npz has 3 classes \(cat, dog, bird\)/);
  });
});

describe("odecomp train on a user model and folder", () => {
  it("train --model <model.json> --data <folder> --schedule decompose-at writes the trained compressed model; --dataset stays an alias", async () => {
    const out = join(tmp(), "trained");
    const r = await run("train", "--model", model, "--data", data, "--schedule", "decompose-at", "--epochs", "2", "--at", "1", "--budget", "0.5", "--batch-size", "16", "--out", out, "--json", "--backend", "cpu", "--quiet");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.dataset).toBe(data);
    expect(j.phases.map((p: { kind: string }) => p.kind)).toEqual(["train", "decompose", "train"]);
    expect(existsSync(join(out, "model.json"))).toBe(true);
    const bad = await run("train", "--model", model, "--data", join(data, "test"), "--schedule", "baseline", "--epochs", "1", "--backend", "cpu", "--quiet");
    expect(bad.code).toBe(0); // the test/ folder alone is a class folder of 4 classes: still fits
    const usage = await run("train", "--dataset", "cifar", "--model", "vgg", "--quiet");
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--dataset is 'cifar'/);
  }, 180_000);

  it("train --preprocess trains and evaluates with that mapping, prints the load report and records both in --json and train.json", async () => {
    const out = join(tmp(), "sym");
    const r = await run("train", "--model", model, "--data", data, "--schedule", "baseline", "--epochs", "1", "--batch-size", "16", "--preprocess", "mobilenet", "--out", out, "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`data ${data}: 96 images 12×12×3, 4 classes (train) / 48 (test); preprocess symmetric`);
    expect(r.out).toMatch(/wrote .*model\.json, weights\.bin, train\.json/);
    const j = JSON.parse(readFileSync(join(out, "train.json"), "utf8"));
    expect(j.preprocess).toEqual({ kind: "symmetric" });
    expect(j.data).toMatchObject({ spec: data, source: "folder", split: "folders", labeled: true, counts: { train: 96, test: 48 }, classNames: ["c0", "c1", "c2", "c3"], channels: 3 });
    // the accuracy train reports is the model's under the same mapping: evaluate --preprocess mobilenet reads it back
    const ev = JSON.parse((await run("evaluate", out, "--data", data, "--preprocess", "mobilenet", "--json", ...common)).out);
    expect(ev.top1).toBeCloseTo(j.final.accuracy, 10);
    const unit = JSON.parse((await run("evaluate", out, "--data", data, "--json", ...common)).out);
    expect(Math.abs(unit.loss - ev.loss)).toBeGreaterThan(1e-3);
    // the bundled sets with a reference model report their load too; a bad preset is a usage error before any work
    const ref = await run("train", "--model", "mlp", "--dataset", "mnist", "--train-per-class", "3", "--test-per-class", "2", "--epochs", "1", "--json", "--backend", "cpu", "--quiet");
    expect(ref.code, ref.err).toBe(0);
    expect(JSON.parse(ref.out)).toMatchObject({ preprocess: { kind: "unit" }, data: { source: "mnist", split: "fixed", counts: { train: 30, test: 20 }, classes: 10 } });
    const bad = await run("train", "--model", model, "--data", data, "--preprocess", "bogus", "--quiet");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--preprocess is 'bogus'; expected one of unit, mobilenet, imagenet/);
    // --out is claimed like compress's: never the input model's folder (even with --force); a failed run leaves no folder
    const before = readFileSync(join(model, "model.json"), "utf8");
    const own = await run("train", "--model", model, "--data", data, "--epochs", "1", "--out", model, "--force", "--quiet");
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/--out .* is the input's folder/);
    expect(readFileSync(join(model, "model.json"), "utf8")).toBe(before);
    const never = join(tmp(), "never");
    const failed = await run("train", "--model", model, "--data", data, "--schedule", "decompose-at", "--epochs", "2", "--at", "1", "--ranks", "nosuch=2", "--out", never, "--backend", "cpu", "--quiet");
    expect(failed.code).toBe(1); // after the first epoch, at the decomposition: the claimed folder is given up
    expect(failed.err).toMatch(/ranks names layer 'nosuch'/);
    expect(existsSync(never)).toBe(false);
  }, 120_000);
});

describe("the same CLI flow under Deno", () => {
  it("evaluate gives Node's figures; finetune writes a model whose accuracy Node reads back as Deno reported", async () => {
    const { execFile } = await import("node:child_process");
    const { fileURLToPath } = await import("node:url");
    const { dirname } = await import("node:path");
    const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
    const deno = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(join(root, "node_modules/.bin/deno"), ["run", "--no-remote", "--no-lock", "--no-prompt", "-A", "src/cli/main.ts", ...args], {
        cwd: root, timeout: 240_000, maxBuffer: 16 << 20,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" },
      }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    const ev = await deno(["evaluate", model, "--data", data, "--json", ...common]);
    expect(ev.code, ev.stderr).toBe(0);
    const node = JSON.parse((await run("evaluate", model, "--data", data, "--json", ...common)).out);
    const d = JSON.parse(ev.stdout);
    expect(d.top1).toBe(node.top1);
    expect(d.loss).toBeCloseTo(node.loss, 5);
    const out = join(tmp(), "deno-tuned");
    const ft = await deno(["finetune", model, "--data", data, "--out", out, "--epochs", "1", "--lr", "0.005", "--batch-size", "16", "--json", ...common]);
    expect(ft.code, ft.stderr).toBe(0);
    const r = JSON.parse(ft.stdout);
    expect(r.final.top1).toBeGreaterThan(r.before.top1);
    const back = JSON.parse((await run("evaluate", out, "--data", data, "--json", ...common)).out);
    expect(back.top1).toBeCloseTo(r.final.top1, 10);
    const bad = await deno(["evaluate", model, "--data", data, "--split", "nope", ...common]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--split is 'nope'/);
  }, 300_000);
});
