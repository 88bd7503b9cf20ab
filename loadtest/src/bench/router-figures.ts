import type { RouterBenchOptions } from "./args.js";
import { CEILING_GET, CEILING_POST } from "./ceiling.js";
import { ceilingOf, figuresTable, runInfo, scenarioFigures, type TargetCheck, targetsTable } from "./figures.js";
import { type OverheadRow, type ScenarioRow, table } from "./report.js";
import { cpuMicrosPerOp } from "./resources.js";

/** bench-router's derived figures, the #15 router targets and its `--json` document. */

export interface RouterPairFigures {
  scenario: string;
  connections: number;
  directRps: number;
  routerRps: number;
  /** via-router throughput / direct throughput. */
  throughputRatio: number;
  directP50Ms: number;
  routerP50Ms: number;
  addedP50Ms: number;
  addedP99Ms: number;
  /** The router's CPU per forwarded request, µs. */
  routerCpuMicrosPerOp: number | null;
  /** The cell's CPU per request in the same (via-router) run, µs. */
  cellCpuMicrosPerOp: number | null;
  /** The cell's CPU per request when called directly, µs. */
  cellDirectCpuMicrosPerOp: number | null;
  /** routerCpuMicrosPerOp / cellCpuMicrosPerOp. */
  routerCpuShare: number | null;
  routerRssMb: number | null;
  routerPeakRssMb: number | null;
}

const orNull = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : n);

export function pairFigures(pair: OverheadRow, keys: { cell: string; router: string }): RouterPairFigures {
  const d = pair.direct.result;
  const r = pair.router.result;
  const routerCpu = cpuMicrosPerOp(pair.router.cpu?.[keys.router], r.rps);
  const cellCpu = cpuMicrosPerOp(pair.router.cpu?.[keys.cell], r.rps);
  return {
    scenario: pair.scenario,
    connections: d.connections,
    directRps: d.rps,
    routerRps: r.rps,
    throughputRatio: d.rps > 0 ? r.rps / d.rps : Number.NaN,
    directP50Ms: d.p50,
    routerP50Ms: r.p50,
    addedP50Ms: r.p50 - d.p50,
    addedP99Ms: r.p99 - d.p99,
    routerCpuMicrosPerOp: orNull(routerCpu),
    cellCpuMicrosPerOp: orNull(cellCpu),
    cellDirectCpuMicrosPerOp: orNull(cpuMicrosPerOp(pair.direct.cpu?.[keys.cell], d.rps)),
    routerCpuShare: routerCpu !== undefined && cellCpu !== undefined && cellCpu > 0 ? routerCpu / cellCpu : null,
    routerRssMb: orNull(pair.router.memory?.rssMb),
    routerPeakRssMb: orNull(pair.router.memory?.peakRssMb),
  };
}

/** Issue #15 target 2. */
export function routerTargets(pairs: RouterPairFigures[], connections: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, measured: number | null, op: "≥" | "≤", bound: number, unit = "") =>
    checks.push({
      target,
      required: `${op} ${bound}${unit ? ` ${unit}` : ""}`,
      measured,
      unit,
      met: measured !== null && Number.isFinite(measured) && (op === "≥" ? measured >= bound : measured <= bound),
    });
  for (const p of pairs) {
    add(`router CPU / cell CPU per request: ${p.scenario}`, p.routerCpuShare, "≤", 0.25);
    if (p.connections === connections)
      add(`throughput via router / direct: ${p.scenario}`, p.throughputRatio, "≥", 0.9);
    if (p.connections === 1) add(`added p50 at 1 connection: ${p.scenario}`, p.addedP50Ms, "≤", 1, "ms");
  }
  return checks;
}

const fmt = (n: number | null, digits = 2) => (n === null || !Number.isFinite(n) ? "-" : n.toFixed(digits));

export function pairTable(pairs: RouterPairFigures[]): string {
  return table(
    [
      "scenario",
      "conns",
      "direct req/s",
      "via router req/s",
      "router/direct",
      "added p50 ms",
      "CPU µs/req router",
      "cell (via router)",
      "cell (direct)",
      "router/cell CPU",
      "router RSS MB (peak)",
    ],
    pairs.map((p) => [
      p.scenario,
      String(p.connections),
      fmt(p.directRps, 1),
      fmt(p.routerRps, 1),
      fmt(p.throughputRatio),
      fmt(p.addedP50Ms),
      fmt(p.routerCpuMicrosPerOp, 0),
      fmt(p.cellCpuMicrosPerOp, 0),
      fmt(p.cellDirectCpuMicrosPerOp, 0),
      fmt(p.routerCpuShare),
      p.routerRssMb === null ? "-" : `${p.routerRssMb.toFixed(0)} (${fmt(p.routerPeakRssMb, 0)})`,
    ]),
    [false, true, true, true, true, true, true, true, true, true, true],
  );
}

export function routerReport(
  pairs: OverheadRow[],
  keys: { cell: string; router: string },
  ceilingRows: ScenarioRow[],
  options: RouterBenchOptions,
): { json: unknown; markdown: string } {
  const ceiling = ceilingOf(ceilingRows, CEILING_POST, CEILING_GET);
  const figures = pairs.map((p) => pairFigures(p, keys));
  const ceilingFigures = ceilingRows.map((row) => scenarioFigures(row, "cell", ceiling));
  // The cell and the router as ratios to the framework ceiling of this run (same connections).
  const vsCeiling = pairs.flatMap((p) => [
    scenarioFigures(p.direct, keys.cell, ceiling),
    { ...scenarioFigures(p.router, keys.router, ceiling) },
  ]);
  const targets = routerTargets(figures, options.connections);
  const markdown = [
    "\n## Figures (router targets of issue #15; ratios measured in this run)\n",
    pairTable(figures),
    "",
    figuresTable([...ceilingFigures, ...vsCeiling]),
    "\n(in the second table the CPU of a direct row is the cell's, of a via-router row the router's)\n",
    targetsTable(targets),
  ].join("\n");
  const json = {
    ...runInfo("bench:router", options),
    ceiling,
    ceilingFigures,
    pairs: figures,
    vsCeiling,
    targets,
  };
  return { json, markdown };
}
