import type { CellEndpoint, CellRecord } from "@cellwallet/placement";
import { DEFAULT_OPS_THRESHOLD, opsHeadroomPercent } from "@cellwallet/placement";
import { Command } from "commander";
import { operatorName, withPlacementStore } from "./cli-env.js";
import { positiveInt } from "./cli-options.js";
import { EXIT_USAGE, recordThenApply } from "./operator-prompt.js";
import { printJson } from "./output.js";

/**
 * A cell's measured capacity in the registry (`cellctl cells set-capacity`) and
 * how `cells list` / `cells describe` show current ops/s against it. The current
 * rate is sampled from the cell replicas' own /metrics (wallet operations counted
 * over --sample-ms, all AZs summed), the same figure describe's "Load" shows.
 */

export interface CapacityView {
  maxOpsPerSecond: number | null;
  opsPerSecond: number | null;
  /** Spare share of maxOpsPerSecond, in %; null when either is unknown. */
  headroomPercent: number | null;
  /** True when onboarding's policy skips the cell (above the default threshold). */
  aboveThreshold: boolean;
}

export function capacityView(cell: CellRecord, opsPerSecond: number | null): CapacityView {
  const max = cell.maxOpsPerSecond ?? null;
  const headroom = opsHeadroomPercent(cell, opsPerSecond);
  return {
    maxOpsPerSecond: max,
    opsPerSecond,
    headroomPercent: headroom,
    aboveThreshold: max !== null && opsPerSecond !== null && opsPerSecond > DEFAULT_OPS_THRESHOLD * max,
  };
}

/** One line: "1200 ops/s measured, 230 now, headroom 80.8% (no new users above 80%)". */
export function capacityText(view: CapacityView): string {
  if (view.maxOpsPerSecond === null)
    return `not measured (cellload capacity, then cellctl cells set-capacity)${view.opsPerSecond === null ? "" : `; ${view.opsPerSecond} ops/s now`}`;
  const now =
    view.opsPerSecond === null
      ? "current rate unknown"
      : `${view.opsPerSecond} now, headroom ${view.headroomPercent?.toFixed(1)}%`;
  const warn = view.aboveThreshold ? " — ABOVE the onboarding threshold, no new users" : "";
  return `${view.maxOpsPerSecond} ops/s measured, ${now} (no new users above ${Math.round(DEFAULT_OPS_THRESHOLD * 100)}%)${warn}`;
}

/** `cells list`: a capacity line per cell with a measured capacity, sampled in parallel. */
export async function listCapacityLines(
  cells: readonly CellRecord[],
  sample: (endpoints: readonly CellEndpoint[]) => Promise<number | null>,
): Promise<{ lines: string[]; views: Record<string, CapacityView> }> {
  const measured = cells.filter((c) => c.maxOpsPerSecond !== undefined);
  const rates = await Promise.all(measured.map((c) => sample(c.endpoints)));
  const views: Record<string, CapacityView> = {};
  const lines: string[] = [];
  measured.forEach((cell, i) => {
    const view = capacityView(cell, rates[i] ?? null);
    views[cell.cellId] = view;
    lines.push(`${cell.cellId.padEnd(20)} capacity: ${capacityText(view)}`);
  });
  return { lines, views };
}

export function setCapacityCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("set-capacity")
    .description("Record a cell's measured capacity (wallet ops/s within its SLO, from cellload capacity)")
    .argument("<cellId>")
    .option("--max-tps <n>", "operations per second the cell held within its SLO (a positive integer)", positiveInt)
    .option("--clear", "forget the measured capacity")
    .option("--json", "print the resulting record as JSON")
    .addHelpText(
      "after",
      `
Onboarding places no new user in a cell running above ${Math.round(DEFAULT_OPS_THRESHOLD * 100)}% of it (routers:
ROUTER_PLACEMENT_OPS_THRESHOLD); routers export it as cellwallet_router_cell_capacity_ops_per_second.
The method: docs/capacity.md.

Exit status: 0 recorded, 1 the change could not be recorded or written, 2 usage or unknown cell.

Examples:
  $ cellload capacity --target http://127.0.0.1:8080 --cell cell-1 --slo 'p(99)<100'
  $ cellctl cells set-capacity cell-1 --max-tps 1200
  $ cellctl cells set-capacity cell-1 --clear`,
    )
    .action(async (cellId: string, options: { maxTps?: number; clear?: boolean; json?: boolean }, command: Command) => {
      if ((options.maxTps === undefined) === (options.clear !== true)) {
        command.error("cellctl: give either --max-tps <n> or --clear", { exitCode: EXIT_USAGE });
      }
      const maxTps = options.maxTps;
      await withPlacementStore(env, async (store) => {
        const existing = await store.getCell(cellId);
        if (!existing) return command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
        const written = await recordThenApply(
          env,
          command,
          {
            actor: operatorName(env),
            action: "cell.set-capacity",
            target: cellId,
            details: { before: existing.maxOpsPerSecond ?? null, after: maxTps ?? null },
          },
          () => store.setCellMaxOpsPerSecond(cellId, maxTps),
        );
        if (!written) return command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
        if (options.json) printJson({ cell: written });
        else
          process.stdout.write(
            maxTps === undefined
              ? `${cellId}: measured capacity cleared\n`
              : `${cellId}: measured capacity ${maxTps} ops/s (was ${existing.maxOpsPerSecond ?? "not measured"})\n`,
          );
      });
    });
}
