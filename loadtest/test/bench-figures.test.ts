import { describe, expect, it } from "vitest";
import { CEILING_GET, CEILING_POST } from "../src/bench/ceiling.js";
import { ceilingOf, cellTargets, type ScenarioFigures, scenarioFigures } from "../src/bench/figures.js";
import type { ScenarioRow } from "../src/bench/report.js";
import { routerTargets } from "../src/bench/router-figures.js";

/** The arithmetic behind the benchmarks' ratios, CPU per operation and targets (issue #15). */

function row(name: string, rps: number, cpuPercent: number, connections = 32, p99 = 10): ScenarioRow {
  return {
    adapter: "sqlite",
    result: {
      name,
      durationS: 1,
      connections,
      rps,
      responses: rps,
      p50: 1,
      p99,
      max: p99,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      problems: new Map(),
      serverErrors: [],
    },
    cpu: { cell: cpuPercent },
    memory: { rssMb: 120, peakRssMb: 140 },
  };
}

describe("benchmark figures", () => {
  const ceiling = ceilingOf(
    [row(CEILING_POST, 10_000, 30), row(CEILING_GET, 20_000, 30), row(CEILING_POST, 12_000, 30)],
    CEILING_POST,
    CEILING_GET,
  );

  it("takes the ceiling as the mean of its runs and keeps every run", () => {
    expect(ceiling).toMatchObject({ connections: 32, postRps: 11_000, getRps: 20_000, postRuns: [10_000, 12_000] });
  });

  it("gives CPU µs per operation and ratios to the ceiling at the same connections only", () => {
    const deposit = scenarioFigures(row("deposit", 2_200, 66), "cell", ceiling);
    expect(deposit.cpuMicrosPerOp).toBeCloseTo(300, 6); // 66 % of a core / 2,200 per second
    expect(deposit.ratioToCeilingPost).toBeCloseTo(0.2, 6);
    expect(deposit.ratioToCeilingGet).toBeCloseTo(0.11, 6);
    expect(deposit.peakRssMb).toBe(140);
    const single = scenarioFigures(row("deposit, 1 connection", 500, 50, 1), "cell", ceiling);
    expect(single.ratioToCeilingPost).toBeUndefined();
  });

  it("checks the cell targets against the figures", () => {
    const figures: ScenarioFigures[] = [
      scenarioFigures(row("deposit", 3_300, 50), "cell", ceiling),
      scenarioFigures(row("transfer (same cell)", 2_000, 50, 32, 60), "cell", ceiling),
      scenarioFigures(row("GET wallet", 5_500, 50), "cell", ceiling),
    ];
    const met = Object.fromEntries(cellTargets(figures, 32).map((t) => [t.target, t.met]));
    expect(met).toEqual({
      "deposits / ceiling POST": true, // 0.30
      "same-cell transfers / ceiling POST": false, // 0.18
      "GET wallet / ceiling POST": true, // 0.50
      "p99 deposit": true,
      "p99 transfer (same cell)": false, // 60 ms
      "p99 GET wallet": true,
      "cell peak RSS": true,
    });
  });

  it("checks the router targets: CPU share, throughput ratio at the run's connections, added p50 at one", () => {
    const pair = {
      scenario: "GET wallet",
      connections: 32,
      directRps: 1000,
      routerRps: 950,
      throughputRatio: 0.95,
      directP50Ms: 1,
      routerP50Ms: 2,
      addedP50Ms: 1,
      addedP99Ms: 3,
      routerCpuMicrosPerOp: 30,
      cellCpuMicrosPerOp: 100,
      cellDirectCpuMicrosPerOp: 100,
      routerCpuShare: 0.3,
      routerRssMb: 100,
      routerPeakRssMb: 110,
    };
    const checks = routerTargets([pair, { ...pair, scenario: "GET, 1 connection", connections: 1 }], 32);
    expect(checks.map((c) => [c.target, c.met])).toEqual([
      ["router CPU / cell CPU per request: GET wallet", false],
      ["throughput via router / direct: GET wallet", true],
      ["router CPU / cell CPU per request: GET, 1 connection", false],
      ["added p50 at 1 connection: GET, 1 connection", true],
    ]);
  });
});
