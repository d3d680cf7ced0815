// The own-model flow through the CLI, in-process: evaluate → finetune → compress --finetune on a
// small RGB functional CNN with BatchNorm saved as model.json and a PNG class folder written here.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run, saved, tmp } from "./helpers.ts";
import { pngBytes, writeFile } from "../data/fixtures.ts";
import { smallCnn, stripesSet } from "../train/fixtures.ts";
import type { ImageSet } from "../../src/data/dataset.ts";

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
    expect(rec.curve.map((c: { step: string }) => c.step)).toEqual(["original", "compressed", "epoch 1", "epoch 2"]);
    expect(rec.final.top1).toBeGreaterThan(rec.afterCompression.top1);
    expect(JSON.parse(readFileSync(join(out, "plan.json"), "utf8")).recovery.final.top1).toBe(rec.final.top1);
    expect(readFileSync(join(out, "plan.txt"), "utf8")).toMatch(/recovery on .*\n[\s\S]*\| epoch 2 /);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).toContain('{"kind":"unit"}');
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
