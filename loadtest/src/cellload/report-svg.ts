import { formatRate } from "./options.js";
import type { TimePoint } from "./recorder.js";
import type { RunSummary } from "./summary.js";

/**
 * report.svg: a static picture of a run that a Markdown page (GitHub, docs/benchmarks.md) can show with
 * `![](report.svg)`, where report.html's scripts never run. Hand-written SVG, no dependency: two panels drawn
 * from the per-second series of all ops (the "*" rows of summary.timeline, the ones report.html plots):
 * throughput (ok/s and errors/s) and latency (p50, p99) against the second of the run, with axes, units, a
 * legend and the run's title. The elements carry classes (panel, y-axis, x-axis, tick, data-series) so that a
 * test can read the picture back as a reader would, from the tick labels.
 */

const WIDTH = 900;
const HEIGHT = 600;
const PLOT_LEFT = 70;
const PLOT_RIGHT = 740;
const LEGEND_X = 756;
/** The plot areas of the two panels (throughput above, latency below). */
const BOXES = [
  { top: 90, bottom: 270 },
  { top: 340, bottom: 520 },
] as const;
const COLORS = { ok: "#2ca02c", errors: "#d62728", p50: "#1f77b4", p99: "#ff7f0e" };

interface Line {
  key: string;
  label: string;
  color: string;
  /** [second, value]; a null value is a gap (no answer that second to take a latency from). */
  points: [number, number | null][];
}

interface Panel {
  name: string;
  heading: string;
  yLabel: string;
  lines: Line[];
}

const xmlEscape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c);
const fmt = (n: number) => String(Math.round(n * 10) / 10);
/** A tick label: as few digits as the step needs (0.25, 2, 1500). */
const label = (n: number) => String(Number(n.toFixed(6)));

/** Ticks 0, step, 2·step, … up to the first at or above `max`, with step 1, 2 or 5 × 10^k (about 5 ticks). */
export function niceTicks(max: number): number[] {
  const top = max > 0 ? max : 1;
  const raw = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = Number((i * step).toFixed(10));
    ticks.push(t);
    if (t >= top) return ticks;
  }
}

/** The run's load in words: "50/s for 20 s", "ramp 30s→100/s, …", "10 VUs for 30 s". */
export function loadWords(executor: RunSummary["executor"]): string {
  const seconds = (ms: number) => `${label(ms / 1000)} s`;
  if (executor.model === "closed") return `${executor.vus} VUs for ${seconds(executor.durationMs)}`;
  if (executor.ramp) return `ramp ${executor.ramp.map((s) => `${seconds(s.durationMs)}→${s.target}/s`).join(", ")}`;
  return `${formatRate(executor.rate ?? 0)} for ${seconds(executor.durationMs)}`;
}

/** The lines of the two panels from the timeline's "*" rows. */
export function svgSeries(timeline: TimePoint[]): Panel[] {
  const all = new Map(timeline.filter((p) => p.op === "*").map((p) => [p.second, p]));
  const last = Math.max(0, ...all.keys());
  // Every second from 0 to the last: a second without a single answer is a stall, drawn as 0 (not bridged).
  const seconds = Array.from({ length: all.size === 0 ? 0 : last + 1 }, (_, i) => i);
  const at = (f: (p: TimePoint) => number | null, missing: number | null) =>
    seconds.map((s): [number, number | null] => {
      const p = all.get(s);
      return [s, p ? f(p) : missing];
    });
  return [
    {
      name: "throughput",
      heading: "Throughput, all ops (per second)",
      yLabel: "requests per second",
      lines: [
        { key: "ok", label: "ok/s", color: COLORS.ok, points: at((p) => p.requests - p.failed, 0) },
        { key: "errors", label: "errors/s", color: COLORS.errors, points: at((p) => p.failed, 0) },
      ],
    },
    {
      name: "latency",
      heading: "Latency, all ops (per second)",
      yLabel: "latency (ms)",
      lines: [
        { key: "p50", label: "p50", color: COLORS.p50, points: at((p) => p.p50, null) },
        { key: "p99", label: "p99", color: COLORS.p99, points: at((p) => p.p99, null) },
      ],
    },
  ];
}

/** Contiguous stretches of a line (split at its gaps), each drawn as one polyline. */
function stretches(points: [number, number | null][]): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  for (const [s, v] of points) {
    if (v === null) {
      if (current.length) out.push(current);
      current = [];
    } else current.push([s, v]);
  }
  if (current.length) out.push(current);
  return out;
}

function renderPanel(panel: Panel, box: { top: number; bottom: number }, lastSecond: number): string {
  const values = panel.lines.flatMap((l) => l.points.map(([, v]) => v ?? 0));
  const yTicks = niceTicks(Math.max(0, ...values));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const xMax = Math.max(lastSecond, 1);
  const xTicks = niceTicks(xMax).filter((t) => t <= xMax);
  const x = (s: number) => PLOT_LEFT + (s / xMax) * (PLOT_RIGHT - PLOT_LEFT);
  const y = (v: number) => box.bottom - (v / yMax) * (box.bottom - box.top);
  const middle = (box.top + box.bottom) / 2;
  const parts = [
    `<g class="panel" data-panel="${panel.name}">`,
    `<text class="heading" x="${PLOT_LEFT}" y="${box.top - 14}" font-weight="bold">${xmlEscape(panel.heading)}</text>`,
    `<g class="y-axis">`,
    ...yTicks.map(
      (t) =>
        `<line class="grid" x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e4e4e4"/>` +
        `<text class="tick" x="${PLOT_LEFT - 6}" y="${fmt(y(t))}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`,
    ),
    `<text class="axis-label" transform="translate(18 ${fmt(middle)}) rotate(-90)" text-anchor="middle">${xmlEscape(panel.yLabel)}</text>`,
    `</g>`,
    `<g class="x-axis">`,
    `<line x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${box.bottom}" y2="${box.bottom}" stroke="#444"/>`,
    `<line x1="${PLOT_LEFT}" x2="${PLOT_LEFT}" y1="${box.top}" y2="${box.bottom}" stroke="#444"/>`,
    ...xTicks.map(
      (t) =>
        `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="#444"/>` +
        `<text class="tick" x="${fmt(x(t))}" y="${box.bottom + 16}" text-anchor="middle">${label(t)}</text>`,
    ),
    `<text class="axis-label" x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${box.bottom + 34}" text-anchor="middle">second of the run (s)</text>`,
    `</g>`,
    ...panel.lines.flatMap((l) =>
      stretches(l.points).map(
        (run) =>
          `<polyline data-series="${l.key}" fill="none" stroke="${l.color}" stroke-width="1.5" stroke-linejoin="round" points="${run.map(([s, v]) => `${fmt(x(s))},${fmt(y(v))}`).join(" ")}"/>`,
      ),
    ),
    `<g class="legend">`,
    ...panel.lines.map((l, i) => {
      const ly = box.top + 8 + i * 20;
      return (
        `<line x1="${LEGEND_X}" x2="${LEGEND_X + 22}" y1="${ly}" y2="${ly}" stroke="${l.color}" stroke-width="2.5"/>` +
        `<text x="${LEGEND_X + 28}" y="${ly}" dominant-baseline="middle">${xmlEscape(l.label)}</text>`
      );
    }),
    `</g>`,
    `</g>`,
  ];
  return parts.join("\n");
}

const FOOTNOTE = [
  "ok = answered as the scenario expects (a 422 insufficient-funds can be); errors = failed requests (http_req_failed).",
  "Latency of all answered requests in that second, from the intended send time (open model) or the actual send (closed).",
];

/** The whole picture for a run's summary. */
export function renderSvg(summary: RunSummary): string {
  const panels = svgSeries(summary.timeline);
  const lastSecond = Math.max(0, ...(panels[0]?.lines[0]?.points.map(([s]) => s) ?? []));
  const title = `cellload ${summary.scenario} → ${summary.target}${summary.cell ? ` (${summary.cell})` : ""}, ${loadWords(summary.executor)}`;
  const r = summary.requests;
  const totals =
    `${r.count} requests, ${r.failed} failed` +
    (r.latencyMs ? `, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms` : "");
  const body =
    summary.timeline.length === 0
      ? `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no request was answered: nothing to plot</text>`
      : panels.map((p, i) => renderPanel(p, BOXES[i] ?? BOXES[0], lastSecond)).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12" fill="#222">
<title>${xmlEscape(title)}</title>
<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
<text class="title" x="${PLOT_LEFT}" y="26" font-size="15" font-weight="bold">${xmlEscape(title)}</text>
<text class="subtitle" x="${PLOT_LEFT}" y="46">${xmlEscape(`started ${summary.startedAt}, ${summary.elapsedSeconds} s; ${totals}`)}</text>
${body}
${FOOTNOTE.map((line, i) => `<text x="${PLOT_LEFT}" y="${HEIGHT - 30 + 16 * i}" fill="#666">${xmlEscape(line)}</text>`).join("\n")}
</svg>
`;
}
