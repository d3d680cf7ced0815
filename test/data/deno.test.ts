// The folder and .npz loaders under Deno (the npm `deno` package's binary, offline:
// no remote imports, bare specifiers resolved from node_modules), against the same
// loads in Node: same counts, classes and bytes, and a cache hit on the second load.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { loadImageFolder, loadNpz } from "../../src/data/node-folder.ts";
import { npyBytes, npzBytes, tempDir, writeClassFolder, writeFile } from "./fixtures.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const deno = join(root, "node_modules/.bin/deno");
const sum = (a: Uint8Array) => { let h = 2166136261; for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 16777619); return h >>> 0; };

describe("data loaders under Deno", () => {
  it("load a PNG + JPEG folder (cache miss then hit) and an .npz with the same bytes as Node", async () => {
    const dir = tempDir(), cache = tempDir("odecomp-cache-");
    writeClassFolder(dir, 5, 9, 11);
    const npz = writeFile(tempDir(), "a.npz", npzBytes({ x: npyBytes("|u1", [6, 2, 2, 3], Array.from({ length: 72 }, (_, i) => i)), y: npyBytes("<i8", [6], [0, 1, 2, 0, 1, 2]) }));
    const { stdout, stderr, code } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(deno, ["run", "--no-remote", "--no-lock", "--no-prompt", `--allow-read`, `--allow-write=${cache}`, "--allow-env", "--allow-sys", "test/data/deno-folder.ts", dir, cache, npz], {
        cwd: root, timeout: 120_000, maxBuffer: 16 << 20,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(root, "node_modules/.cache/deno"), NO_COLOR: "1" },
      }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    expect(code, `deno exited ${code}\n${stderr}`).toBe(0);
    const line = stdout.split("\n").find((l) => l.startsWith("ODECOMP_FOLDER "));
    expect(line, `no report line:\n${stdout}\n${stderr}`).toBeDefined();
    const r = JSON.parse(line!.slice("ODECOMP_FOLDER ".length));
    const node = await loadImageFolder(dir, { cacheDir: false, seed: 5 });
    expect(r.first).toMatchObject({ cacheHit: false, classNames: ["cat", "dog"], counts: node.report.counts, channels: 3, height: 9, width: 11 });
    expect(r.second.cacheHit).toBe(true);
    expect(r.train).toBe(sum(node.dataset.train.images));
    expect(r.test).toBe(sum(node.dataset.test.images));
    expect(r.again).toBe(r.train);
    expect(r.labels).toEqual(Array.from(node.dataset.train.labels!));
    const z = await loadNpz(npz);
    expect(r.npz).toEqual(z.report.counts);
    expect(r.npzSum).toBe(sum(z.dataset.train.images));
  }, 150_000);
});
