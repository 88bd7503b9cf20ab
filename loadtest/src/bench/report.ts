import { existsSync, readFileSync, realpathSync } from "node:fs";
import os from "node:os";
import { relative } from "node:path";
import type { ResolutionStats } from "./book.js";
import type { CallTally } from "./dynamo-capacity.js";
import type { MeasuredKind } from "./dynamo-inprocess.js";
import { fsyncProbe } from "./machine.js";
import type { ScenarioResult } from "./scenarios.js";

/** A Markdown table: readable in a terminal and pasteable into docs/benchmarks.md. */
export function table(header: string[], rows: string[][], alignRight: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (alignRight[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (alignRight[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

function fsTypeOf(path: string): string {
  try {
    if (!existsSync("/proc/mounts")) return "unknown";
    const real = realpathSync(path);
    let best = { mount: "", type: "unknown" };
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const [, mount, type] = line.split(" ");
      if (mount && type && (real === mount || real.startsWith(mount.endsWith("/") ? mount : `${mount}/`))) {
        if (mount.length > best.mount.length) best = { mount, type };
      }
    }
    return `${best.type} (mounted at ${best.mount})`;
  } catch {
    return "unknown";
  }
}

function fsyncText(): string {
  try {
    const { medianMs, p90Ms } = fsyncProbe();
    return `median ${medianMs.toFixed(2)} ms, p90 ${p90Ms.toFixed(2)} ms`;
  } catch (error) {
    return `not measured (${(error as Error).message})`;
  }
}

export function header(argv: string[]): string {
  const script = relative(process.cwd(), argv[1] ?? "") || argv[1] || "";
  const args = argv.slice(2);
  const viaNpm = process.env.npm_lifecycle_event === "bench:cell";
  const cpus = os.cpus();
  return [
    "# Cellwallet cell benchmark",
    "",
    `- date: ${new Date().toISOString()}`,
    `- command: ${viaNpm ? `npm run bench:cell${args.length ? ` -- ${args.join(" ")}` : ""} (runs: ` : ""}node ${[script, ...args].join(" ")}${viaNpm ? ")" : ""}`,
    `- cwd: ${process.cwd()}`,
    `- node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}`,
    `- CPUs: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown"} (availableParallelism ${os.availableParallelism()})`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    `- temp dir (SQLite file): ${os.tmpdir()} on ${fsTypeOf(os.tmpdir())}; write 4 KiB + fsync: ${fsyncText()}`,
    "- load generator (autocannon), cell process and moto share the same machine",
  ].join("\n");
}

function problemsText(problems: Map<string, number>): string {
  if (problems.size === 0) return "";
  return [...problems.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `${label} ×${n}`)
    .join(", ");
}

export interface ScenarioRow {
  adapter: string;
  result: ScenarioResult;
  resolution?: ResolutionStats;
  /** % of one core during the scenario: cell process, moto, this process (autocannon). */
  cpu?: Record<string, number | undefined>;
}

const pct = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));

export function scenarioTable(rows: ScenarioRow[]): string {
  return table(
    [
      "adapter",
      "scenario",
      "req/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "responses",
      "non-2xx",
      "errors",
      "timeouts",
      "CPU % cell / moto / autocannon",
      "non-2xx by status",
    ],
    rows.map(({ adapter, result: r, cpu }) => [
      adapter,
      r.name,
      fixed(r.rps),
      fixed(r.p50, 0),
      fixed(r.p99, 0),
      fixed(r.max, 0),
      String(r.responses),
      String(r.non2xx),
      String(r.errors),
      String(r.timeouts),
      cpu ? `${pct(cpu.cell)} / ${pct(cpu.moto)} / ${pct(cpu.self)}` : "-",
      problemsText(r.problems),
    ]),
    [false, false, true, true, true, true, true, true, true, true, true, false],
  );
}

export function resolutionText(stats: ResolutionStats): string {
  const resent = stats.replayed + stats.executedLate + stats.unknown;
  if (resent === 0) return "every operation had a definitive answer during the run";
  return (
    `${stats.unanswered} unanswered at the end (in flight or timed out) and ${stats.unsettled} answered 409/5xx, ` +
    `re-sent with the same Idempotency-Key: ${stats.replayed} replayed the stored outcome, ` +
    `${stats.executedLate} ran only now, ${stats.unknown} still unknown`
  );
}

function perOp(n: number, ops: number): string {
  if (ops === 0) return "-";
  const v = n / ops;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function callsText(tally: CallTally, ops: number): string {
  return [...tally.byOperation.entries()]
    .filter(([name]) => name !== "DescribeTable")
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([name, t]) => `${name} ${perOp(t.calls, ops)}`)
    .join(", ");
}

export function dynamoTable(kinds: MeasuredKind[]): string {
  return table(
    [
      "API operation",
      "ops (2xx)",
      "DynamoDB calls per op",
      "calls/op",
      "moto-reported CU/op",
      "estimated RCU/op",
      "estimated WCU/op",
      "cancelled TransactWriteItems/op",
      "bytes written/op",
      "mean ms per DynamoDB call",
    ],
    kinds.map((k) => {
      const total = k.tally.total();
      const describe = k.tally.byOperation.get("DescribeTable")?.calls ?? 0;
      return [
        k.label,
        `${k.operations} (${k.succeeded})`,
        callsText(k.tally, k.operations),
        perOp(total.calls - describe, k.operations),
        perOp(total.reportedUnits, k.operations),
        perOp(total.rcu, k.operations),
        perOp(total.wcu, k.operations),
        perOp(total.failed, k.operations),
        perOp(total.bytesWritten, k.operations),
        total.calls === 0 ? "-" : (total.ms / total.calls).toFixed(1),
      ];
    }),
    [false, true, false, true, true, true, true, true, true, true],
  );
}

/** Mean and largest size of the items written, per logical table (the part after the cell id). */
export function itemSizeText(kinds: MeasuredKind[], cellId: string): string {
  const sum = new Map<string, { items: number; bytes: number; max: number }>();
  for (const kind of kinds) {
    for (const [table, w] of kind.tally.written) {
      const logical = table.slice(table.indexOf(cellId) + cellId.length + 1);
      const s = sum.get(logical) ?? { items: 0, bytes: 0, max: 0 };
      s.items += w.items;
      s.bytes += w.bytes;
      s.max = Math.max(s.max, w.max);
      sum.set(logical, s);
    }
  }
  return [...sum.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([table, s]) => `${table} mean ${Math.round(s.bytes / s.items)} B (max ${s.max} B)`)
    .join(", ");
}
