import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BackupManifest } from "@cellwallet/cell-service";
import { Command } from "commander";
import { backupCounts, backupCountsText } from "./backup-counts.js";
import { backupRoot, cellService, dynamoDbFromEnv, ledgerPathOf, trustedCheckpointKeys } from "./backup-env.js";
import { backupRecoverCommand } from "./backup-recover-command.js";
import { backupRestoreCommand } from "./backup-restore-command.js";
import { operatorName, recordOperatorAction, withPlacementStore } from "./cli-env.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

const MANIFEST_FILE = "manifest.json"; // cell-service's backup/backup-manifest.ts

function storeKind(env: NodeJS.ProcessEnv, command: Command): "sqlite" | "dynamodb" {
  const store = env.WALLET_STORE ?? "sqlite";
  if (store !== "sqlite" && store !== "dynamodb") {
    command.error(`cellctl: WALLET_STORE must be sqlite or dynamodb, got ${store}`, { exitCode: EXIT_USAGE });
  }
  return store as "sqlite" | "dynamodb";
}

async function requireCell(env: NodeJS.ProcessEnv, cellId: string, command: Command): Promise<void> {
  const cell = await withPlacementStore(env, (store) => store.getCell(cellId));
  if (!cell) command.error(`cellctl: unknown cell ${cellId}`, { exitCode: EXIT_USAGE });
}

function compactTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

function summary(m: BackupManifest, path: string): string {
  const checkpoint = m.latestCheckpoint ? `checkpoint ${m.latestCheckpoint.sequence}` : "no checkpoint yet";
  return `${m.cellId} at ${m.createdAt}: ${backupCountsText(m)}, ${checkpoint}, ${m.pendingTransfers.length} cross-cell transfers in flight -> ${path}`;
}

/** How much of the backup its latest checkpoint signs: entries written after it rest on their hash chains alone. */
function anchorText(m: BackupManifest): string {
  const cp = m.latestCheckpoint;
  if (!cp) return "";
  const { wallets, entries } = backupCounts(m);
  return `, anchored by signed checkpoint ${cp.sequence} of ${new Date(cp.createdAt).toISOString()} (it signed ${cp.wallets} wallets and ${cp.entries} entries, of the backup's ${wallets} and ${entries}: entries written after it are checked by their hash chains only)`;
}

function createCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("create")
    .description("Take a consistent online backup of one cell's ledger, with a manifest of every wallet head")
    .requiredOption("--cell <cellId>", "the cell")
    .option("--out <dir>", "the new backup's directory (default: $WALLET_DATA_DIR/backups/<cell>-<time>)")
    .option("--json", "print the manifest's summary as JSON")
    .addHelpText(
      "after",
      `
The embedded store is copied with SQLite's online backup API while the cell keeps
serving writes: one consistent point in time. The manifest lists every wallet's
version, head hash and balance, the latest signed checkpoint in the copy and the
outgoing cross-cell transfers still in flight.
With WALLET_STORE=dynamodb (DYNAMODB_ENDPOINT, AWS_REGION, WALLET_TABLE_PREFIX as the cells) it
takes one on-demand backup (CreateBackup) per cell table instead; the tables are backed up one
after the other, so back up a quiet cell (or verify: a write between two tables' backups fails it).

An embedded backup is verified as \`backup verify\` does before the command succeeds: a cell whose chains do not
verify (tampered, damaged) gives a backup that \`backup restore\` refuses; it is kept (evidence) and the
command exits 1 naming the problems. A DynamoDB backup is not verified here (it needs scratch tables): run
\`backup verify\` on it.

Exit status: 0 backup written (embedded: and verified), 1 failed (nothing kept) or written but it does not
verify (kept; restore refuses it), 2 usage, unknown cell or no ledger.

Examples:
  $ cellctl backup create --cell cell-1
  $ cellctl backup create --cell cell-1 --out /mnt/backups/cell-1-nightly`,
    )
    .action(async (options: { cell: string; out?: string; json?: boolean }, command: Command) => {
      const kind = storeKind(env, command);
      await requireCell(env, options.cell, command);
      const ledgerPath = ledgerPathOf(env, options.cell);
      if (kind === "sqlite" && !existsSync(ledgerPath)) {
        return command.error(`cellctl: cell ${options.cell} has no ledger at ${ledgerPath}`, { exitCode: EXIT_USAGE });
      }
      const outDir = resolve(options.out ?? join(backupRoot(env), `${options.cell}-${compactTime(Date.now())}`));
      if (existsSync(join(outDir, MANIFEST_FILE))) {
        return command.error(`cellctl: ${outDir} already holds a backup`, { exitCode: EXIT_USAGE });
      }
      try {
        await recordOperatorAction(env, {
          actor: operatorName(env),
          action: "backup.create",
          target: options.cell,
          details: { out: outDir },
        });
      } catch (error) {
        return command.error(`cellctl: nothing done: could not record the backup: ${(error as Error).message}`, {
          exitCode: EXIT_REFUSED,
        });
      }
      let manifest: BackupManifest;
      try {
        const { createSqliteBackup, createDynamoDbBackup } = await cellService();
        if (kind === "sqlite") {
          manifest = await createSqliteBackup({ cellId: options.cell, ledgerPath, outDir });
        } else {
          const { client, region, tablePrefix } = await dynamoDbFromEnv(env);
          try {
            manifest = await createDynamoDbBackup({ client, region, cellId: options.cell, tablePrefix, outDir });
          } finally {
            client.destroy();
          }
        }
      } catch (error) {
        return command.error(`cellctl: backup of ${options.cell} failed: ${(error as Error).message}`, {
          exitCode: EXIT_REFUSED,
        });
      }
      // The copy is checked like a restore checks it: a backup that cannot be restored must not read as a success.
      let problems: string[] = [];
      if (kind === "sqlite") {
        try {
          const { verifySqliteBackup } = await cellService();
          problems = (await verifySqliteBackup(outDir, await trustedCheckpointKeys(env))).problems;
        } catch (error) {
          problems = [`could not verify it: ${(error as Error).message}`];
        }
      }
      const verified = kind === "sqlite" ? problems.length === 0 : null;
      if (options.json) {
        const { heads: _heads, ...rest } = manifest;
        printJson({ path: outDir, ...rest, ...backupCounts(manifest), verified, problems });
      } else {
        process.stdout.write(`backup ${summary(manifest, outDir)}${verified ? "; every chain verified" : ""}\n`);
        if (problems.length > 0) {
          process.stderr.write(
            `cellctl: backup of ${options.cell} written to ${outDir} but it does not verify (backup restore refuses it; kept as evidence): ${problems.join("; ")}\n`,
          );
        }
      }
      if (problems.length > 0) process.exitCode = EXIT_REFUSED;
    });
}

/** Backups under `root`: directories holding a manifest, up to two levels down. */
async function findBackups(root: string): Promise<{ path: string; manifest?: BackupManifest; error?: string }[]> {
  const { readManifest } = await cellService();
  const found: { path: string; manifest?: BackupManifest; error?: string }[] = [];
  const visit = (dir: string, depth: number) => {
    if (existsSync(join(dir, MANIFEST_FILE))) {
      try {
        found.push({ path: dir, manifest: readManifest(dir) });
      } catch (error) {
        found.push({ path: dir, error: (error as Error).message });
      }
      return;
    }
    if (depth === 0) return;
    for (const name of readdirSync(dir).sort()) {
      const sub = join(dir, name);
      if (statSync(sub).isDirectory()) visit(sub, depth - 1);
    }
  };
  if (existsSync(root)) visit(root, 2);
  return found;
}

function listCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("list")
    .description("List the backups in a directory (default $WALLET_DATA_DIR/backups), newest last")
    .option("--dir <dir>", "where to look")
    .option("--cell <cellId>", "only this cell's backups")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Exit status: 0 listed (also when there are none), 2 usage or a --dir that is not a directory.

Examples:
  $ cellctl backup list
  $ cellctl backup list --dir /mnt/backups --cell cell-1 --json`,
    )
    .action(async (options: { dir?: string; cell?: string; json?: boolean }, command: Command) => {
      // A mistyped --dir is a usage error, not "no backups"; the default directory exists once a backup was taken.
      if (options.dir !== undefined && !statSync(options.dir, { throwIfNoEntry: false })?.isDirectory()) {
        return command.error(`cellctl: ${options.dir} is not a directory`, { exitCode: EXIT_USAGE });
      }
      const backups = (await findBackups(resolve(options.dir ?? backupRoot(env))))
        .filter((b) => !options.cell || b.manifest?.cellId === options.cell)
        .sort((a, b) => (a.manifest?.createdAtMs ?? 0) - (b.manifest?.createdAtMs ?? 0));
      if (options.json) {
        const items = backups.map((b) =>
          b.manifest
            ? {
                path: b.path,
                cellId: b.manifest.cellId,
                createdAt: b.manifest.createdAt,
                ...backupCounts(b.manifest),
                checkpoint: b.manifest.latestCheckpoint?.sequence ?? null,
                store: b.manifest.store,
                bytes: b.manifest.file?.bytes ?? null,
              }
            : { path: b.path, error: b.error },
        );
        printJson({ items });
        return;
      }
      const lines = ["CELL         CREATED                    WALLETS    ENTRIES  CHECKPOINT      BYTES  PATH"];
      for (const b of backups) {
        const m = b.manifest;
        if (!m) {
          lines.push(`${"?".padEnd(12)} ${"UNREADABLE".padEnd(26)} ${b.error} ${b.path}`);
          continue;
        }
        lines.push(
          `${m.cellId.padEnd(12)} ${m.createdAt.padEnd(26)} ${String(backupCounts(m).wallets).padStart(7)} ${String(backupCounts(m).entries).padStart(10)}  ${String(m.latestCheckpoint?.sequence ?? "-").padStart(10)} ${String(m.file?.bytes ?? m.store).padStart(10)}  ${b.path}`,
        );
      }
      if (backups.length === 0) lines.push("(no backups)");
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function verifyCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("verify")
    .description("Check a backup offline: file hash, every chain re-hashed, checkpoint signature, heads vs manifest")
    .argument("<backup>", "the backup's directory")
    .option("--json", "print the verification as JSON")
    .addHelpText(
      "after",
      `
Nothing in the backup is modified (the checks run on a scratch copy). The checkpoint
must be signed by a key the cells trust (CHECKPOINT_SIGNING_KEY's public half,
CHECKPOINT_TRUSTED_KEYS).

Exit status: 0 valid, 1 invalid (damaged, tampered, or signed by an untrusted key),
2 not a backup or unreadable.

Examples:
  $ cellctl backup verify .data/backups/cell-1-20261205T101500Z
  $ cellctl backup verify /mnt/backups/cell-1-nightly --json`,
    )
    .action(async (backup: string, options: { json?: boolean }, command: Command) => {
      const { readManifest, verifyDynamoDbBackup, verifySqliteBackup } = await cellService();
      let result: {
        manifest: BackupManifest;
        valid: boolean;
        problems: string[];
        report?: { wallets: number; entries: number; checkpoints: { anchored: boolean } };
      };
      try {
        const trusted = await trustedCheckpointKeys(env);
        const found = readManifest(resolve(backup));
        if (found.store === "sqlite") {
          result = await verifySqliteBackup(resolve(backup), trusted);
        } else {
          const { client } = await dynamoDbFromEnv(env);
          try {
            result = { manifest: found, ...(await verifyDynamoDbBackup(client, found, trusted)) };
          } finally {
            client.destroy();
          }
        }
      } catch (error) {
        return command.error(`cellctl: ${(error as Error).message}`, { exitCode: EXIT_USAGE });
      }
      const { manifest } = result;
      if (options.json) {
        printJson({
          path: resolve(backup),
          cellId: manifest.cellId,
          createdAt: manifest.createdAt,
          valid: result.valid,
          problems: result.problems,
          ...backupCounts(manifest),
          checkpoint: manifest.latestCheckpoint?.sequence ?? null,
          anchored: result.report?.checkpoints.anchored ?? false,
          // What the checkpoint signs; entries after it are checked by their hash chains only.
          checkpointCovers: manifest.latestCheckpoint
            ? {
                createdAt: new Date(manifest.latestCheckpoint.createdAt).toISOString(),
                wallets: manifest.latestCheckpoint.wallets,
                entries: manifest.latestCheckpoint.entries,
              }
            : null,
        });
      } else if (result.valid) {
        process.stdout.write(
          `valid: ${summary(manifest, resolve(backup))}; every chain verified${result.report?.checkpoints.anchored ? anchorText(manifest) : ""}\n`,
        );
      }
      if (!result.valid) {
        if (!options.json) process.stderr.write(`cellctl: backup INVALID: ${result.problems.join("; ")}\n`);
        process.exitCode = EXIT_REFUSED;
      }
    });
}

/** `cellctl backup create | list | verify | restore | recover-migrated`: per-cell backups of the embedded store. */
export function backupCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("backup")
    .description("Back up, verify and restore one cell's ledger (embedded store or DynamoDB)")
    .addCommand(createCommand(env))
    .addCommand(listCommand(env))
    .addCommand(verifyCommand(env))
    .addCommand(backupRestoreCommand(env))
    .addCommand(backupRecoverCommand(env))
    .addHelpText(
      "after",
      `
Examples:
  $ cellctl backup create --cell cell-1
  $ cellctl backup list
  $ cellctl backup verify .data/backups/cell-1-20261205T101500Z
  $ cellctl backup restore .data/backups/cell-1-20261205T101500Z --cell cell-1 --checkpoint cp-42.json --force
  $ cellctl backup recover-migrated --cell cell-1`,
    );
}
