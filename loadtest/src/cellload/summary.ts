import { formatRate } from "./options.js";
import type { Recorder, TimePoint } from "./recorder.js";
import type { Tags, ThresholdResult } from "./thresholds.js";

/**
 * The end-of-run result: `summary.json` (schema "cellload/summary@1", documented
 * in loadtest/README.md; fields are only ever added) and the text table.
 */

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p99_9: number;
  max: number;
}

export interface GroupSummary {
  count: number;
  failed: number;
  ratePerSecond: number;
  latencyMs: LatencySummary | null;
  /** Non-2xx answers and transport errors by label ("422 insufficient-funds", "error ECONNREFUSED"). */
  statuses: Record<string, number>;
}

export interface VerifySummary {
  pass: boolean;
  lines: string[];
}

export interface RunSummary {
  schema: "cellload/summary@1";
  scenario: string;
  target: string;
  targetKind: "router" | "cell";
  cell: string | null;
  executor: (
    | {
        model: "open";
        rate: number | null;
        ramp: { durationMs: number; target: number }[] | null;
        durationMs: number;
        maxInFlight: number;
      }
    | { model: "closed"; vus: number; durationMs: number }
  ) & {
    /** The unmeasured warm-up before the run (0: none); its operations are in the books, not in the figures. */
    warmupMs: number;
  };
  startedAt: string;
  elapsedSeconds: number;
  aborted: boolean;
  iterations: { started: number; dropped: number; ratePerSecond: number };
  /**
   * Open model: how late the generator sent iterations (ms past their intended time). Latency includes it
   * (no coordinated omission); a large lag means the load generator, not the target, was saturated.
   */
  schedulingLagMs: { p50: number; p99: number; max: number } | null;
  requests: GroupSummary;
  checks: { passed: number; total: number; rate: number | null };
  byOp: ({ op: string } & GroupSummary)[];
  byCell: ({ cell: string } & GroupSummary)[];
  thresholds: ThresholdResult[];
  verify: VerifySummary | null;
  /** Stopped by Ctrl-C or SIGTERM (exit 130), which `aborted` (--abort-on-fail) is not. */
  interrupted: boolean;
  /** Iterations that threw (a scenario's own error, not an HTTP answer), by message; each one a failed check. */
  iterationErrors: Record<string, number>;
  /** Why the scenario's cross-cell transfers did not run (no wallet in another cell); null when they ran or it has none. */
  crossCellSkipped: string | null;
  timeline: TimePoint[];
  /** 0 passed, 99 a threshold failed, 1 --verify found the books and the platform disagree. */
  exitCode: 0 | 1 | 99 | 130;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

function latency(recorder: Recorder, tags: Tags): LatencySummary | null {
  const d = recorder.durations(tags);
  if (!d) return null;
  return {
    count: d.count,
    min: round(d.min),
    mean: round(d.mean),
    p50: round(d.percentile(50)),
    p90: round(d.percentile(90)),
    p95: round(d.percentile(95)),
    p99: round(d.percentile(99)),
    p99_9: round(d.percentile(99.9)),
    max: round(d.max),
  };
}

export function group(recorder: Recorder, tags: Tags): GroupSummary {
  const f = recorder.failed(tags);
  return {
    count: f.total,
    failed: f.failed,
    ratePerSecond: round(f.total / Math.max(recorder.elapsedSeconds(), 1e-9), 1),
    latencyMs: latency(recorder, tags),
    statuses: recorder.statuses(tags),
  };
}

export function breakdown(recorder: Recorder) {
  const { ops, cells } = recorder.tagValues();
  return {
    requests: group(recorder, {}),
    byOp: ops.map((op) => ({ op, ...group(recorder, { op }) })),
    byCell: cells.map((cell) => ({ cell, ...group(recorder, { cell }) })),
  };
}

const ms = (n: number | undefined) => (n === undefined ? "-" : n < 10 ? n.toFixed(2) : n.toFixed(1));

/** The human-readable end-of-run table. */
export function summaryText(s: RunSummary): string {
  const lines: string[] = [];
  const mode =
    s.executor.model === "open"
      ? `open model, ${s.executor.rate !== null ? formatRate(s.executor.rate) : "ramping"}`
      : `closed model, ${s.executor.vus} VUs`;
  const warm = s.executor.warmupMs > 0 ? `, after a ${s.executor.warmupMs / 1000} s warm-up` : "";
  lines.push(
    `cellload ${s.scenario} → ${s.target} (${s.targetKind}${s.cell ? `, cell ${s.cell}` : ""}; ${mode}${warm}; ${s.elapsedSeconds.toFixed(1)} s${s.aborted ? ", ABORTED" : ""}${s.interrupted ? ", INTERRUPTED" : ""})`,
  );
  lines.push(`iterations ${s.iterations.started} (${s.iterations.ratePerSecond}/s), dropped ${s.iterations.dropped}`);
  if (s.schedulingLagMs) {
    lines.push(
      `generator lag p50 ${ms(s.schedulingLagMs.p50)} ms, p99 ${ms(s.schedulingLagMs.p99)} ms, max ${ms(s.schedulingLagMs.max)} ms (counted in latency; large = the load generator was saturated)`,
    );
  }
  lines.push("");
  lines.push("OP                   REQS    REQ/S   FAILED    P50 ms   P95 ms   P99 ms   MAX ms  NON-2XX");
  const row = (name: string, g: GroupSummary) => {
    const l = g.latencyMs;
    const non2xx =
      Object.entries(g.statuses)
        .map(([k, v]) => `${k}:${v}`)
        .join(" ") || "-";
    lines.push(
      `${name.padEnd(18)} ${String(g.count).padStart(6)} ${String(g.ratePerSecond).padStart(8)} ${String(g.failed).padStart(8)} ${ms(l?.p50).padStart(9)} ${ms(l?.p95).padStart(8)} ${ms(l?.p99).padStart(8)} ${ms(l?.max).padStart(8)}  ${non2xx}`,
    );
  };
  for (const o of s.byOp) row(o.op, o);
  row("ALL", s.requests);
  if (s.byCell.length > 1 || s.cell) {
    lines.push("");
    for (const c of s.byCell) row(`cell ${c.cell}`, c);
  }
  lines.push("");
  lines.push(
    `checks ${s.checks.passed}/${s.checks.total}${s.checks.rate === null ? "" : ` (${(100 * s.checks.rate).toFixed(2)}%)`}`,
  );
  for (const t of s.thresholds) {
    lines.push(`${t.ok ? "✓" : "✗"} ${t.threshold}  (actual ${t.actual === null ? "no samples" : round(t.actual, 4)})`);
  }
  for (const [message, n] of Object.entries(s.iterationErrors))
    lines.push(`iteration error ×${n} (failed checks): ${message}`);
  if (s.crossCellSkipped !== null) lines.push(`cross-cell transfers skipped: ${s.crossCellSkipped}`);
  if (s.verify) {
    lines.push("");
    lines.push(`verify: ${s.verify.pass ? "PASS" : "FAIL"}`);
    for (const l of s.verify.lines) lines.push(`  ${l}`);
  }
  lines.push("");
  lines.push(
    s.exitCode === 0
      ? "result: PASS"
      : s.exitCode === 99
        ? "result: FAIL (threshold)"
        : s.exitCode === 130
          ? "result: INTERRUPTED (a partial run; books checked)"
          : "result: FAIL (verify)",
  );
  return lines.join("\n");
}
