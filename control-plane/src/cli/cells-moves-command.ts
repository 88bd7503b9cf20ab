import type { MigrationRecord, PlacementStore } from "@cellwallet/placement";
import { Command, InvalidArgumentError } from "commander";
import {
  driveMigration,
  type MigrationDeps,
  type MigrationOutcome,
  newMigrationId,
  planMigration,
} from "../migration/migrate-user.js";
import {
  DEFAULT_REBALANCE_THRESHOLD,
  type PlannedMove,
  planDrain,
  planRebalance,
} from "../migration/rebalance-plan.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { migrationDeps, progressHooks } from "./migration-cli.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE, recordThenApply } from "./operator-prompt.js";

/** `cellctl cells drain | retire | rebalance`: moving users out of and between cells. */

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("a positive integer");
  return n;
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError("a percentage between 0 and 100");
  return n / 100;
}

interface MoveResult {
  userId: string;
  from: string;
  to: string;
  ok: boolean;
  migrationId: string | null;
  pauseMs: number | null;
  error?: string;
}

/** One planned move: recorded in the audit trail, planned, driven; a failure is reported, never thrown. */
async function runMove(
  env: NodeJS.ProcessEnv,
  deps: MigrationDeps,
  move: PlannedMove,
  json: boolean,
  label: string,
): Promise<MoveResult> {
  const migrationId = newMigrationId();
  const out = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  try {
    await recordOperatorAction(env, {
      actor: operatorName(env),
      action: "user.migrate",
      target: move.userId,
      details: { migrationId, from: move.from, to: move.to, reason: label },
    });
  } catch (error) {
    return { ...move, ok: false, migrationId: null, pauseMs: null, error: `not recorded: ${(error as Error).message}` };
  }
  const planned = await planMigration(deps, {
    userId: move.userId,
    targetCellId: move.to,
    actor: operatorName(env),
    migrationId,
  });
  const hooks = progressHooks(env, json, "    ");
  if (planned.ok) hooks.afterPlan(planned.migration);
  const outcome: MigrationOutcome = planned.ok ? await driveMigration(deps, planned.migration, hooks) : planned;
  const result = toResult(move, outcome);
  out(
    `  ${move.userId}: ${move.from} -> ${move.to} ${result.ok ? `ok, writes paused ${result.pauseMs ?? "?"} ms` : `FAILED: ${result.error}`}`,
  );
  return result;
}

function toResult(move: PlannedMove, outcome: MigrationOutcome): MoveResult {
  return {
    ...move,
    ok: outcome.ok,
    migrationId: outcome.migration?.migrationId ?? null,
    pauseMs: outcome.migration?.pauseMs ?? null,
    ...(outcome.ok ? {} : { error: outcome.reason }),
  };
}

/** Migrations a crashed drain or rebalance left behind, for `cellId` as source (or every cell). */
async function unfinished(store: PlacementStore, cellId?: string): Promise<MigrationRecord[]> {
  return (await store.listMigrations()).filter(
    (m) => (m.state === "running" || m.state === "rolling-back") && (cellId === undefined || m.sourceCellId === cellId),
  );
}

async function resumeUnfinished(
  deps: MigrationDeps,
  env: NodeJS.ProcessEnv,
  store: PlacementStore,
  json: boolean,
  cellId?: string,
): Promise<MoveResult[]> {
  const results: MoveResult[] = [];
  for (const m of await unfinished(store, cellId)) {
    (json ? process.stderr : process.stdout).write(`  resuming ${m.migrationId} (${m.userId}) after "${m.step}"\n`);
    await recordOperatorAction(env, {
      actor: operatorName(env),
      action: "user.migrate.resume",
      target: m.userId,
      details: { migrationId: m.migrationId, step: m.step, state: m.state },
    });
    const move = { userId: m.userId, from: m.sourceCellId, to: m.targetCellId };
    results.push(toResult(move, await driveMigration(deps, m, progressHooks(env, json, "    "))));
  }
  return results;
}

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
time, each with its short write pause. Resumable: running it again first finishes the migrations a
crashed drain left behind, then moves whoever is still there. When the cell is empty, retire it.

Exit status: 0 the cell is empty, 1 some users could not be moved (no room, a migration failed) or the
cell is retired, 2 unknown cell or not confirmed.

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
        await confirmOrExit(command, options.yes, `Drain ${cellId} (${cell.users} users will be migrated away)?`);
        let deps: MigrationDeps;
        try {
          deps = migrationDeps(env, store);
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
        const results = await resumeUnfinished(deps, env, store, json, cellId);
        const users = (await store.listCellUsers(cellId)).map((p) => p.userId);
        const plan = planDrain(await store.listCells(), cellId, users);
        for (const [i, move] of plan.moves.entries()) {
          results.push(await runMove(env, deps, move, json, `drain ${cellId} ${i + 1}/${plan.moves.length}`));
        }
        const left = (await store.getCell(cellId))?.users ?? 0;
        const failed = results.filter((r) => !r.ok);
        if (json) {
          process.stdout.write(
            `${JSON.stringify({ cellId, moved: results.filter((r) => r.ok).length, failed, unplaceable: plan.unplaceable, usersLeft: left, results }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(
            `${cellId}: moved ${results.length - failed.length}, failed ${failed.length}, no room for ${plan.unplaceable.length}; ${left} user(s) left${left === 0 ? ` — retire it with: cellctl cells retire ${cellId} --yes` : ""}\n`,
          );
        }
        if (left > 0 || failed.length > 0 || plan.unplaceable.length > 0) process.exitCode = EXIT_REFUSED;
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
          process.stdout.write(
            `${JSON.stringify({ cellId, from: cell.state, state: "retired", changed: result.changed })}\n`,
          );
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
          const cells = await store.listCells();
          const users = new Map<string, string[]>();
          for (const c of cells.filter((x) => x.state === "active" || x.state === "cordoned")) {
            users.set(
              c.cellId,
              (await store.listCellUsers(c.cellId)).map((p) => p.userId),
            );
          }
          const busy = new Set((await unfinished(store)).map((m) => m.userId));
          const plan = planRebalance(cells, (id) => (users.get(id) ?? []).filter((u) => !busy.has(u)), {
            threshold: options.threshold,
            maxMoves: options.maxMoves,
          });
          const summary = {
            spreadBefore: Math.round(plan.spreadBefore * 1000) / 10,
            spreadAfter: Math.round(plan.spreadAfter * 1000) / 10,
            moves: plan.moves,
          };
          if (options.dryRun || plan.moves.length === 0) {
            if (json)
              process.stdout.write(`${JSON.stringify({ dryRun: Boolean(options.dryRun), ...summary }, null, 2)}\n`);
            else {
              const lines = [
                `fill spread ${summary.spreadBefore}% -> ${summary.spreadAfter}% with ${plan.moves.length} move(s)`,
              ];
              for (const m of plan.moves) lines.push(`  ${m.userId.padEnd(24)} ${m.from} -> ${m.to}`);
              if (plan.moves.length === 0) lines.push("nothing to do: the cells are balanced within the threshold");
              process.stdout.write(`${lines.join("\n")}\n`);
            }
            return;
          }
          await confirmOrExit(command, options.yes, `Rebalance: ${plan.moves.length} migration(s)?`);
          let deps: MigrationDeps;
          try {
            deps = migrationDeps(env, store);
          } catch (error) {
            return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
          }
          await recordThenApply(
            env,
            command,
            { actor: operatorName(env), action: "cell.rebalance", target: "all", details: summary },
            async () => undefined,
          );
          if (!json)
            process.stdout.write(`rebalancing: ${plan.moves.length} move(s), fill spread ${summary.spreadBefore}%\n`);
          const results: MoveResult[] = [];
          for (const [i, move] of plan.moves.entries()) {
            results.push(await runMove(env, deps, move, json, `rebalance ${i + 1}/${plan.moves.length}`));
          }
          const failed = results.filter((r) => !r.ok);
          if (json) process.stdout.write(`${JSON.stringify({ dryRun: false, ...summary, results }, null, 2)}\n`);
          else process.stdout.write(`rebalanced: ${results.length - failed.length} moved, ${failed.length} failed\n`);
          if (failed.length > 0) process.exitCode = EXIT_REFUSED;
        });
      },
    );
}

export function cellsMoveCommands(env: NodeJS.ProcessEnv): Command[] {
  return [drainCommand(env), retireCommand(env), rebalanceCommand(env)];
}
