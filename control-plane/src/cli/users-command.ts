import type { MigrationWalletStatus } from "@cellwallet/contract";
import { Command } from "commander";
import {
  driveMigration,
  type MigrationOutcome,
  newMigrationId,
  planMigration,
  rollbackMigration,
} from "../migration/migrate-user.js";
import { planRefusal, rollbackPlan, writesPaused } from "../migration/migration-steps.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { migrationDeps, migrationJson, outcomeSummary, progressHooks } from "./migration-cli.js";
import { confirmOrExit, EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

function fail(command: Command, message: string, exitCode: number): never {
  return command.error(`cellctl: ${message}`, { exitCode });
}

function locateCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("locate")
    .description("Show where a user lives: cell, placement epoch, wallet, its ownership state there, migrations")
    .argument("<userId>")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `
Reads the placement registry, then asks the user's cell (any replica) for the wallet's ownership state.

Exit status: 0 found, 2 the user is not placed in any cell.

Examples:
  $ cellctl users locate alice
  $ cellctl users locate alice --json`,
    )
    .action(async (userId: string, options: { json?: boolean }, command: Command) => {
      await withPlacementStore(env, async (store) => {
        const placement = await store.getUserPlacement(userId);
        if (!placement) fail(command, `user ${userId} is not placed in any cell`, EXIT_USAGE);
        const cell = await store.getCell(placement.cellId);
        const active = await store.activeMigration(userId);
        const history = (await store.listMigrations()).filter((m) => m.userId === userId).slice(0, 5);
        let wallet: MigrationWalletStatus | { error: string } = { error: "cell not registered" };
        if (cell) {
          const deps = migrationDeps(env, store);
          try {
            const answer = await deps.cells.status(cell, userId);
            wallet = answer.ok ? answer.body : { error: `HTTP ${answer.status} ${answer.code}: ${answer.detail}` };
          } catch (error) {
            wallet = { error: (error as Error).message };
          }
        }
        const walletId = "walletId" in wallet ? wallet.walletId : history[0]?.walletId;
        const relocation = walletId ? await store.getRelocation(walletId) : undefined;
        if (options.json) {
          printJson({
            userId,
            placement,
            cellState: cell?.state ?? null,
            wallet,
            relocation: relocation ?? null,
            migration: active ?? null,
            history,
          });
          return;
        }
        const lines = [
          `User:       ${userId}`,
          `Cell:       ${placement.cellId} (${cell?.state ?? "unregistered"}), placement epoch ${placement.epoch}, placed by ${placement.source}`,
        ];
        if ("error" in wallet) lines.push(`Wallet:     unknown (${wallet.error})`);
        else
          lines.push(
            `Wallet:     ${wallet.walletId ?? "(none)"} ${wallet.state}${wallet.epoch !== undefined ? ` at epoch ${wallet.epoch}` : ""}` +
              `${wallet.balance !== undefined ? `, balance ${wallet.balance} ${wallet.currency ?? ""}` : ""}` +
              `${wallet.version !== undefined ? `, ${wallet.version} entries` : ""}`,
          );
        if (relocation)
          lines.push(`Relocation: ${relocation.walletId} -> ${relocation.cellId} (epoch ${relocation.epoch})`);
        lines.push(
          active
            ? `Migration:  ${active.migrationId} ${active.sourceCellId} -> ${active.targetCellId} at "${active.step}" (${active.state})${writesPaused(active) ? ", writes paused" : ""}`
            : "Migration:  none in progress",
        );
        for (const m of history.filter((h) => h.migrationId !== active?.migrationId)) {
          lines.push(
            `  earlier:  ${m.migrationId} ${m.sourceCellId} -> ${m.targetCellId} ${m.state}${m.pauseMs !== null ? ` (pause ${m.pauseMs} ms)` : ""}`,
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
}

function report(outcome: MigrationOutcome, json: boolean): void {
  if (json) printJson(migrationJson(outcome));
  else process.stdout.write(`${outcomeSummary(outcome)}\n`);
}

async function recordResult(env: NodeJS.ProcessEnv, action: string, userId: string, outcome: MigrationOutcome) {
  const m = outcome.migration;
  await recordOperatorAction(env, {
    actor: operatorName(env),
    action: `${action}.result`,
    target: userId,
    details: {
      migrationId: m?.migrationId ?? null,
      ok: outcome.ok,
      state: m?.state ?? null,
      step: m?.step ?? null,
      pauseMs: m?.pauseMs ?? null,
      ...(outcome.ok ? {} : { kind: outcome.kind, reason: outcome.reason }),
    },
  }).catch((error: Error) => process.stderr.write(`cellctl: could not record the result: ${error.message}\n`));
}

interface MigrateOptions {
  to?: string;
  resume?: boolean;
  rollback?: boolean;
  yes?: boolean;
  json?: boolean;
}

function migrateCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("migrate")
    .description("Move a user's wallet, with its whole history and hash chain, to another cell")
    .argument("<userId>")
    .option("--to <cellId>", "the target cell (active, with room)")
    .option("--resume", "continue the user's migration from its persisted step (after a crash)")
    .option("--rollback", "undo the user's migration (possible until the flip)")
    .option("-y, --yes", "do not ask for confirmation (required in non-interactive use)")
    .option("--json", "print the outcome as JSON (progress goes to stderr)")
    .addHelpText(
      "after",
      `
Steps (each persisted in the placement store, each resumable):
  1 clone        copy the history from the source while the user stays live
  2 freeze       the source refuses the user's writes (clients get 503 cell-unavailable + Retry-After)
  3 settle       the user's outgoing pending cross-cell transfers are settled (bounded wait, else roll back)
  4 copy tail    what changed since the clone is copied
  5 activate     the target verifies the whole chain ends at the source's frozen head, then owns the wallet
  6 flip         placement (cell, epoch + 1), both cells' user counts and the wallet's relocation: one write
  7 moved        the source copy becomes read-only (kept for audit); routers follow the relocation
The write pause (freeze -> moved) is measured and printed. Until the flip, --rollback gives the user back
to the source (the target's copy is abandoned, the source unfrozen); from the flip on only --resume.
A step the cells refuse before the flip rolls back by itself. The wallet is never writable in two cells.

Exit status: 0 migrated (or rolled back with --rollback), 1 refused, failed or rolled back,
2 usage, unknown user or cell, or not confirmed.

Examples:
  $ cellctl users migrate alice --to cell-2 --yes
  $ cellctl users migrate alice --resume
  $ cellctl users migrate alice --rollback --json`,
    )
    .action(async (userId: string, options: MigrateOptions, command: Command) => {
      const modes = [options.to !== undefined, Boolean(options.resume), Boolean(options.rollback)].filter(Boolean);
      if (modes.length !== 1) fail(command, "give exactly one of --to <cellId>, --resume or --rollback", EXIT_USAGE);
      const json = Boolean(options.json);
      let hooks: ReturnType<typeof progressHooks>;
      try {
        hooks = progressHooks(env, json);
      } catch (error) {
        return fail(command, (error as Error).message, EXIT_USAGE);
      }
      await withPlacementStore(env, async (store) => {
        let deps: ReturnType<typeof migrationDeps>;
        try {
          deps = migrationDeps(env, store);
        } catch (error) {
          return fail(command, (error as Error).message, EXIT_USAGE);
        }
        const actor = operatorName(env);
        let outcome: MigrationOutcome;
        let action: string;
        if (options.to !== undefined) {
          action = "user.migrate";
          const placement = await store.getUserPlacement(userId);
          const target = await store.getCell(options.to);
          if (!placement) fail(command, `user ${userId} is not placed in any cell`, EXIT_USAGE);
          if (!target) fail(command, `unknown cell ${options.to}`, EXIT_USAGE);
          const refusal = planRefusal({
            userPlacedIn: placement.cellId,
            target,
            active: await store.activeMigration(userId),
          });
          if (refusal) fail(command, `refusing to migrate ${userId}: ${refusal}`, EXIT_REFUSED);
          await confirmOrExit(
            command,
            options.yes,
            `Migrate ${userId} from ${placement.cellId} to ${options.to} (the user's writes pause briefly)?`,
          );
          const migrationId = newMigrationId();
          await recordOrRefuse(env, command, action, userId, {
            migrationId,
            from: placement.cellId,
            to: options.to,
            fromEpoch: placement.epoch,
          });
          if (!json)
            process.stdout.write(`migrating ${userId}: ${placement.cellId} -> ${options.to} (${migrationId})\n`);
          const planned = await planMigration(deps, { userId, targetCellId: options.to, actor, migrationId });
          if (planned.ok) hooks.afterPlan(planned.migration);
          outcome = planned.ok ? await driveMigration(deps, planned.migration, hooks) : planned;
        } else {
          const active = await store.activeMigration(userId);
          if (!active) {
            const last = (await store.listMigrations()).find((m) => m.userId === userId);
            fail(
              command,
              `no migration of ${userId} in progress${last ? ` (last: ${last.migrationId}, ${last.state})` : ""}`,
              EXIT_REFUSED,
            );
          }
          if (options.rollback) {
            action = "user.migrate.rollback";
            const plan = rollbackPlan(active);
            if (!plan.ok) fail(command, `refusing to roll back ${active.migrationId}: ${plan.reason}`, EXIT_REFUSED);
            await recordOrRefuse(env, command, action, userId, { migrationId: active.migrationId, step: active.step });
            if (!json) process.stdout.write(`rolling back ${active.migrationId} from "${active.step}"\n`);
            outcome = await rollbackMigration(deps, active, hooks);
          } else {
            action = "user.migrate.resume";
            await recordOrRefuse(env, command, action, userId, {
              migrationId: active.migrationId,
              step: active.step,
              state: active.state,
            });
            if (!json) {
              process.stdout.write(
                `resuming ${active.migrationId} (${active.sourceCellId} -> ${active.targetCellId}) after "${active.step}"\n`,
              );
            }
            outcome = await driveMigration(deps, active, hooks);
          }
        }
        await recordResult(env, action, userId, outcome);
        report(outcome, json);
        if (!outcome.ok) process.exitCode = EXIT_REFUSED;
      });
    });
}

async function recordOrRefuse(
  env: NodeJS.ProcessEnv,
  command: Command,
  action: string,
  userId: string,
  details: Record<string, unknown>,
): Promise<void> {
  try {
    await recordOperatorAction(env, { actor: operatorName(env), action, target: userId, details });
  } catch (error) {
    fail(
      command,
      `nothing changed: could not record ${action} in the operator audit trail: ${(error as Error).message}`,
      EXIT_REFUSED,
    );
  }
}

/** `cellctl users locate | migrate`. */
export function usersCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("users")
    .description("Find users and move them between cells")
    .addCommand(locateCommand(env))
    .addCommand(migrateCommand(env))
    .addHelpText(
      "after",
      `
Every migration is recorded in the operator audit trail (cellctl audit-log) before it starts.

Examples:
  $ cellctl users locate alice
  $ cellctl users migrate alice --to cell-2 --yes`,
    );
}
