// Runs the shared kernel test vectors in headless Chromium (Debian package
// `chromium`, driven by playwright-core): on the page's main thread and in a
// dedicated Web Worker. The page is bundled with esbuild in memory and served
// from 127.0.0.1 with COOP/COEP, so it is cross-origin isolated (as threaded
// builds will need). Without /usr/bin/chromium only this suite is skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { bundle, page, serve, type Files } from "./harness.ts";
import { chromium, type Browser } from "playwright-core";
import { vectors, type VectorReport } from "../vectors/index.ts";
import type { ThreadsReport } from "./threads-check.ts";

const CHROMIUM = process.env.ODECOMP_CHROMIUM ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present) {
  console.warn(`\n*** Chromium is missing (${CHROMIUM} not found): SKIPPING the Chromium smoke suite. Install it with \`apt-get install -y chromium\` (CI always does). ***\n`);
}

const here = dirname(fileURLToPath(import.meta.url));

async function pages(): Promise<Files> {
  const files = await bundle({ page: join(here, "browser-page.ts"), worker: join(here, "browser-worker.ts"), plain: join(here, "browser-plain.ts") });
  files["/"] = page("odecomp vectors", "page.js");
  files["/plain"] = page("odecomp, not isolated", "plain.js");
  return files;
}

// /plain and its script are served without COOP/COEP: that page is not cross-origin isolated
const plainPaths = (path: string) => /^\/plain/.test(path);

const title = present
  ? "Chromium smoke suite (shared kernel test vectors, page + worker)"
  : `Chromium smoke suite: Chromium is missing (${CHROMIUM})`;

describe.skipIf(!present)(title, () => {
  let server: Server;
  let browser: Browser;
  let reports: { main?: VectorReport & { threads: ThreadsReport }; worker?: VectorReport & { threads: ThreadsReport }; error?: string };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await serve(await pages(), plainPaths);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    const page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as { __odecomp?: { done: boolean } }).__odecomp?.done === true, undefined, { timeout: 90_000 });
    reports = await page.evaluate(() => (globalThis as unknown as { __odecomp: typeof reports }).__odecomp);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server ? server.close(r) : r(undefined));
  });

  it("loads without page errors", () => {
    expect(reports.error, reports.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  for (const context of ["main", "worker"] as const) {
    it(`passes every vector in the ${context === "main" ? "page's main thread" : "dedicated Web Worker"}, cross-origin isolated, relaxed SIMD`, () => {
      const report = reports[context];
      expect(report, `no ${context} report`).toBeDefined();
      expect(report!.context).toBe(context);
      expect(report!.runtime).toMatch(/Chrome\//);
      expect(report!.results.map((r) => r.name)).toEqual(vectors.map((v) => v.name));
      const failed = report!.results.filter((r) => !r.pass);
      expect(failed.map((r) => `${r.name}: ${r.error ?? r.note ?? ""} ${JSON.stringify(r.figures)}`)).toEqual([]);
      expect(report!.crossOriginIsolated).toBe(true);
      expect(report!.info.build).toBe("relaxed");
    });

    it(`runs threaded kernels in the ${context === "main" ? "page's main thread (spinning, as it may not block)" : "dedicated Web Worker"}: 2 threads equal 1 bitwise`, () => {
      const t = reports[context]!.threads;
      expect(reports[context]!.info.sharedMemory).toBe(true);
      expect(t.info).toMatchObject({ threads: 2, reason: null, api: "web-worker", blockingWait: context === "worker" });
      expect(t.cases.filter((c) => c.differing !== 0).map((c) => `${c.name}: ${c.differing} differ`)).toEqual([]);
      expect(t.cases.find((c) => c.name === "tucker-2 hosvd (96,96,3,3) r=24")!.jobs).toBeGreaterThan(0);
    });
  }

  it("a page without COOP/COEP runs one thread, says why, and computes", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/plain`);
    await page.waitForFunction(() => (globalThis as { __odecompPlain?: { done: boolean } }).__odecompPlain?.done === true, undefined, { timeout: 60_000 });
    const plain = await page.evaluate(() => (globalThis as unknown as { __odecompPlain: Record<string, unknown> }).__odecompPlain);
    await page.close();
    expect(plain.error, String(plain.error)).toBeUndefined();
    expect(errors).toEqual([]);
    const why = /SharedArrayBuffer is unavailable because the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/;
    expect(plain.info).toMatchObject({ threads: 1, api: null });
    expect((plain.info as { reason: string }).reason).toMatch(why);
    expect(plain.runtime).toMatchObject({ sharedMemory: false, features: { threads: false } });
    expect(plain.after).toMatchObject({ threads: 1, requested: 2 });
    expect((plain.after as { reason: string }).reason).toMatch(why);
    expect(plain.product).toEqual([1, 2, 3, 4]);
  });
});
