import { Command } from "commander";
import { type RecoveryOutcome, recoverMigratedIn } from "../backup/recover-migrated-in.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { migrationDeps } from "./migration-cli.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

interface RecoverFlags {
  cell: string;
  json?: boolean;
}

function outcomeLine(o: RecoveryOutcome): string {
  return o.outcome === "recovered"
    ? `recovered ${o.walletId} (${o.userId}) from ${o.sourceCellId}: ${o.version} entries, balance ${o.balance} ${o.currency}`
    : `NOT recovered ${o.walletId} (${o.userId}) from ${o.sourceCellId}: ${o.reason}`;
}

/** `cellctl backup recover-migrated`: after a restore, the wallets moved into the cell since its backup, back. */
export function backupRecoverCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("recover-migrated")
    .description("After a restore: copy back wallets migrated into the cell after its backup from their old cells")
    .requiredOption("--cell <cellId>", "the restored cell (its replicas must be running)")
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      `
A restored cell lacks the wallets whose users were migrated into it after the backup, while
the placement registry still sends those users there (their wallets would answer 404). Each
such wallet's history up to its move is still in the cell it came from, read-only (moved).
This copies it back as a migration does (export, import, verify that the whole chain ends at
that copy's head, activate), recording each wallet in the operator audit trail first.
What was written to those wallets after the move is the restore's loss window (its report).
Running it again is safe: recovered wallets are skipped, an interrupted copy is continued.

Exit status: 0 every such wallet recovered (or none to recover), 1 one or more could not be
recovered (each named with why), 2 usage, unknown cell, or the registry or cell unreachable.

Examples:
  $ cellctl backup recover-migrated --cell cell-2
  $ cellctl backup recover-migrated --cell cell-2 --json`,
    )
    .action(async function backupRecoverAction(flags: RecoverFlags, command: Command) {
      const outcomes = await withPlacementStore(env, async (store) => {
        if (!(await store.getCell(flags.cell)))
          command.error(`cellctl: unknown cell ${flags.cell}`, { exitCode: EXIT_USAGE });
        let deps: ReturnType<typeof migrationDeps>;
        try {
          deps = migrationDeps(env, store);
        } catch (error) {
          return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
        }
        return recoverMigratedIn(deps, flags.cell, {
          beforeRecovery: (c) =>
            recordOperatorAction(env, {
              actor: operatorName(env),
              action: "backup.recover-migrated",
              target: c.userId,
              details: { cellId: flags.cell, walletId: c.walletId, from: c.sourceCellId },
            }),
          onNote: flags.json ? undefined : (message) => process.stderr.write(`  ${message}\n`),
        });
      });
      const failed = outcomes.filter((o) => o.outcome === "failed").length;
      if (flags.json) printJson({ cellId: flags.cell, outcomes });
      else if (outcomes.length === 0) process.stdout.write(`${flags.cell}: no wallet migrated in to recover\n`);
      else process.stdout.write(`${outcomes.map(outcomeLine).join("\n")}\n`);
      if (failed > 0) process.exitCode = EXIT_REFUSED;
    });
}
