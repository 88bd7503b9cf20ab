import type { AdapterName, BenchOptions } from "./args.js";
import { CEILING_GET, CEILING_POST, measureRunningCeiling, startCeilingProcess } from "./ceiling.js";
import type { InProcessReport } from "./dynamo-inprocess.js";
import {
  type Ceiling,
  ceilingOf,
  cellTargets,
  dynamoFigures,
  dynamoTargets,
  figuresTable,
  runInfo,
  type ScenarioFigures,
  scenarioFigures,
  type TargetCheck,
  targetsTable,
} from "./figures.js";
import type { Verification } from "./fixtures.js";
import { type ScenarioRow, scenarioTable } from "./report.js";

/**
 * bench-cell's ceiling runs and its `--json` document. The ceiling (bare hono, ceiling.ts) is measured
 * right before and right after an adapter's scenarios, at the same connections and duration; ratios
 * are to the mean of the two, and both are printed so the drift of the shared machine shows.
 */
export async function measureCeilingAround(
  options: BenchOptions,
  token: string,
  log: (text?: string) => void,
  work: () => Promise<void>,
): Promise<ScenarioRow[]> {
  const ceiling = await startCeilingProcess();
  try {
    const measure = async (when: string) => {
      const rows = await measureRunningCeiling(ceiling, options, token, log, when);
      log(scenarioTable(rows));
      return rows;
    };
    const before = await measure("before");
    await work();
    const after = await measure("after");
    return [...before, ...after];
  } finally {
    await ceiling.stop();
  }
}

interface Outcome {
  adapter: AdapterName;
  rows: ScenarioRow[];
  verification: Verification;
  inProcess?: InProcessReport;
  ceilingRows: ScenarioRow[];
}

export function cellJsonReport(
  outcomes: Outcome[],
  options: BenchOptions,
  pass: boolean,
): { json: unknown; markdown: string } {
  const adapters = outcomes.map((o) => {
    const ceiling: Ceiling | undefined = ceilingOf(o.ceilingRows, CEILING_POST, CEILING_GET);
    const figures: ScenarioFigures[] = o.rows.map((row) => scenarioFigures(row, "cell", ceiling));
    const ceilingFigures = o.ceilingRows.map((row) => scenarioFigures(row, "cell", ceiling));
    const dynamo = o.inProcess ? dynamoFigures(o.inProcess.kinds) : undefined;
    const targets: TargetCheck[] = [
      ...(o.adapter === "sqlite" ? cellTargets(figures, options.connections) : []),
      ...(dynamo ? dynamoTargets(dynamo) : []),
    ];
    return { adapter: o.adapter, ceiling, figures, ceilingFigures, dynamo, targets, invariants: o.verification.pass };
  });
  const markdown = adapters
    .map((a) =>
      [
        `\n## Figures: ${a.adapter} (ratios to the framework ceiling measured in this run)\n`,
        figuresTable([...a.ceilingFigures, ...a.figures]),
        a.ceiling
          ? `\nceiling POST runs ${a.ceiling.postRuns.map((r) => r.toFixed(0)).join(" / ")} req/s, ` +
            `GET runs ${a.ceiling.getRuns.map((r) => r.toFixed(0)).join(" / ")} req/s (ratios use the means)`
          : "",
        a.targets.length > 0 ? `\n${targetsTable(a.targets)}` : "",
      ].join("\n"),
    )
    .join("\n");
  const json = {
    ...runInfo("bench:cell", options),
    adapters,
    pass,
  };
  return { json, markdown };
}
