// One way to open the demo page in headless Chromium for the demo suites: build it into `dir`, serve
// it, launch Debian's Chromium and load the page, recording page errors and console errors.
import type { Server } from "node:http";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildDemo } from "../../demo/build.mjs";
import { startDemoServer } from "../../demo/server.mjs";

export const CHROMIUM = process.env.ODECOMP_CHROMIUM ?? "/usr/bin/chromium";

export interface OpenDemo { server: Server; browser: Browser; page: Page; errors: string[] }

/**
 * Build, serve and open the demo; page and console errors are pushed into `errors` (the caller's array);
 * `before(page)` runs before navigation (to add listeners).
 */
export async function openDemo(dir: string, errors: string[] = [], before: (page: Page) => void = () => {}): Promise<OpenDemo> {
  const dist = await buildDemo(join(dir, "dist"));
  const { server, url } = await startDemoServer({ port: 0, dist });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  before(page);
  await page.goto(url);
  return { server, browser, page, errors };
}
