import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { BackupManifest, ReferenceHead } from "@cellwallet/cell-service";
import type { CellRecord } from "@cellwallet/placement";
import { Command } from "commander";
import { cellService, launcherPidsOf, ledgerPathOf, liveReplicas, trustedCheckpointKeys } from "./backup-env.js";
import { restoreDynamoDbCell } from "./backup-restore-dynamodb.js";
import { lossLines, type RestoreOptions } from "./backup-restore-report.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

async function waitReady(cell: CellRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await liveReplicas(cell, 500)).length === cell.endpoints.length) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
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
its processes killed; the launcher restarts them on the restored ledger. A live cell run
elsewhere must be stopped first. The loss (RPO seen) is measured against --checkpoint,
else against the replaced ledger when it is readable.
A DynamoDB backup (taken with WALLET_STORE=dynamodb) is restored as new tables under
--table-prefix (DynamoDB cannot restore over a table; none may exist), verified there and
deleted again if it does not verify; start the cell on them with WALLET_TABLE_PREFIX.
Afterwards run \`cellctl verify --cell <cell>\` and \`cellctl reconcile --all\`: cross-cell
transfers in flight at backup time are completed by the cell's retry worker; transfers
written after the backup are the loss window (see docs/disaster-recovery.md).

Exit status: 0 restored, 1 refused (foreign backup, backup or checkpoint does not verify,
existing or live cell without --force, live cell not run by the local launcher),
2 usage, unknown cell, not a backup.

Examples:
  $ cellctl backup restore .data/backups/cell-1-20261205T101500Z --cell cell-1
  $ cellctl backup restore /mnt/backups/cell-1-nightly --cell cell-1 --checkpoint cp-42.json --force`,
    )
    .action(async (backup: string, options: RestoreOptions, command: Command) => {
      const fail = (message: string, exitCode: number) => command.error(`cellctl: ${message}`, { exitCode });
      const { ledgerFiles, lossReport, readExportedCheckpoint, readLedgerContents, readManifest, restoreSqliteBackup } =
        await cellService();
      let manifest: BackupManifest;
      try {
        manifest = readManifest(resolve(backup));
      } catch (error) {
        return fail((error as Error).message, EXIT_USAGE);
      }
      const cell = await withPlacementStore(env, (store) => store.getCell(options.cell));
      if (!cell) return fail(`unknown cell ${options.cell}`, EXIT_USAGE);
      if (manifest.cellId !== options.cell) {
        return fail(
          `refused: the backup is of ${manifest.cellId}, not ${options.cell} (wallet ids are cell-scoped; histories never mix)`,
          EXIT_REFUSED,
        );
      }
      let trusted: Awaited<ReturnType<typeof trustedCheckpointKeys>>;
      try {
        trusted = await trustedCheckpointKeys(env);
      } catch (error) {
        return fail((error as Error).message, EXIT_USAGE);
      }
      let reference: { heads: ReferenceHead[]; reference: string; atMs: number | null } | undefined;
      if (options.checkpoint) {
        let text: string;
        try {
          text = readFileSync(options.checkpoint, "utf8");
        } catch (error) {
          return fail(`cannot read ${options.checkpoint}: ${(error as Error).message}`, EXIT_USAGE);
        }
        try {
          const exported = readExportedCheckpoint(text, options.cell, trusted);
          reference = {
            heads: exported.heads,
            reference: `checkpoint ${exported.checkpoint.sequence} (${new Date(exported.checkpoint.createdAt).toISOString()})`,
            atMs: exported.checkpoint.createdAt,
          };
        } catch (error) {
          return fail(`refused: ${options.checkpoint}: ${(error as Error).message}`, EXIT_REFUSED);
        }
      }
      if (manifest.store === "dynamodb") {
        return restoreDynamoDbCell(env, manifest, options, reference, trusted, fail, resolve(backup));
      }
      const ledgerPath = ledgerPathOf(env, options.cell);
      const live = await liveReplicas(cell);
      const existing = ledgerFiles(ledgerPath);
      if ((live.length > 0 || existing.length > 0) && !options.force) {
        const what = live.length > 0 ? `is live (${live.length} replicas ready)` : `has a ledger at ${ledgerPath}`;
        return fail(`refused: ${options.cell} ${what}; --force replaces it (its files are kept aside)`, EXIT_REFUSED);
      }
      const pids = live.length > 0 ? launcherPidsOf(env, options.cell) : [];
      if (pids === undefined || (live.length > 0 && pids.length === 0)) {
        return fail(
          `refused: ${options.cell} is live and not run by the local launcher here: stop its replicas first`,
          EXIT_REFUSED,
        );
      }
      try {
        await recordOperatorAction(env, {
          actor: operatorName(env),
          action: "backup.restore",
          target: options.cell,
          details: { backup: resolve(backup), createdAt: manifest.createdAt, force: Boolean(options.force) },
        });
      } catch (error) {
        return fail(`nothing changed: could not record the restore: ${(error as Error).message}`, EXIT_REFUSED);
      }
      const replacedDir = join(dirname(ledgerPath), `replaced-${new Date().toISOString().replace(/[-:.]/g, "")}`);
      let result: Awaited<ReturnType<typeof restoreSqliteBackup>>;
      try {
        // Paused (not killed) while the files move: the launcher must not restart them on the old ledger meanwhile.
        result = await restoreSqliteBackup({
          backupDir: resolve(backup),
          ledgerPath,
          trustedKeys: trusted,
          replacedDir,
          beforeSwap: () => signal(pids, "SIGSTOP"),
        });
      } catch (error) {
        signal(pids, "SIGCONT");
        return fail(`restore failed, nothing changed: ${(error as Error).message}`, EXIT_REFUSED);
      }
      if (!result.verification.valid) {
        return fail(`refused: the backup does not verify: ${result.verification.problems.join("; ")}`, EXIT_REFUSED);
      }
      signal(pids, "SIGKILL"); // the launcher restarts them on the restored ledger
      const replacedLedger = join(replacedDir, "ledger.sqlite");
      if (!reference && existsSync(replacedLedger)) {
        try {
          const old = await readLedgerContents(replacedLedger);
          reference = {
            heads: old.heads.map((h: BackupManifest["heads"][number]) => ({
              walletId: h.walletId,
              version: h.version,
              balance: BigInt(h.balance),
            })),
            reference: "the replaced ledger",
            atMs: Date.now(),
          };
        } catch {
          // the replaced files are unreadable (the reason for the restore): no reference
        }
      }
      const loss = reference ? lossReport(manifest.heads, manifest.createdAtMs, reference.heads, reference) : undefined;
      const back = pids.length > 0 ? await waitReady(cell, 30_000) : undefined;
      if (options.json) {
        printJson({
          cellId: options.cell,
          backup: resolve(backup),
          backupCreatedAt: manifest.createdAt,
          wallets: manifest.wallets,
          entries: manifest.entries,
          chainsVerified: true,
          replaced: result.replaced,
          restartedReady: back ?? null,
          pendingTransfersAtBackup: manifest.pendingTransfers,
          loss: loss ?? null,
        });
        return;
      }
      const lines = [
        `restored ${options.cell} from ${resolve(backup)} (taken ${manifest.createdAt}): ${manifest.wallets} wallets, ${manifest.entries} entries, every chain verified`,
        ...lossLines(loss, manifest),
        `cross-cell transfers in flight at backup time: ${manifest.pendingTransfers.length} (the cell's retry worker completes them)`,
        result.replaced.length > 0 ? `replaced files kept in ${replacedDir}` : "no previous ledger replaced",
        back === undefined
          ? `start the cell's processes, then: cellctl verify --cell ${options.cell} && cellctl reconcile --all`
          : `${options.cell}'s processes restarted by the launcher: ${back ? "ready" : "NOT ready yet"}; next: cellctl verify --cell ${options.cell} && cellctl reconcile --all`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
