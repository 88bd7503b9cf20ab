import { resolve } from "node:path";
import { Command } from "commander";
import { lastMovesInto } from "../backup/recover-migrated-in.js";
import { restoreCell } from "../backup/restore-cell.js";
import { type RestoreCellDeps, RestoreFailure } from "../backup/restore-types.js";
import {
  announceLauncherKills,
  cellService,
  dynamoDbFromEnv,
  launcherPidsOf,
  ledgerPathOf,
  liveReplicas,
  trustedCheckpointKeys,
} from "./backup-env.js";
import { restoreJson, restoreLines } from "./backup-restore-report.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

interface RestoreFlags {
  cell: string;
  tablePrefix?: string;
  force?: boolean;
  checkpoint?: string;
  json?: boolean;
}

/** The restore's reach into this environment: the placement registry, the data dir, the launcher, the audit trail. */
async function restoreDeps(env: NodeJS.ProcessEnv): Promise<RestoreCellDeps> {
  return {
    cellService: await cellService(),
    getCell: (cellId) => withPlacementStore(env, (store) => store.getCell(cellId)),
    trustedCheckpointKeys: () => trustedCheckpointKeys(env),
    ledgerPathOf: (cellId) => ledgerPathOf(env, cellId),
    liveReplicas,
    launcherPidsOf: (cellId) => launcherPidsOf(env, cellId),
    announceKills: (pids, reason) => announceLauncherKills(env, pids, reason),
    recordRestore: (cellId, details) =>
      recordOperatorAction(env, { actor: operatorName(env), action: "backup.restore", target: cellId, details }),
    dynamoDbClient: async () => (await dynamoDbFromEnv(env)).client,
    relocationsOf: (walletIds) =>
      withPlacementStore(env, async (store) => {
        const found = new Map<string, { cellId: string; epoch: number }>();
        for (const walletId of walletIds) {
          const moved = await store.getRelocation(walletId);
          if (moved) found.set(walletId, { cellId: moved.cellId, epoch: moved.epoch });
        }
        return found;
      }),
    movesInto: (cellId) =>
      withPlacementStore(env, async (store) =>
        [...lastMovesInto(await store.listMigrations(), cellId).values()].map((m) => ({
          userId: m.userId,
          walletId: m.walletId as string,
          sourceCellId: m.sourceCellId,
        })),
      ),
  };
}

/** `cellctl backup restore`: a verified backup in place of a stopped, new or (with --force) live cell's ledger. */
export function backupRestoreCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("restore")
    .description("Restore a cell's ledger from a backup: verified first, the replaced files kept, loss reported")
    .argument("<backup>", "the backup's directory")
    .requiredOption("--cell <cellId>", "the cell to restore (must be the backup's own cell)")
    .option("--force", "replace an existing ledger, also of a live cell run by the local launcher")
    .option("--checkpoint <file>", "a later exported checkpoint (cellctl checkpoints --export): measures the loss")
    .option("--table-prefix <prefix>", "DynamoDB backups: restore as new tables under this prefix")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Every chain of the backup is re-hashed and the checkpoint signature checked before
anything is replaced; a backup that does not verify changes nothing. The cell's current
files are moved aside (never deleted) into <data dir>/<cell>/replaced-<time>/. A backup
restores only as its own cell (wallet ids are cell-scoped): two histories never mix.
With --force a live cell run by \`npm start\` (same WALLET_DATA_DIR) is paused, swapped and
its processes killed; the launcher restarts them on the restored ledger (announced: no
crash reported, no restart counted). A live cell run elsewhere must be stopped first. The
loss (RPO seen) is measured against --checkpoint, else against the replaced ledger when it
is readable, which also lists each lost entry (type, amount, transfer id, counterparty).
A DynamoDB backup (taken with WALLET_STORE=dynamodb) is restored as new tables under
--table-prefix (DynamoDB cannot restore over a table; none may exist), verified there and
deleted again if it does not verify; start the cell on them with WALLET_TABLE_PREFIX.
Afterwards run \`cellctl backup recover-migrated --cell <cell>\` (wallets migrated into the
cell after the backup), then \`cellctl verify --cell <cell>\` and \`cellctl reconcile --all\`: cross-cell
transfers in flight at backup time are completed by the cell's retry worker; transfers
written after the backup are the loss window (see docs/disaster-recovery.md).

Exit status: 0 restored, 1 refused (foreign backup, backup or checkpoint does not verify,
existing or live cell without --force, live cell not run by the local launcher),
2 usage, unknown cell, not a backup.

Examples:
  $ cellctl backup restore .data/backups/cell-1-20261205T101500Z --cell cell-1
  $ cellctl backup restore /mnt/backups/cell-1-nightly --cell cell-1 --checkpoint cp-42.json --force`,
    )
    .action(async function backupRestoreAction(backup: string, flags: RestoreFlags, command: Command) {
      try {
        const restored = await restoreCell(await restoreDeps(env), {
          backupDir: resolve(backup),
          cellId: flags.cell,
          force: Boolean(flags.force),
          checkpointFile: flags.checkpoint,
          tablePrefix: flags.tablePrefix,
        });
        if (flags.json) printJson(restoreJson(restored));
        else process.stdout.write(`${restoreLines(restored).join("\n")}\n`);
      } catch (error) {
        if (!(error instanceof RestoreFailure)) throw error;
        command.error(`cellctl: ${error.message}`, { exitCode: error.kind === "usage" ? EXIT_USAGE : EXIT_REFUSED });
      }
    });
}
