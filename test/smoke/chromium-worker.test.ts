// odecomp/worker in headless Chromium (playwright-core, /usr/bin/chromium), next to the kernel-vector
// smoke suite (chromium.test.ts) and built the same way: esbuild bundles the page and, as its own file,
// the worker script (src/worker/entry.ts → odecomp-worker.js) that the page passes to createWorker by
// URL, as a bundled app would; served from 127.0.0.1 with COOP/COEP. Skipped without Chromium.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { bundle, page, serve, type Files } from "./harness.ts";
import { chromium, type Browser } from "playwright-core";
import type { WorkerApiReport } from "./browser-worker-api.ts";
import type { WorkerInfo } from "../../src/worker/protocol.ts";

const CHROMIUM = process.env.ODECOMP_CHROMIUM ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const here = dirname(fileURLToPath(import.meta.url));

const tfjsWasmDir = join(dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");

async function pages(): Promise<Files> {
  const files = await bundle({
    page: join(here, "browser-worker-api-page.ts"),
    "odecomp-worker": join(here, "../../src/worker/entry.ts"),
    "odecomp-worker-4cores": join(here, "browser-worker-4cores.ts"),
    "plain-page": join(here, "browser-worker-plain-page.ts"),
  }, ["node:*"]); // the Node branches of odecomp/worker, never taken in a browser
  for (const name of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"]) files[`/tfjs/${name}`] = await readFile(join(tfjsWasmDir, name));
  files["/"] = page("odecomp worker", "page.js");
  files["/plain"] = page("odecomp worker, not isolated", "plain-page.js");
  return files;
}

// /plain is served without COOP/COEP: that page is not cross-origin isolated.
const plainPaths = (path: string) => path === "/plain";

describe.skipIf(!present)("odecomp/worker in headless Chromium (module Web Worker, bundled entry by URL)", () => {
  let server: Server;
  let browser: Browser;
  let out: { report?: WorkerApiReport; error?: string };
  let plain: { info?: WorkerInfo; isolated?: boolean; error?: string };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await serve(await pages(), plainPaths);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
    const page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as { __odecompWorkerApi?: { done: boolean } }).__odecompWorkerApi?.done === true, undefined, { timeout: 60_000 });
    out = await page.evaluate(() => (globalThis as unknown as { __odecompWorkerApi: typeof out }).__odecompWorkerApi);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/plain`);
    await page.waitForFunction(() => (globalThis as { __odecompPlain?: { done: boolean } }).__odecompPlain?.done === true, undefined, { timeout: 60_000 });
    plain = await page.evaluate(() => (globalThis as unknown as { __odecompPlain: typeof plain }).__odecompPlain);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it("same results as the main thread, OdecompError re-thrown, inputs copied or transferred, clean terminate", () => {
    expect(out.error, out.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
    const r = out.report!;
    expect(r.kind).toBe("web");
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.tuckerEqual).toBe(true);
    expect(r.isTuckerTensor).toBe(true);
    expect(r.svdEqual).toBe(true);
    expect(r.errorName).toBe("OdecompError");
    expect(r.errorMessage).toBe(r.directMessage);
    expect(r.errorMessage).toMatch(/^svd: a has a non-finite value \(NaN\) at flat index 2/);
    expect(r.inputKeptLength).toBe(40 * 24);
    expect(r.transferredLength).toBe(0);
    expect(r.afterTerminate).toBe("worker: this worker was terminated; create a new one with createWorker()");
  });

  it("useWasmBackend in a worker: the threaded SIMD binary runs ⌊hardwareConcurrency / 2⌋ tfjs threads (2 on a pretend 4-core machine)", () => {
    expect(out.report!.wasm4).toEqual({ binary: "threaded-simd", threads: 2, note: null });
  });

  it("without cross-origin isolation the worker still runs; tfjs-wasm falls back to the SIMD binary on one thread and says why", () => {
    expect(plain.error, plain.error).toBeUndefined();
    expect(plain.isolated).toBe(false);
    expect(plain.info!.crossOriginIsolated).toBe(false);
    expect(plain.info!.tfjs).toEqual({
      backend: "wasm", binary: "simd", threads: 1,
      note: "SharedArrayBuffer is unavailable: serve the page with COOP: same-origin and COEP: require-corp (cross-origin isolation)",
    });
  });
});
