import { Command } from "commander";
import { type EvacuationChange, planEvacuation, planRestore, withWeight } from "../placement/cell-operations.js";
import type { CellRecord, PlacementStore } from "../placement/placement-store.js";
import { openOperatorLogFromEnv, openPlacementStoreFromEnv, operatorName } from "./cli-env.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";

/** The weight each cell's endpoint in `az` had before its latest recorded evacuation (from the operator audit trail). */
async function weightsBeforeEvacuation(env: NodeJS.ProcessEnv, az: string): Promise<Map<string, number>> {
  const weights = new Map<string, number>();
  const log = openOperatorLogFromEnv(env);
  try {
    for await (const record of log.stream()) {
      if (record.action !== "az.evacuate") continue;
      const changes = (record.details as { changes?: EvacuationChange[] }).changes;
      if (!Array.isArray(changes)) continue;
      for (const c of changes) {
        if (c.az === az && typeof c.cellId === "string" && typeof c.from === "number" && c.from > 0) {
          weights.set(c.cellId, c.from);
        }
      }
    }
  } finally {
    await log.close();
  }
  return weights;
}

async function targetCells(store: PlacementStore, az: string, cellId: string | undefined, command: Command) {
  const all = await store.listCells();
  const cells = cellId ? all.filter((c) => c.cellId === cellId) : all;
  if (cellId && cells.length === 0) command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
  if (!cells.some((c) => c.state !== "retired" && c.endpoints.some((e) => e.az === az))) {
    command.error(`cellctl: no ${cellId ? `endpoint of ${cellId}` : "cell has an endpoint"} in ${az}`, {
      exitCode: EXIT_USAGE,
    });
  }
  return cells;
}

async function applyChanges(store: PlacementStore, cells: CellRecord[], changes: EvacuationChange[]): Promise<void> {
  const byId = new Map(cells.map((c) => [c.cellId, c]));
  for (const change of changes) {
    // Re-read just before writing so a concurrent state change (cordon) is not undone.
    const current = (await store.getCell(change.cellId)) ?? byId.get(change.cellId);
    if (!current) throw new Error(`cell ${change.cellId} disappeared`);
    await store.putCell(withWeight(current, change.az, change.to));
  }
}

function report(verb: string, az: string, changes: EvacuationChange[], unchanged: string[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ az, action: verb, changes, unchanged }, null, 2)}\n`);
    return;
  }
  const lines = ["CELL                 AZ         WEIGHT"];
  for (const c of changes) lines.push(`${c.cellId.padEnd(20)} ${c.az.padEnd(10)} ${c.from} -> ${c.to}`);
  for (const id of unchanged) lines.push(`${id.padEnd(20)} ${az.padEnd(10)} unchanged (already ${verb}d)`);
  lines.push(
    changes.length > 0
      ? `${verb}d ${az} in ${changes.length} cell(s); routers apply it on their next registry refresh (ROUTER_REGISTRY_REFRESH_MS)`
      : `nothing to do: ${az} is already ${verb}d`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

function evacuateCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("evacuate")
    .description("Shift traffic away from an AZ: set its endpoint weight to 0 in every (or one) cell")
    .argument("<az>")
    .option("--cell <cellId>", "only this cell")
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the changes as JSON")
    .addHelpText(
      "after",
      `
Driver: router weights in the placement registry. Routers re-read the registry every
ROUTER_REGISTRY_REFRESH_MS and never send to a weight-0 endpoint, so this needs nothing
from the failing AZ. Refused as a whole (nothing changed) if a cell would be left with
no AZ in service. The previous weights are kept in the operator audit trail for restore.

Exit status: 0 evacuated (or already), 1 refused, 2 usage, unknown cell/AZ or not confirmed.

Examples:
  $ cellctl az evacuate az-1 --yes
  $ cellctl az evacuate az-2 --cell cell-1 --yes --json`,
    )
    .action(async (az: string, options: { cell?: string; yes?: boolean; json?: boolean }, command: Command) => {
      const store = openPlacementStoreFromEnv(env);
      try {
        const cells = await targetCells(store, az, options.cell, command);
        const plan = planEvacuation(cells, az);
        if (!plan.ok) {
          return command.error(`cellctl: refusing to evacuate ${az}:\n  ${plan.refusals.join("\n  ")}`, {
            exitCode: EXIT_REFUSED,
          });
        }
        if (plan.changes.length > 0) {
          await confirmOrExit(
            command,
            options.yes,
            `Evacuate ${az} in ${plan.changes.map((c) => c.cellId).join(", ")} (its replicas get no more traffic)?`,
          );
          await recordThenApply(
            env,
            command,
            {
              actor: operatorName(env),
              action: "az.evacuate",
              target: az,
              details: { driver: "router-weights", cell: options.cell ?? "all", changes: plan.changes },
            },
            () => applyChanges(store, cells, plan.changes),
          );
        }
        report("evacuate", az, plan.changes, plan.unchanged, Boolean(options.json));
      } finally {
        await store.close();
      }
    });
}

function restoreCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("restore")
    .description("Send traffic back to an evacuated AZ: give its endpoints their weight back")
    .argument("<az>")
    .option("--cell <cellId>", "only this cell")
    .option("--weight <w>", "weight to set (default: the weight before the last evacuation, else 1)", (v) => Number(v))
    .option("--json", "print the changes as JSON")
    .addHelpText(
      "after",
      `
Exit status: 0 restored (or nothing evacuated), 1 the change could not be recorded or written,
2 usage or unknown cell/AZ.

Examples:
  $ cellctl az restore az-1
  $ cellctl az restore az-1 --cell cell-2 --weight 2`,
    )
    .action(async (az: string, options: { cell?: string; weight?: number; json?: boolean }, command: Command) => {
      if (options.weight !== undefined && !(Number.isFinite(options.weight) && options.weight > 0)) {
        command.error("cellctl: --weight must be a positive number", { exitCode: EXIT_USAGE });
      }
      const store = openPlacementStoreFromEnv(env);
      try {
        const cells = await targetCells(store, az, options.cell, command);
        const previous = await weightsBeforeEvacuation(env, az);
        const plan = planRestore(cells, az, (id) => previous.get(id), options.weight);
        if (plan.changes.length > 0) {
          await recordThenApply(
            env,
            command,
            {
              actor: operatorName(env),
              action: "az.restore",
              target: az,
              details: { driver: "router-weights", cell: options.cell ?? "all", changes: plan.changes },
            },
            () => applyChanges(store, cells, plan.changes),
          );
        }
        report("restore", az, plan.changes, plan.unchanged, Boolean(options.json));
      } finally {
        await store.close();
      }
    });
}

/** `cellctl az evacuate | restore`: AZ traffic shifts through the routers' weights. */
export function azCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("az")
    .description("Evacuate an AZ (shift traffic away within seconds) and restore it")
    .addCommand(evacuateCommand(env))
    .addCommand(restoreCommand(env))
    .addHelpText(
      "after",
      `
Examples:
  $ cellctl az evacuate az-1 --yes
  $ cellctl az restore az-1`,
    );
}
