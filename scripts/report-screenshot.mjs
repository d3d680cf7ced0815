// Screenshot of the main job's report for the README: node scripts/report-screenshot.mjs [out/report.html] [docs/report.png]
// Needs Chromium (CHROMIUM env or /usr/bin/chromium) and playwright-core (dev dependency).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

const [src = "out/report.html", dst = "docs/report.png"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1200 }, deviceScaleFactor: 1 });
  await page.goto("file://" + resolve(src));
  mkdirSync(dirname(dst), { recursive: true });
  await page.screenshot({ path: dst, fullPage: false });
  console.log(`wrote ${dst}`);
} finally {
  await browser.close();
}
