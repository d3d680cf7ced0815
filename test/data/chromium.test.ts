// The browser File/Blob loader in headless Chromium: a fixture folder is picked
// through a real <input webkitdirectory> (playwright's setInputFiles on a
// directory), so class names come from webkitRelativePath as in the demo page.
// Same counts, classes and bytes as the Node folder loader. Skipped without Chromium.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";
import { bundle, page, serve } from "../smoke/harness.ts";
import { loadImageFolder } from "../../src/data/node-folder.ts";
import { tempDir, writeClassFolder } from "./fixtures.ts";

const CHROMIUM = process.env.ODECOMP_CHROMIUM ?? "/usr/bin/chromium";
const here = dirname(fileURLToPath(import.meta.url));
const sum = (a: Uint8Array) => { let h = 2166136261; for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 16777619); return h >>> 0; };

describe.skipIf(!existsSync(CHROMIUM))("image folder picked in Chromium", () => {
  it("loads through loadImageFiles with the Node loader's bytes", async () => {
    const parent = tempDir(), dir = join(parent, "pets");
    writeClassFolder(dir, 4, 9, 11);
    const files = await bundle({ data: join(here, "browser-folder.ts") });
    files["/"] = page("odecomp data", "data.js");
    const server = await serve(files, () => true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
    try {
      const p = await browser.newPage();
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(e.message));
      await p.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await p.waitForFunction(() => (globalThis as Record<string, unknown>).__odecompReady === true, undefined, { timeout: 60_000 });
      await p.setInputFiles("#pick", dir);
      await p.waitForFunction(() => (globalThis as Record<string, unknown>).__odecompData !== undefined, undefined, { timeout: 60_000 });
      const r = await p.evaluate(() => (globalThis as Record<string, unknown>).__odecompData) as Record<string, unknown>;
      expect(r.error, String(r.error)).toBeUndefined();
      expect(errors).toEqual([]);
      const node = await loadImageFolder(dir, { cacheDir: false, seed: 5 });
      expect((r.paths as string[])[0]).toBe("pets/cat/img000.png");
      expect(r.report).toMatchObject({ source: "files", classNames: ["cat", "dog"], counts: node.report.counts, channels: 3, height: 9, width: 11 });
      expect(r.train).toBe(sum(node.dataset.train.images));
      expect(r.test).toBe(sum(node.dataset.test.images));
      expect(r.labels).toEqual(Array.from(node.dataset.train.labels!));
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});
