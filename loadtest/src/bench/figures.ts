import type { CommitFigures } from "./cell-metrics.js";
import type { MeasuredKind } from "./dynamo-inprocess.js";
import { type ScenarioRow, table } from "./report.js";
import { cpuMicrosPerOp } from "./resources.js";

/**
 * Derived figures of the benchmarks for `--json` and the targets of issue #15: CPU µs per operation,
 * resident memory, and throughput as a ratio to the framework ceiling measured in the same run (only
 * ratios hold on a machine shared with other work).
 */

export interface ScenarioFigures {
  /** What was measured: a store adapter, "ceiling", "direct" or "via router". */
  target: string;
  scenario: string;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  responses: number;
  non2xx: number;
  errors: number;
  /** % of one core of the measured server process. */
  cpuPercent: number | null;
  /** CPU time of the measured server per response, µs. */
  cpuMicrosPerOp: number | null;
  rssMb: number | null;
  peakRssMb: number | null;
  /** SQLite group commits of the scenario (bench:cell, sqlite). */
  groupCommits?: CommitFigures;
  /** rps / the same run's bare-hono JSON POST rate (the issue's measure), for the 32-connection scenarios. */
  ratioToCeilingPost?: number;
  /** rps / the same run's bare-hono JSON GET rate. */
  ratioToCeilingGet?: number;
}

const orNull = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : n);

/** The figures of one row; `server` is the key of the measured process in row.cpu. */
export function scenarioFigures(row: ScenarioRow, server: string, ceiling?: Ceiling): ScenarioFigures {
  const r = row.result;
  const figures: ScenarioFigures = {
    target: row.adapter,
    scenario: r.name,
    connections: r.connections,
    rps: r.rps,
    p50Ms: r.p50,
    p99Ms: r.p99,
    maxMs: r.max,
    responses: r.responses,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuPercent: orNull(row.cpu?.[server]),
    cpuMicrosPerOp: orNull(cpuMicrosPerOp(row.cpu?.[server], r.rps)),
    rssMb: orNull(row.memory?.rssMb),
    peakRssMb: orNull(row.memory?.peakRssMb),
    ...(row.commits ? { groupCommits: row.commits } : {}),
  };
  if (ceiling && ceiling.connections === r.connections) {
    if (ceiling.postRps > 0) figures.ratioToCeilingPost = r.rps / ceiling.postRps;
    if (ceiling.getRps > 0) figures.ratioToCeilingGet = r.rps / ceiling.getRps;
  }
  return figures;
}

/** The framework ceiling of a run: mean of its measurements (before and after the measured server). */
export interface Ceiling {
  connections: number;
  postRps: number;
  getRps: number;
  /** Every measurement, so the spread (what the shared machine did meanwhile) is visible. */
  postRuns: number[];
  getRuns: number[];
}

export function ceilingOf(rows: ScenarioRow[], postName: string, getName: string): Ceiling | undefined {
  const posts = rows.filter((r) => r.result.name === postName).map((r) => r.result.rps);
  const gets = rows.filter((r) => r.result.name === getName).map((r) => r.result.rps);
  if (posts.length === 0) return undefined;
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    connections: rows[0]?.result.connections ?? 0,
    postRps: mean(posts),
    getRps: mean(gets),
    postRuns: posts,
    getRuns: gets,
  };
}

export interface TargetCheck {
  target: string;
  /** The required value as text, e.g. "≥ 0.30". */
  required: string;
  measured: number | null;
  unit: string;
  met: boolean;
}

const check = (target: string, measured: number | undefined | null, op: "≥" | "≤", bound: number, unit = "") => ({
  target,
  required: `${op} ${bound}${unit ? ` ${unit}` : ""}`,
  measured: measured ?? null,
  unit,
  met: measured !== undefined && measured !== null && (op === "≥" ? measured >= bound : measured <= bound),
});

/** Issue #15 target 1 (and 4): the cell on the embedded store, at the run's connections. */
export function cellTargets(figures: ScenarioFigures[], connections: number): TargetCheck[] {
  const at = (scenario: string) => figures.find((f) => f.scenario === scenario && f.connections === connections);
  const deposit = at("deposit");
  const transfer = at("transfer (same cell)");
  const get = at("GET wallet");
  const checks: TargetCheck[] = [
    check("deposits / ceiling POST", deposit?.ratioToCeilingPost, "≥", 0.3),
    check("same-cell transfers / ceiling POST", transfer?.ratioToCeilingPost, "≥", 0.25),
    check("GET wallet / ceiling POST", get?.ratioToCeilingPost, "≥", 0.5),
  ];
  for (const f of [deposit, transfer, get]) {
    if (f) checks.push(check(`p99 ${f.scenario}`, f.p99Ms, "≤", 50, "ms"));
  }
  const peak = Math.max(...figures.map((f) => f.peakRssMb ?? 0));
  checks.push(check("cell peak RSS", peak > 0 ? peak : null, "≤", 150, "MB"));
  return checks;
}

/** Issue #15 target 3: DynamoDB round trips and estimated WCU per API operation. */
export function dynamoTargets(kinds: DynamoFigures[]): TargetCheck[] {
  const of = (label: string) => kinds.find((k) => k.operation === label);
  return [
    check("DynamoDB calls per deposit", of("deposit")?.callsPerOp, "≤", 2),
    check("DynamoDB calls per same-cell transfer", of("transfer")?.callsPerOp, "≤", 3),
    check("DynamoDB calls per idempotent replay", of("deposit, replayed (same key)")?.callsPerOp, "≤", 1),
    check("DynamoDB calls per GET wallet", of("GET wallet")?.callsPerOp, "≤", 1),
    check("estimated WCU per deposit", of("deposit")?.wcuPerOp, "≤", 7),
    check("estimated WCU per transfer", of("transfer")?.wcuPerOp, "≤", 14),
  ];
}

export interface DynamoFigures {
  operation: string;
  operations: number;
  succeeded: number;
  /** DynamoDB calls per API operation (DescribeTable excluded), by DynamoDB operation. */
  callsByOperation: Record<string, number>;
  callsPerOp: number;
  /** Capacity moto reported (ReturnConsumedCapacity) per API operation. */
  reportedUnitsPerOp: number;
  estimatedRcuPerOp: number;
  wcuPerOp: number;
  cancelledPerOp: number;
}

export function dynamoFigures(kinds: MeasuredKind[]): DynamoFigures[] {
  return kinds.map((k) => {
    const n = Math.max(k.operations, 1);
    const total = k.tally.total();
    const describe = k.tally.byOperation.get("DescribeTable")?.calls ?? 0;
    const callsByOperation: Record<string, number> = {};
    for (const [name, t] of k.tally.byOperation) if (name !== "DescribeTable") callsByOperation[name] = t.calls / n;
    return {
      operation: k.label,
      operations: k.operations,
      succeeded: k.succeeded,
      callsByOperation,
      callsPerOp: (total.calls - describe) / n,
      reportedUnitsPerOp: total.reportedUnits / n,
      estimatedRcuPerOp: total.rcu / n,
      wcuPerOp: total.wcu / n,
      cancelledPerOp: total.failed / n,
    };
  });
}

const fmt = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);

/** The figures as a Markdown table. */
export function figuresTable(figures: ScenarioFigures[]): string {
  return table(
    [
      "target",
      "scenario",
      "conns",
      "req/s",
      "/ ceiling POST",
      "/ ceiling GET",
      "p50 ms",
      "p99 ms",
      "CPU %",
      "CPU µs/op",
      "RSS MB (peak)",
    ],
    figures.map((f) => [
      f.target,
      f.scenario,
      String(f.connections),
      fmt(f.rps, 1),
      fmt(f.ratioToCeilingPost),
      fmt(f.ratioToCeilingGet),
      fmt(f.p50Ms, 1),
      fmt(f.p99Ms, 1),
      fmt(f.cpuPercent, 0),
      fmt(f.cpuMicrosPerOp, 0),
      f.rssMb === null ? "-" : `${f.rssMb.toFixed(0)} (${fmt(f.peakRssMb, 0)})`,
    ]),
    [false, false, true, true, true, true, true, true, true, true, true],
  );
}

export function targetsTable(checks: TargetCheck[]): string {
  return table(
    ["target (issue #15)", "required", "measured", "met"],
    checks.map((c) => [
      c.target,
      c.required,
      c.measured === null ? "-" : `${fmt(c.measured)}${c.unit ? ` ${c.unit}` : ""}`,
      c.met ? "yes" : "NO",
    ]),
    [false, true, true, false],
  );
}

/** What every benchmark's JSON document starts with: which benchmark, when, how it was run, on which Node. */
export function runInfo(
  benchmark: string,
  options: { duration: number; connections: number; wallets: number; seed: number },
): Record<string, unknown> {
  return {
    benchmark,
    date: new Date().toISOString(),
    command: process.argv.slice(1).join(" "),
    node: process.version,
    settings: {
      durationS: options.duration,
      connections: options.connections,
      wallets: options.wallets,
      seed: options.seed,
    },
  };
}
