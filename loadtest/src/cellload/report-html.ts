import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { TimePoint } from "./recorder.js";

/**
 * report.html: one self-contained file (no network needed to open it) with the
 * charting library uPlot (MIT) inlined from node_modules, the run's numbers as
 * JSON, and a few line charts.
 */

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
}

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(`uplot/dist/${path}`), "utf8");
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
// JSON inside <script>: no "</script>" can end the element early.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];

export function renderReport(options: { title: string; summaryText: string; charts: Chart[]; data: unknown }): string {
  const charts = options.charts.map((c, i) => ({ ...c, id: `chart-${i}` }));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>${asset("uPlot.min.css")}
body{font-family:system-ui,sans-serif;margin:24px;color:#222}pre{background:#f6f6f6;padding:12px;overflow:auto;font-size:12px}
.chart{margin:24px 0}h2{font-size:16px;margin:8px 0}</style></head>
<body><h1>${escapeHtml(options.title)}</h1>
<pre>${escapeHtml(options.summaryText)}</pre>
${charts.map((c) => `<div class="chart"><h2>${escapeHtml(c.title)}</h2><div id="${c.id}"></div></div>`).join("\n")}
<script>${asset("uPlot.iife.min.js")}</script>
<script id="cellload-data" type="application/json">${scriptJson(options.data)}</script>
<script>
const charts = ${scriptJson(charts)};
const palette = ${scriptJson(PALETTE)};
for (const c of charts) {
  const opts = {
    width: Math.min(1100, window.innerWidth - 48), height: 300,
    scales: { x: { time: false } },
    axes: [{ label: c.xLabel }, { label: c.yLabel }],
    series: [{ label: c.xLabel }, ...c.series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length], width: 1.5, spanGaps: false }))],
  };
  new uPlot(opts, [c.x, ...c.series.map((s) => s.values)], document.getElementById(c.id));
}
</script></body></html>
`;
}

/** The run's charts: throughput, p50/p95/p99 and errors per second, per op. */
export function timelineCharts(timeline: TimePoint[]): Chart[] {
  const seconds = [...new Set(timeline.map((p) => p.second))].sort((a, b) => a - b);
  const ops = [...new Set(timeline.map((p) => p.op))].filter((o) => o !== "*").sort();
  const at = new Map(timeline.map((p) => [`${p.second} ${p.op}`, p]));
  const col = (op: string, f: (p: TimePoint) => number | null, missing: number | null) =>
    seconds.map((s) => {
      const p = at.get(`${s} ${op}`);
      return p ? f(p) : missing;
    });
  return [
    {
      title: "Throughput (requests/s) per op",
      xLabel: "second",
      yLabel: "req/s",
      x: seconds,
      series: [
        { label: "all", values: col("*", (p) => p.requests, 0) },
        ...ops.map((op) => ({ label: op, values: col(op, (p) => p.requests, 0) })),
      ],
    },
    {
      title: "Latency, all ops (ms)",
      xLabel: "second",
      yLabel: "ms",
      x: seconds,
      series: [
        { label: "p50", values: col("*", (p) => p.p50, null) },
        { label: "p95", values: col("*", (p) => p.p95, null) },
        { label: "p99", values: col("*", (p) => p.p99, null) },
      ],
    },
    ...ops.map((op) => ({
      title: `Latency of ${op} (ms)`,
      xLabel: "second",
      yLabel: "ms",
      x: seconds,
      series: [
        { label: "p50", values: col(op, (p) => p.p50, null) },
        { label: "p95", values: col(op, (p) => p.p95, null) },
        { label: "p99", values: col(op, (p) => p.p99, null) },
      ],
    })),
    {
      title: "Failed requests per second per op",
      xLabel: "second",
      yLabel: "failed/s",
      x: seconds,
      series: [
        { label: "all", values: col("*", (p) => p.failed, 0) },
        ...ops.map((op) => ({ label: op, values: col(op, (p) => p.failed, 0) })),
      ],
    },
  ];
}
