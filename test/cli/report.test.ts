// The main job's report from a tiny run: the file exists, is self-contained,
// holds the vega SVG plots, and renders non-blank in headless Chromium (pixels
// of the screenshot checked). Chromium missing → the browser test is skipped.
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run, tmp } from "./helpers.ts";
import { renderSvg } from "../../src/cli/report.ts";

const CHROMIUM = "/usr/bin/chromium";
let out: string, html: string, results: any, code: number, err: string;

beforeAll(async () => {
  out = join(tmp(), "out");
  const r = await run("main", "--out", out, "--schedule", "decompose-at", "--model", "mlp", "--epochs", "5", "--at", "1", "--train-per-class", "3", "--test-per-class", "2", "--backend", "cpu", "--quiet", "--budget", "0.3");
  code = r.code; err = r.err;
  if (code === 0) {
    html = readFileSync(join(out, "report.html"), "utf8");
    results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  }
}, 120000);

describe("main job report (tiny run)", () => {
  it("writes report.html, results.json and the compressed model", () => {
    expect(code, err).toBe(0);
    expect(readdirSync(out).sort()).toEqual([".odecomp-main", "compressed", "report.html", "results.json"]);
    expect(readdirSync(join(out, "compressed")).sort()).toEqual(["model.json", "plan.txt", "weights.bin"]);
    expect(results.accelerated.phases.map((p: { kind: string }) => p.kind)).toEqual(["train", "decompose", "train"]);
    expect(results.accelerated.final.params).toBeLessThan(results.baseline.final.params);
  });

  it("holds the plots as inline SVG and nothing external", () => {
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    expect(svgs.length).toBe(2 + (results.predictor ? 1 : 0));
    expect(html).toContain("Accuracy against wall-clock time");
    expect(html).toContain("decomposed after epoch 1");
    expect(html).toContain("Parameters per layer");
    expect(html).toMatch(/<path[^>]+d="M/); // drawn marks, not empty charts
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    for (const e of results.accelerated.plan.entries) expect(html).toContain(`<td>${e.layer}</td>`);
  });

  it("a second run may replace an earlier main-job output, but not a foreign folder", async () => {
    const r = await run("main", "--out", join(out, "compressed"), "--epochs", "1");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not empty/);
    expect(existsSync(join(out, "compressed", "model.json"))).toBe(true);
  });

  it("renderSvg draws a vega-lite spec headlessly", async () => {
    const svg = await renderSvg({ data: { values: [{ a: 1, b: 2 }, { a: 2, b: 3 }] }, mark: "line", encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } } });
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/<path[^>]+d="M/);
  });

  it.skipIf(!existsSync(CHROMIUM))("renders non-blank in headless Chromium" + (existsSync(CHROMIUM) ? "" : ` (skipped: ${CHROMIUM} not found)`), async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      await page.goto("file://" + join(out, "report.html"));
      const boxes = await page.$$eval("svg", (els) => els.map((e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; }));
      expect(boxes.length).toBeGreaterThanOrEqual(2);
      for (const [w, h] of boxes) { expect(w).toBeGreaterThan(200); expect(h).toBeGreaterThan(100); }
      const shot = await page.screenshot({ fullPage: true });
      // Decode the PNG in the browser and count non-white pixels and distinct colours.
      const stats = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = "data:image/png;base64," + b64;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width; c.height = img.height;
        const g = c.getContext("2d")!;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        const colours = new Set<number>();
        for (let i = 0; i < d.length; i += 4) {
          if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) ink++;
          colours.add((d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | (d[i + 2] >> 4));
        }
        return { ink: ink / (d.length / 4), colours: colours.size, w: c.width, h: c.height };
      }, shot.toString("base64"));
      expect(stats.h).toBeGreaterThan(900);
      expect(stats.ink).toBeGreaterThan(0.02);
      expect(stats.colours).toBeGreaterThan(20); // text, axes and coloured series, not a blank page
    } finally {
      await browser.close();
    }
  }, 60000);
});
