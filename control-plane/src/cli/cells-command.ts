import type { CellEndpoint, CellRecord, PlacementStore } from "@cellwallet/placement";
import { Command } from "commander";
import { probeReady, sampleLoad } from "../cells/cell-probes.js";
import { DEFAULT_AZ_HEADROOM, lifecycleTransition, staticStability } from "../placement/cell-operations.js";
import { capacityText, capacityView, listCapacityLines, setCapacityCommand } from "./cells-capacity-command.js";
import { cellsCreateCommand } from "./cells-create-command.js";
import { cellsMoveCommands } from "./cells-moves-command.js";
import { azSummary, cellsRegisterCommand } from "./cells-register-command.js";
import { operatorName, withPlacementStore } from "./cli-env.js";
import { nonNegativeInt, positiveInt, positiveNumber } from "./cli-options.js";
import { launcherSupervision } from "./launcher-status-lines.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";
import { printJson } from "./output.js";

function fillPercent(cell: CellRecord): number | null {
  return cell.capacity > 0 ? Math.round((1000 * cell.users) / cell.capacity) / 10 : null;
}

async function requireCell(store: PlacementStore, cellId: string, command: Command): Promise<CellRecord> {
  const cell = await store.getCell(cellId);
  if (!cell) return command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
  return cell;
}

function listCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("list")
    .description("List the registered cells: state, users/capacity, fill and AZ weights")
    .option("--json", "print the cells as JSON")
    .addHelpText(
      "after",
      `
Exit status: 0 listed (also when no cell is registered: "(no cells registered)"), 2 usage or the placement
registry cannot be opened or does not exist (a mistyped WALLET_DATA_DIR or PLACEMENT_SQLITE_PATH: nothing is
created).

Examples:
  $ cellctl cells list
  $ cellctl cells list --json`,
    )
    .action(async (options: { json?: boolean }) => {
      const cells = await withPlacementStore(env, (store) => store.listCells());
      // Cells with a measured capacity: current ops/s against it (one 500 ms /metrics sample, in parallel).
      const capacity = await listCapacityLines(cells, async (e) => (await sampleLoad(e, 500, 1000)).opsPerSecond);
      if (options.json) {
        const out = cells.map((c) => ({
          ...c,
          fillPercent: fillPercent(c),
          opsCapacity: capacity.views[c.cellId] ?? null,
        }));
        printJson({ cells: out });
        return;
      }
      const lines = ["CELL                 STATE      USERS/CAPACITY   FILL  AZS (weight)"];
      for (const c of cells) {
        const fill = fillPercent(c);
        lines.push(
          `${c.cellId.padEnd(20)} ${c.state.padEnd(10)} ${`${c.users}/${c.capacity}`.padStart(14)} ` +
            `${(fill === null ? "-" : `${fill.toFixed(1)}%`).padStart(6)}  ${azSummary(c)}`,
        );
      }
      if (cells.length === 0) lines.push("(no cells registered)");
      if (capacity.lines.length > 0) lines.push("", ...capacity.lines);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function describeCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("describe")
    .description("Show one cell: registry record, each AZ endpoint's live /ready, and whether it can lose an AZ")
    .argument("<cellId>")
    .option("--json", "print the description as JSON")
    .option("--timeout <ms>", "timeout of each /ready probe", positiveInt, 1000)
    .option(
      "--headroom <factor>",
      "spare capacity of each AZ as a multiple of its share",
      positiveNumber,
      DEFAULT_AZ_HEADROOM,
    )
    .option(
      "--sample-ms <ms>",
      "measure ops/s over this long from the replicas' /metrics (0: skip)",
      nonNegativeInt,
      500,
    )
    .addHelpText(
      "after",
      `
Static stability: losing the in-service AZ with the largest weight (w_max of total W) makes
the other in-service AZs carry W/(W-w_max) of their load (N equal AZs: N/(N-1)). The cell can
lose one AZ when at least 2 AZs are in service (weight > 0 and /ready) and that factor is
within --headroom (default ${DEFAULT_AZ_HEADROOM}: 3 AZs each provisioned for 150% of their share).
Where \`npm start\` runs (the same WALLET_DATA_DIR), the launcher's view of each process is
shown too: running, backoff, CRASH-LOOPING, restarts and the last unexpected exit.

Exit status: 0 described, 2 unknown cell.

Examples:
  $ cellctl cells describe cell-1
  $ cellctl cells describe cell-1 --json --timeout 500`,
    )
    .action(
      async (
        cellId: string,
        options: { json?: boolean; timeout: number; headroom: number; sampleMs: number },
        command: Command,
      ) => {
        if (!(options.headroom >= 1))
          command.error("cellctl: --headroom must be a number ≥ 1", { exitCode: EXIT_USAGE });
        if (!(Number.isInteger(options.sampleMs) && options.sampleMs >= 0))
          command.error("cellctl: --sample-ms must be a non-negative integer", { exitCode: EXIT_USAGE });
        const cell = await withPlacementStore(env, (store) => requireCell(store, cellId, command));
        const [probes, load] = await Promise.all([
          Promise.all(cell.endpoints.map((e) => probeReady(e.url, options.timeout))),
          options.sampleMs > 0 ? sampleLoad(cell.endpoints, options.sampleMs, options.timeout) : undefined,
        ]);
        const readyByUrl = new Map(cell.endpoints.map((e, i) => [e.url, probes[i]?.ready ?? false]));
        const stability = staticStability(
          cell.endpoints,
          (e: CellEndpoint) => readyByUrl.get(e.url) ?? false,
          options.headroom,
        );
        const launcher = launcherSupervision(env, cellId);
        const verdict = `can lose one AZ: ${stability.canLoseOneAz ? "yes" : "no"} (${stability.inService} of ${stability.total} AZs in service)`;
        if (options.json) {
          const endpoints = cell.endpoints.map((e, i) => ({ ...e, readiness: probes[i] }));
          printJson({
            cell: { ...cell, fillPercent: fillPercent(cell), endpoints },
            load: { users: cell.users, ...(load ?? { opsPerSecond: null, byAz: {} }) },
            opsCapacity: capacityView(cell, load?.opsPerSecond ?? null),
            staticStability: stability,
            verdict,
            ...(launcher.json ? { launcher: launcher.json } : {}),
          });
          return;
        }
        const fill = fillPercent(cell);
        const lines = [
          `Cell:      ${cell.cellId}`,
          `State:     ${cell.state}`,
          `Users:     ${cell.users} of ${cell.capacity}${fill === null ? "" : ` (${fill.toFixed(1)}%)`}`,
          `Updated:   ${new Date(cell.updatedAt).toISOString()}`,
          `Load:      ${load?.opsPerSecond == null ? "-" : `${load.opsPerSecond} wallet ops/s`}${
            load
              ? ` (${Object.entries(load.byAz)
                  .map(([az, r]) => `${az} ${r ?? "?"}`)
                  .join(", ")})`
              : ""
          }`,
          `Capacity:  ${capacityText(capacityView(cell, load?.opsPerSecond ?? null))}`,
          "",
          "AZ         WEIGHT  READY              URL",
        ];
        cell.endpoints.forEach((e, i) => {
          const p = probes[i];
          const ready = !p
            ? "-"
            : p.ready
              ? `yes (${p.ms} ms)`
              : p.status !== null
                ? `no (HTTP ${p.status})`
                : `no (${p.error ?? "error"})`;
          lines.push(`${e.az.padEnd(10)} ${String(e.weight).padStart(6)}  ${ready.padEnd(18)} ${e.url}`);
        });
        lines.push("");
        lines.push(verdict);
        if (stability.requiredFactor !== null) {
          lines.push(
            `  losing ${stability.largestAz} needs the others to carry ${stability.requiredFactor.toFixed(2)}x their load (headroom ${stability.headroom})`,
          );
        }
        lines.push(...launcher.lines);
        process.stdout.write(`${lines.join("\n")}\n`);
      },
    );
}

function lifecycleCommand(env: NodeJS.ProcessEnv, verb: "cordon" | "uncordon"): Command {
  const cordon = verb === "cordon";
  const command = new Command(verb)
    .description(
      cordon
        ? "Stop placing new users in a cell (its users stay and are served)"
        : "Let a cordoned cell take new users again (back to active)",
    )
    .argument("<cellId>")
    .option("--json", "print the outcome as JSON")
    // Accepted by both: uncordon gives back what cordon took and asks nothing, but a script confirming every
    // step (cordon --yes, uncordon --yes) must not fail on it.
    .option(
      "-y, --yes",
      cordon
        ? "do not ask for confirmation (required in non-interactive use)"
        : "accepted for consistency (uncordon does not ask)",
    );
  return command
    .addHelpText(
      "after",
      `
Refused for draining and retired cells. ${cordon ? "Without --yes, asks at a terminal; elsewhere exits 2." : "Does not ask for confirmation; --yes is accepted."}

Exit status: 0 done (or already ${cordon ? "cordoned" : "active"}), 1 refused, 2 unknown cell${cordon ? " or not confirmed" : ""}.

Examples:
  $ cellctl cells ${verb} cell-2${cordon ? " --yes" : ""}
  $ cellctl cells ${verb} cell-2${cordon ? " --yes" : ""} --json`,
    )
    .action(async (cellId: string, options: { json?: boolean; yes?: boolean }, cmd: Command) => {
      await withPlacementStore(env, async (store) => {
        const cell = await requireCell(store, cellId, cmd);
        const transition = lifecycleTransition(cell.state, verb);
        if (!transition.ok) {
          return cmd.error(`cellctl: refusing to ${verb} ${cellId}: ${transition.reason}`, { exitCode: EXIT_REFUSED });
        }
        if (!transition.changed) {
          if (options.json) printJson({ cellId, state: cell.state, changed: false }, { compact: true });
          else process.stdout.write(`${cellId} is already ${cell.state}: nothing to do\n`);
          return;
        }
        if (cordon) await confirmOrExit(cmd, options.yes, `Cordon ${cellId} (no new users will be placed there)?`);
        const written = await recordThenApply(
          env,
          cmd,
          {
            actor: operatorName(env),
            action: `cell.${verb}`,
            target: cellId,
            details: { from: cell.state, to: transition.to },
          },
          () => store.putCell({ cellId, state: transition.to, capacity: cell.capacity, endpoints: cell.endpoints }),
        );
        if (options.json)
          printJson({ cellId, from: cell.state, state: written.state, changed: true }, { compact: true });
        else process.stdout.write(`${cellId}: ${cell.state} -> ${written.state}\n`);
      });
    });
}

/** `cellctl cells list | describe | register | cordon | uncordon | drain | retire | rebalance`: the cell registry. */
export function cellsCommand(env: NodeJS.ProcessEnv): Command {
  const command = new Command("cells")
    .description("Inspect and change the cell registry (the routers pick changes up on their next refresh)")
    .addCommand(listCommand(env))
    .addCommand(describeCommand(env))
    .addCommand(cellsRegisterCommand(env))
    .addCommand(cellsCreateCommand(env))
    .addCommand(lifecycleCommand(env, "cordon"))
    .addCommand(lifecycleCommand(env, "uncordon"))
    .addCommand(setCapacityCommand(env));
  for (const sub of cellsMoveCommands(env)) command.addCommand(sub);
  return command.addHelpText(
    "after",
    `
Every change is recorded in the operator audit trail (cellctl audit-log) before it is applied.

Examples:
  $ cellctl cells list
  $ cellctl cells describe cell-1
  $ cellctl cells cordon cell-2 --yes
  $ cellctl cells drain cell-2 --yes && cellctl cells retire cell-2 --yes
  $ cellctl cells rebalance --dry-run`,
  );
}
