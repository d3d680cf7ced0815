// The main job's report: one self-contained HTML file with vega-lite charts
// compiled to Vega and rendered to SVG headlessly by vega's SVG renderer
// (no browser, no canvas; works in Node and Deno), embedded inline.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { PlanEntry } from "../compress/plan.ts";
import type { AutoRecord } from "../train/auto.ts";

export interface RunPoint { run: string; epoch: number; seconds: number; accuracy: number }

export interface RunSummary {
  name: string;
  schedule: string;
  seconds: number;
  trainSeconds: number;
  accuracy: number;
  params: number;
  forwardFlops: number;
}

export interface ReportData {
  title: string;
  /** One line on data, model, backend, sizes. */
  setup: string;
  runs: RunSummary[];
  /** Accuracy after every epoch of every run, with wall-clock seconds since the run's start. */
  points: RunPoint[];
  /** Where the accelerated run decomposed (seconds since its start, epoch). */
  decomposition: { run: string; seconds: number; epoch: number; accuracyBefore?: number; accuracyAfter?: number } | null;
  /** The decomposition plan (per-layer ranks and savings). */
  plan: PlanEntry[];
  planText: string;
  /** Learning-curve prediction: fitted on the first `fitEpochs` epochs of `run`. */
  predictor: { run: string; fitEpochs: number; actual: { epoch: number; accuracy: number }[]; predicted: { epoch: number; accuracy: number }[]; finalPredicted: number; finalActual: number } | null;
  /** The comparison table as printed. */
  table: string;
  /** The accelerated run's auto-schedule record, when it ran the auto schedule. */
  auto?: AutoReportData;
}

/** Render a vega-lite spec to an SVG string (headless). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vg } = compile(spec);
  const view = new vega.View(vega.parse(vg), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function accuracySpec(d: ReportData): TopLevelSpec {
  const layers: object[] = [
    {
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "seconds", type: "quantitative", title: "wall-clock time (s)", scale: { domainMin: 0 } },
        y: { field: "accuracy", type: "quantitative", title: "test accuracy", scale: { zero: false } },
        color: { field: "run", type: "nominal", title: "run" },
        tooltip: [{ field: "run" }, { field: "epoch" }, { field: "accuracy", format: ".4f" }],
      },
    },
  ];
  const marks = d.decomposition ? [{ seconds: d.decomposition.seconds, label: `decomposed after epoch ${d.decomposition.epoch}` }] : [];
  if (marks.length) {
    layers.push({ data: { values: marks }, mark: { type: "rule", strokeDash: [4, 4], color: "#d62728" }, encoding: { x: { field: "seconds", type: "quantitative" } } });
    layers.push({ data: { values: marks }, mark: { type: "text", align: "left", dx: 4, dy: -4, color: "#d62728", baseline: "bottom" }, encoding: { x: { field: "seconds", type: "quantitative" }, y: { value: 12 }, text: { field: "label" } } });
  }
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: "Accuracy against wall-clock time", width: 560, height: 300, data: { values: d.points }, layer: layers } as TopLevelSpec;
}

/** Bar chart of each layer's parameters before and after (also drawn by the demo page). */
export function paramsSpec(plan: PlanEntry[]): TopLevelSpec {
  const rows = plan.flatMap((e) => [
    { layer: e.layer, which: "before", params: e.paramsBefore },
    { layer: e.layer, which: "after", params: e.paramsAfter },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: "Parameters per layer, before and after decomposition",
    width: 560, height: { step: 12 }, data: { values: rows },
    mark: "bar",
    encoding: {
      y: { field: "layer", type: "nominal", sort: null, title: null },
      yOffset: { field: "which", sort: ["before", "after"] },
      x: { field: "params", type: "quantitative", title: "parameters" },
      color: { field: "which", type: "nominal", sort: ["before", "after"], title: null },
    },
  } as TopLevelSpec;
}

export function predictorSpec(p: NonNullable<ReportData["predictor"]>): TopLevelSpec {
  const rows = [
    ...p.actual.map((r) => ({ ...r, series: "actual" })),
    ...p.predicted.map((r) => ({ ...r, series: `predicted from epochs 1–${p.fitEpochs}` })),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: `Learning-curve predictor against actual (${p.run})`,
    width: 560, height: 260,
    layer: [
      { data: { values: [{ start: 0.5, end: p.fitEpochs + 0.5 }] }, mark: { type: "rect", opacity: 0.12, color: "#888" }, encoding: { x: { field: "start", type: "quantitative" }, x2: { field: "end" } } },
      {
        data: { values: rows }, mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1 } },
          y: { field: "accuracy", type: "quantitative", title: "test accuracy", scale: { zero: false } },
          color: { field: "series", type: "nominal", title: null },
          strokeDash: { field: "series", type: "nominal", legend: null },
        },
      },
    ],
  } as TopLevelSpec;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The report as one self-contained HTML string (SVG inline, no scripts, no external resources). */
export async function renderReport(d: ReportData): Promise<string> {
  const charts: string[] = [await renderSvg(accuracySpec(d))];
  if (d.plan.length) charts.push(await renderSvg(paramsSpec(d.plan)));
  if (d.predictor) charts.push(await renderSvg(predictorSpec(d.predictor)));
  const planRows = d.plan.map((e) => `<tr><td>${esc(e.layer)}</td><td>${esc(e.kind)}</td><td>${e.action === "factorize" ? esc(String(e.method)) : "kept"}</td><td>${e.ranks.join("×") || "—"}</td><td>${fmt(e.paramsBefore)}</td><td>${fmt(e.paramsAfter)}</td><td>${(100 * (1 - e.paramsAfter / Math.max(1, e.paramsBefore))).toFixed(1)}%</td></tr>`).join("\n");
  const pred = d.predictor
    ? `<p>Fitted (pow3, exponential, log-power ensemble) on the first ${d.predictor.fitEpochs} epoch(s) of <b>${esc(d.predictor.run)}</b>: predicted final accuracy ${d.predictor.finalPredicted.toFixed(4)}, actual ${d.predictor.finalActual.toFixed(4)} (error ${(100 * Math.abs(d.predictor.finalPredicted - d.predictor.finalActual)).toFixed(2)} points).</p>`
    : `<p>Predictor: not shown (it needs at least 3 epochs to fit and 1 more to compare).</p>`;
  const dec = d.decomposition
    ? `<p>The accelerated run decomposed after epoch ${d.decomposition.epoch} (${d.decomposition.seconds.toFixed(1)} s into the run)${d.decomposition.accuracyBefore !== undefined ? `: test accuracy ${d.decomposition.accuracyBefore.toFixed(4)} before, ${(d.decomposition.accuracyAfter ?? NaN).toFixed(4)} right after` : ""}; the dashed line marks it.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:16px auto;max-width:980px;padding:0 16px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}.chart{margin:12px 0}
</style></head><body>
<h1>${esc(d.title)}</h1>
<p>${esc(d.setup)}</p>
<h2>Comparison</h2>
<table><thead><tr><th>run</th><th>schedule</th><th>training s</th><th>wall-clock s</th><th>speed-up (training)</th><th>test accuracy</th><th>params</th><th>FLOPs/sample</th></tr></thead><tbody>
${d.runs.map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.schedule)}</td><td>${r.trainSeconds.toFixed(1)}</td><td>${r.seconds.toFixed(1)}</td><td>${(d.runs[0].trainSeconds / r.trainSeconds).toFixed(2)}×</td><td>${r.accuracy.toFixed(4)}</td><td>${fmt(r.params)}</td><td>${fmt(r.forwardFlops)}</td></tr>`).join("\n")}
</tbody></table>
<p>${esc(d.table.split("\n").filter((l) => l.startsWith("speed-up")).join(" "))}</p>
<h2>Accuracy against wall-clock time</h2>
<div class="chart">${charts[0]}</div>
${dec}
<h2>Per-layer ranks and parameter savings</h2>
${d.plan.length ? `<div class="chart">${charts[1]}</div>
<table><thead><tr><th>layer</th><th>kind</th><th>method</th><th>ranks</th><th>params before</th><th>params after</th><th>saved</th></tr></thead><tbody>
${planRows}
</tbody></table>` : "<p>No decomposition plan.</p>"}
${d.auto ? await renderAutoSection(d.auto) : ""}
<h2>Predictor against actual</h2>
${d.predictor ? `<div class="chart">${charts[charts.length - 1]}</div>` : ""}
${pred}
<h2>Plan as printed by odecomp</h2>
<pre>${esc(d.planText)}</pre>
<p style="color:#777">Generated by odecomp; charts: vega-lite → vega SVG renderer.</p>
</body></html>
`;
}

// ---- the auto schedule (odecomp train --schedule auto)

/** What the auto section shows: the run's epochs and its auto record (TrainResult). */
export interface AutoReportData {
  epochs: { epoch: number; label: string; trainSeconds: number; accuracy: number }[];
  auto: AutoRecord;
}

/** Training seconds per epoch, coloured by part (full-rank / the epoch a mid-epoch switch split / low-rank / reconstructed). */
export function epochTimeSpec(d: AutoReportData): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: "Training time per epoch", width: 560, height: 220,
    data: { values: d.epochs }, mark: "bar",
    encoding: {
      x: { field: "epoch", type: "ordinal", title: "epoch" },
      y: { field: "trainSeconds", type: "quantitative", title: "training seconds" },
      color: { field: "label", type: "nominal", title: null, sort: ["full-rank", "switch", "low-rank", "reconstructed"] },
      tooltip: [{ field: "epoch" }, { field: "label" }, { field: "trainSeconds", format: ".2f" }, { field: "accuracy", format: ".4f" }],
    },
  } as TopLevelSpec;
}

/** Each tracked layer's stable rank over the full-rank part, the switch marked. */
export function stableRankSpec(a: AutoRecord): TopLevelSpec {
  const rows = a.stableRanks.flatMap((p) => Object.entries(p.ranks).map(([layer, value]) => ({ epoch: p.epoch, layer, value })));
  const layers: object[] = [{
    data: { values: rows }, mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: "value", type: "quantitative", title: "stable rank ‖W‖²F/σmax²", scale: { type: "log" } },
      color: { field: "layer", type: "nominal", title: "layer", sort: null },
    },
  }];
  if (a.switchEpoch !== null) {
    const mark = [{ epoch: a.switchEpoch, label: `switch after epoch ${a.switchEpoch}` }];
    layers.push({ data: { values: mark }, mark: { type: "rule", strokeDash: [4, 4], color: "#d62728" }, encoding: { x: { field: "epoch", type: "quantitative" } } });
    layers.push({ data: { values: mark }, mark: { type: "text", align: "right", dx: -4, dy: 4, color: "#d62728", baseline: "top" }, encoding: { x: { field: "epoch", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } } });
  }
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: "Stable rank per layer (full-rank part)", width: 560, height: 260, layer: layers } as TopLevelSpec;
}

const num4 = (x: number | null) => (x === null ? "—" : x >= 1e4 || (x > 0 && x < 1e-2) ? x.toExponential(2) : x.toFixed(3));

/** The auto schedule's decisions as an HTML fragment: why it switched when, per-layer table, two charts. */
export async function renderAutoSection(d: AutoReportData): Promise<string> {
  const a = d.auto;
  const [bars, curves] = [await renderSvg(epochTimeSpec(d)), a.stableRanks.length ? await renderSvg(stableRankSpec(a)) : ""];
  const mean = (x: number[]) => (x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN);
  const fr = mean(a.epochSeconds.fullRank), lr = mean(a.epochSeconds.lowRank);
  const rows = (a.plan?.decisions ?? []).map((x) => `<tr><td>${esc(x.layer)}</td><td>${x.kind}</td><td>${x.action === "factorize" ? esc(String(x.method)) : "dense"}</td><td>${x.ranks.join("×") || "—"}</td><td>${x.maxRanks.join("×")}</td><td>${x.stableRank === null ? "—" : x.stableRank.toFixed(2)}</td><td>${num4(x.denseCost)}</td><td>${num4(x.factorizedCost)}</td><td>${a.kernelErrors?.[x.layer] === undefined ? "—" : a.kernelErrors[x.layer].toFixed(3)}</td><td style="text-align:left">${esc(x.why)}</td></tr>`).join("\n");
  return `<h2>Automatic schedule</h2>
<p>${a.switchEpoch === null ? "No switch" : `Switched to low rank after epoch ${a.switchEpoch} (${a.fullRankEpochs} full-rank epoch(s) of the phase)`}: ${esc(a.reason)}.
Test: relative change of every layer's stable rank &lt; ${(100 * a.convergence.threshold).toPrecision(3)}% per measurement (ε = ${a.convergence.epsilon} per epoch, ${a.convergence.perEpoch} measurement(s) per epoch) over the last ${a.convergence.window} measurement(s); between ${a.convergence.minEpochs} and ${a.convergence.maxEpochs} full-rank epochs.
${a.warnings.map((w) => `<strong>Warning:</strong> ${esc(w)}.<br>`).join("\n")}
${a.accuracyBefore !== null ? `Test accuracy ${a.accuracyBefore.toFixed(4)} before the switch, ${(a.accuracyAfter ?? NaN).toFixed(4)} right after.` : ""}
${a.switchSeconds ? `The switch itself took ${(a.switchSeconds.plan + a.switchSeconds.factorize).toFixed(2)} s of wall-clock, outside the epochs' training time: ${a.switchSeconds.plan.toFixed(2)} s to plan (${a.switchSeconds.timings} cost-model timing(s)), ${a.switchSeconds.factorize.toFixed(2)} s to factorize (with the evaluations before and after).` : ""}
Mean training seconds per epoch: full-rank ${Number.isNaN(fr) ? "—" : fr.toFixed(2)}, low-rank ${Number.isNaN(lr) ? "—" : lr.toFixed(2)}${!Number.isNaN(fr) && !Number.isNaN(lr) ? ` (${(fr / lr).toFixed(2)}× per epoch)` : ""}${a.epochSeconds.switched?.length ? `; the epoch the switch split ${a.epochSeconds.switched[0].toFixed(2)}` : ""}.
${a.earlyStop ? (a.earlyStop.predictions.length ? `Early stopping: ${a.earlyStop.stoppedAfter !== null ? `stopped after epoch ${a.earlyStop.stoppedAfter}` : "ran to the end"}; first prediction (after epoch ${a.earlyStop.predictions[0].epoch}) ${a.earlyStop.predictions[0].predicted.toFixed(4)} against ${a.earlyStop.finalAccuracy.toFixed(4)} at the phase's end. ` : "Early stopping: no prediction made (too few low-rank epochs). ") : ""}Frobenius decay λ = ${a.frobeniusDecay}${(a.frobeniusDecayEvery ?? 1) > 1 ? ` (applied every ${a.frobeniusDecayEvery} steps at ${a.frobeniusDecayEvery}λ)` : ""} on ${a.decayedChains.length ? esc(a.decayedChains.join(", ")) : "no chain"}${a.switchEpoch !== null && (a.lowRankLrScale ?? 1) !== 1 ? `; low-rank learning rate ${a.lowRankLrScale}× the run's` : ""}${a.reconstructedAt !== null ? `; folded back after epoch ${a.reconstructedAt}` : ""}.</p>
<div class="chart">${bars}</div>
${curves ? `<div class="chart">${curves}</div>` : ""}
${a.plan ? `<p>Per-layer decisions (cost model: ${esc(a.plan.timer)}, forward + backward of one batch; factorizable layers ${num4(a.plan.costBefore)} → ${num4(a.plan.costAfter)}${a.plan.budget ? `; budget ${a.plan.budget.keep}${a.plan.budget.timer !== a.plan.timer ? ` of the cost in ${esc(a.plan.budget.timer)} (${num4(a.plan.budget.before)} → ${num4(a.plan.budget.after)})` : ""} ${a.plan.budget.met ? "met" : "NOT met"}, rule ranks ×${a.plan.budget.scale.toFixed(3)}${a.plan.budget.filled ? `, ${a.plan.budget.filled} layer(s) raised to fill it` : ""}` : ""}):</p>
<table><thead><tr><th>layer</th><th>kind</th><th>method</th><th>rank</th><th>max rank</th><th>stable rank</th><th>dense cost</th><th>factorized cost</th><th>kernel error</th><th>why</th></tr></thead><tbody>
${rows}
</tbody></table>` : ""}`;
}

/** A standalone HTML report for `odecomp train --schedule auto`. */
export async function renderAutoReport(title: string, setup: string, d: AutoReportData): Promise<string> {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:16px auto;max-width:980px;padding:0 16px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.chart{margin:12px 0}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(setup)}</p>
${await renderAutoSection(d)}
<p style="color:#777">Generated by odecomp; charts: vega-lite → vega SVG renderer.</p>
</body></html>
`;
}
