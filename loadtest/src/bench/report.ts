import { existsSync, readFileSync, realpathSync } from "node:fs";
import os from "node:os";
import { relative } from "node:path";
import type { ResolutionStats } from "./book.js";
import type { CommitFigures } from "./cell-metrics.js";
import type { CallTally } from "./dynamo-capacity.js";
import type { MeasuredKind } from "./dynamo-inprocess.js";
import { fsyncProbe } from "./machine.js";
import type { Memory } from "./resources.js";
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

export interface HeaderOptions {
  title: string;
  /** The root npm script that runs this benchmark (shown in the command when it was used). */
  npmScript: string;
  /** Which processes share the machine. */
  sharing: string;
}

const CELL_HEADER: HeaderOptions = {
  title: "Cellwallet cell benchmark",
  npmScript: "bench:cell",
  sharing: "load generator (cellload engine), cell process and moto share the same machine",
};

/** Machine facts and the exact command, printed first by every benchmark. */
export function header(argv: string[], options: HeaderOptions = CELL_HEADER): string {
  const script = relative(process.cwd(), argv[1] ?? "") || argv[1] || "";
  const args = argv.slice(2);
  const viaNpm = process.env.npm_lifecycle_event === options.npmScript;
  const cpus = os.cpus();
  return [
    `# ${options.title}`,
    "",
    `- date: ${new Date().toISOString()}`,
    `- command: ${viaNpm ? `npm run ${options.npmScript}${args.length ? ` -- ${args.join(" ")}` : ""} (runs: ` : ""}node ${[script, ...args].join(" ")}${viaNpm ? ")" : ""}`,
    `- cwd: ${process.cwd()}`,
    `- node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}`,
    `- CPUs: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown"} (availableParallelism ${os.availableParallelism()})`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    `- temp dir (SQLite file): ${os.tmpdir()} on ${fsTypeOf(os.tmpdir())}; write 4 KiB + fsync: ${fsyncText()}`,
    `- ${options.sharing}`,
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
  /** First column: the adapter (bench-cell) or the path (bench-router). */
  adapter: string;
  result: ScenarioResult;
  resolution?: ResolutionStats;
  /** % of one core during the scenario by process name ("self" = this process, the load generator). */
  cpu?: Record<string, number | undefined>;
  /** The measured server's resident memory at the end of the scenario. */
  memory?: Memory | undefined;
  /** SQLite group commits during the scenario (from the cell's /metrics). */
  commits?: CommitFigures;
}

const pct = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));

export interface ScenarioTableOptions {
  /** Header of the first column. */
  first: string;
  /** Processes of the CPU column, in order (keys of ScenarioRow.cpu), and how the header names them. */
  cpu: { key: string; label: string }[];
}

const CELL_TABLE: ScenarioTableOptions = {
  first: "adapter",
  cpu: [
    { key: "cell", label: "cell" },
    { key: "moto", label: "moto" },
    { key: "self", label: "load generator" },
  ],
};

export function scenarioTable(rows: ScenarioRow[], options: ScenarioTableOptions = CELL_TABLE): string {
  return table(
    [
      options.first,
      "scenario",
      "req/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "responses",
      "non-2xx",
      "errors",
      "timeouts",
      `CPU % ${options.cpu.map((c) => c.label).join(" / ")}`,
      "non-2xx by status",
    ],
    rows.map(({ adapter, result: r, cpu }) => [
      adapter,
      r.name,
      fixed(r.rps),
      fixed(r.p50, 1),
      fixed(r.p99, 1),
      fixed(r.max, 1),
      String(r.responses),
      String(r.non2xx),
      String(r.errors),
      String(r.timeouts),
      cpu ? options.cpu.map((c) => pct(cpu[c.key])).join(" / ") : "-",
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

export interface OverheadRow {
  scenario: string;
  direct: ScenarioRow;
  router: ScenarioRow;
  /** How many times the pair was measured (repeated when other processes disturbed it). */
  attempts?: number;
}

/** CPU time per response in µs, from % of one core and responses per second. */
const cpuPerRequest = (percent: number | undefined, rps: number) =>
  percent === undefined || rps <= 0 ? Number.NaN : (percent * 1e4) / rps;

const signed = (n: number, digits: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(digits)}` : "-");

/**
 * The same scenario direct against the cell and through the router: latency and throughput of
 * both, what the router adds, and the CPU each process spends per response. "mean ms" is
 * connections / throughput (Little's law for a closed loop), which has sub-millisecond resolution
 * where the percentiles (HDR, 3 significant digits) are printed to 0.1 ms.
 */
export function overheadTable(
  rows: OverheadRow[],
  keys: { cell: string; router: string },
  otherLimit = Number.POSITIVE_INFINITY,
): string {
  return table(
    [
      "scenario",
      "conns",
      "direct req/s",
      "p50 ms",
      "p99 ms",
      "via router req/s",
      "p50 ms",
      "p99 ms",
      "added p50 ms",
      "added p99 ms",
      "added mean ms",
      "throughput router/direct",
      "CPU µs/req direct: cell",
      "CPU µs/req via router: router + cell",
      "other CPU % direct / router",
      "attempts",
    ],
    rows.map(({ scenario, direct, router, attempts }) => {
      const d = direct.result;
      const r = router.result;
      const meanMs = (x: ScenarioResult) => (x.rps > 0 ? (1000 * x.connections) / x.rps : Number.NaN);
      const routerCpu = cpuPerRequest(router.cpu?.[keys.router], r.rps);
      const cellViaRouter = cpuPerRequest(router.cpu?.[keys.cell], r.rps);
      return [
        scenario,
        String(d.connections),
        fixed(d.rps),
        fixed(d.p50, 1),
        fixed(d.p99, 1),
        fixed(r.rps),
        fixed(r.p50, 1),
        fixed(r.p99, 1),
        signed(r.p50 - d.p50, 0),
        signed(r.p99 - d.p99, 0),
        signed(meanMs(r) - meanMs(d), 2),
        fixed(r.rps / d.rps, 2),
        fixed(cpuPerRequest(direct.cpu?.[keys.cell], d.rps), 0),
        `${fixed(routerCpu, 0)} + ${fixed(cellViaRouter, 0)}`,
        `${pct(direct.cpu?.other)} / ${pct(router.cpu?.other)}${
          Math.max(direct.cpu?.other ?? 0, router.cpu?.other ?? 0) > otherLimit ? " *" : ""
        }`,
        String(attempts ?? 1),
      ];
    }),
    [false, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true],
  );
}
