import { Command } from "commander";
import { drainCell, drainRoom } from "../migration/drain-cell.js";
import { type MoveContext, moveUsers } from "../migration/move-users.js";
import { planCellRebalance } from "../migration/rebalance-cells.js";
import { DEFAULT_REBALANCE_THRESHOLD } from "../migration/rebalance-plan.js";
import { operatorName, withPlacementStore } from "./cli-env.js";
import { percent, positiveInt } from "./cli-options.js";
import { moveContext } from "./migration-cli.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";
import { printJson } from "./output.js";

/** `cellctl cells drain | retire | rebalance`: moving users out of and between cells. */

function drainCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("drain")
    .description("Mark a cell draining (no new users) and migrate every user away by the placement policy")
    .argument("<cellId>")
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the outcome as JSON (progress goes to stderr)")
    .addHelpText(
      "after",
      `
Each user goes to the least-filled active cell with room (the onboarding policy), one migration at a
time, each with its short write pause. Before a cell is marked draining (which cannot be undone), the
other active cells must have room for every one of its users: otherwise the drain is refused and nothing
changes. Users pinned to the cell by a placement override (its canary users, a quarantine) move too, last,
so the cell's canary tests it while it still serves users; their overrides stay. Resumable: running it
again first finishes the migrations a crashed drain left behind, then moves whoever is still there. When
the cell is empty, retire it.

Exit status: 0 the cell is empty, 1 refused (no room for every user, nothing changed; the cell is retired)
or some users could not be moved (a migration failed), 2 unknown cell or not confirmed.

Examples:
  $ cellctl cells drain cell-3 --yes
  $ cellctl cells drain cell-3 --yes --json && cellctl cells retire cell-3 --yes`,
    )
    .action(async (cellId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const json = Boolean(options.json);
      await withPlacementStore(env, async (store) => {
        const cell = await store.getCell(cellId);
        if (!cell) return command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
        if (cell.state === "retired") {
          return command.error(`cellctl: ${cellId} is retired: nothing to drain`, { exitCode: EXIT_REFUSED });
        }
        if (cell.state !== "draining") {
          const room = await drainRoom(store, cellId);
          if (room.unplaceable > 0) {
            return command.error(
              `cellctl: refusing to drain ${cellId}: the other active cells have room for ${room.users - room.unplaceable} of its ${room.users} user(s); nothing changed (add room first: cellctl cells register)`,
              { exitCode: EXIT_REFUSED },
            );
          }
        }
        await confirmOrExit(command, options.yes, `Drain ${cellId} (${cell.users} users will be migrated away)?`);
        let context: MoveContext;
        try {
          context = moveContext(env, store, json);
        } catch (error) {
          return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
        }
        const changed = await recordThenApply(
          env,
          command,
          {
            actor: operatorName(env),
            action: "cell.drain",
            target: cellId,
            details: { from: cell.state, users: cell.users },
          },
          () => store.setCellState(cellId, "draining", { from: ["active", "cordoned", "draining"] }),
        );
        if (!changed.ok)
          return command.error(`cellctl: cannot drain ${cellId}: ${changed.reason}`, { exitCode: EXIT_REFUSED });
        if (!json) process.stdout.write(`${cellId}: ${cell.state} -> draining; ${cell.users} user(s) to move\n`);
        const { results, failed, unplaceable, pinned, usersLeft, empty } = await drainCell(context, cellId);
        if (json) {
          printJson({ cellId, moved: results.length - failed.length, failed, unplaceable, pinned, usersLeft, results });
        } else {
          if (pinned.length > 0)
            process.stdout.write(
              `${cellId}: pinned here by an override, so moved last (overrides kept): ${pinned.join(", ")}\n`,
            );
          process.stdout.write(
            `${cellId}: moved ${results.length - failed.length}, failed ${failed.length}, no room for ${unplaceable.length}; ${usersLeft} user(s) left${usersLeft === 0 ? ` — retire it with: cellctl cells retire ${cellId} --yes` : ""}\n`,
          );
        }
        if (!empty) process.exitCode = EXIT_REFUSED;
      });
    });
}

function retireCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("retire")
    .description("Retire an empty cell: routers stop sending to it and it takes no users")
    .argument("<cellId>")
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      `
Only an empty cell (0 users placed, checked in the same write) can be retired: drain it first. Its
processes and tables are then yours to remove (locally stop them; in AWS through the infra stacks).

Exit status: 0 retired (or already), 1 refused (users left), 2 unknown cell or not confirmed.

Examples:
  $ cellctl cells retire cell-3 --yes`,
    )
    .action(async (cellId: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      await withPlacementStore(env, async (store) => {
        const cell = await store.getCell(cellId);
        if (!cell) return command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
        if (cell.users > 0) {
          return command.error(`cellctl: refusing to retire ${cellId}: ${cell.users} user(s) placed; drain it first`, {
            exitCode: EXIT_REFUSED,
          });
        }
        if (cell.state !== "retired") await confirmOrExit(command, options.yes, `Retire ${cellId}?`);
        const result = await recordThenApply(
          env,
          command,
          { actor: operatorName(env), action: "cell.retire", target: cellId, details: { from: cell.state } },
          () => store.setCellState(cellId, "retired", { from: ["active", "cordoned", "draining"], requireEmpty: true }),
        );
        if (!result.ok) {
          return command.error(`cellctl: refusing to retire ${cellId}: ${result.reason}`, { exitCode: EXIT_REFUSED });
        }
        if (options.json)
          printJson({ cellId, from: cell.state, state: "retired", changed: result.changed }, { compact: true });
        else process.stdout.write(`${cellId}: ${cell.state} -> retired\n`);
      });
    });
}

function rebalanceCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("rebalance")
    .description("Move users from the fullest cells to the emptiest until fill levels are within a threshold")
    .option("--dry-run", "print the plan and change nothing")
    .option("--max-moves <n>", "at most this many migrations", positiveInt, 100)
    .option(
      "--threshold <percent>",
      "stop when fill levels differ by at most this many points",
      percent,
      DEFAULT_REBALANCE_THRESHOLD,
    )
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the plan and outcome as JSON (progress goes to stderr)")
    .addHelpText(
      "after",
      `
Fill level = users / capacity. Sources: active and cordoned cells; targets: active cells with room.
Users are picked by a stable hash, so --dry-run shows exactly what a run does first.

Exit status: 0 planned (dry run) or every move done, 1 a move failed, 2 usage or not confirmed.

Examples:
  $ cellctl cells rebalance --dry-run
  $ cellctl cells rebalance --max-moves 20 --threshold 5 --yes`,
    )
    .action(
      async (
        options: { dryRun?: boolean; maxMoves: number; threshold: number; yes?: boolean; json?: boolean },
        command: Command,
      ) => {
        const json = Boolean(options.json);
        await withPlacementStore(env, async (store) => {
          const summary = await planCellRebalance(store, { threshold: options.threshold, maxMoves: options.maxMoves });
          if (options.dryRun || summary.moves.length === 0) {
            if (json) printJson({ dryRun: Boolean(options.dryRun), ...summary });
            else {
              const lines = [
                `fill spread ${summary.spreadBefore}% -> ${summary.spreadAfter}% with ${summary.moves.length} move(s)`,
              ];
              for (const m of summary.moves) lines.push(`  ${m.userId.padEnd(24)} ${m.from} -> ${m.to}`);
              if (summary.moves.length === 0) lines.push("nothing to do: the cells are balanced within the threshold");
              process.stdout.write(`${lines.join("\n")}\n`);
            }
            return;
          }
          await confirmOrExit(command, options.yes, `Rebalance: ${summary.moves.length} migration(s)?`);
          let context: MoveContext;
          try {
            context = moveContext(env, store, json);
          } catch (error) {
            return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
          }
          await recordThenApply(
            env,
            command,
            { actor: operatorName(env), action: "cell.rebalance", target: "all", details: { ...summary } },
            async () => undefined,
          );
          if (!json)
            process.stdout.write(
              `rebalancing: ${summary.moves.length} move(s), fill spread ${summary.spreadBefore}%\n`,
            );
          const results = await moveUsers(context, summary.moves, "rebalance");
          const failed = results.filter((r) => !r.ok);
          if (json) printJson({ dryRun: false, ...summary, results });
          else process.stdout.write(`rebalanced: ${results.length - failed.length} moved, ${failed.length} failed\n`);
          if (failed.length > 0) process.exitCode = EXIT_REFUSED;
        });
      },
    );
}

export function cellsMoveCommands(env: NodeJS.ProcessEnv): Command[] {
  return [drainCommand(env), retireCommand(env), rebalanceCommand(env)];
}
