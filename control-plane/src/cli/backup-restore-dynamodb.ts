import type { BackupManifest, ReferenceHead } from "@cellwallet/cell-service";
import { cellService, dynamoDbFromEnv } from "./backup-env.js";
import { lossLines, type RestoreOptions } from "./backup-restore-report.js";
import { operatorName, recordOperatorAction } from "./cli-env.js";
import { EXIT_REFUSED, EXIT_USAGE } from "./operator-prompt.js";
import { printJson } from "./output.js";

/**
 * `cellctl backup restore` of a DynamoDB backup: the cell's tables restored
 * from their on-demand backups as NEW tables under --table-prefix, every chain
 * verified there (the tables are deleted again when it fails), the loss window
 * reported; the cell is then started on them with WALLET_TABLE_PREFIX.
 */
export async function restoreDynamoDbCell(
  env: NodeJS.ProcessEnv,
  manifest: BackupManifest,
  options: RestoreOptions,
  reference: { heads: ReferenceHead[]; reference: string; atMs: number | null } | undefined,
  trusted: Map<string, import("node:crypto").KeyObject>,
  fail: (message: string, exitCode: number) => never,
  backupPath: string,
): Promise<void> {
  if (!options.tablePrefix) {
    return fail("a DynamoDB backup restores as new tables: pass --table-prefix <prefix>", EXIT_USAGE);
  }
  const { restoreDynamoDbBackup, lossReport } = await cellService();
  try {
    await recordOperatorAction(env, {
      actor: operatorName(env),
      action: "backup.restore",
      target: options.cell,
      details: { backup: backupPath, createdAt: manifest.createdAt, tablePrefix: options.tablePrefix },
    });
  } catch (error) {
    return fail(`nothing changed: could not record the restore: ${(error as Error).message}`, EXIT_REFUSED);
  }
  const { client } = await dynamoDbFromEnv(env);
  let result: Awaited<ReturnType<typeof restoreDynamoDbBackup>>;
  try {
    result = await restoreDynamoDbBackup(client, manifest, options.tablePrefix, trusted);
  } catch (error) {
    return fail(`refused: ${(error as Error).message}`, EXIT_REFUSED);
  } finally {
    client.destroy();
  }
  if (!result.valid) {
    return fail(
      `refused: the restored tables do not verify (deleted again): ${result.problems.join("; ")}`,
      EXIT_REFUSED,
    );
  }
  const loss = reference ? lossReport(manifest.heads, manifest.createdAtMs, reference.heads, reference) : undefined;
  if (options.json) {
    printJson({
      cellId: options.cell,
      backup: backupPath,
      backupCreatedAt: manifest.createdAt,
      wallets: manifest.wallets,
      entries: manifest.entries,
      chainsVerified: true,
      tables: result.tables,
      pendingTransfersAtBackup: manifest.pendingTransfers,
      loss: loss ?? null,
    });
    return;
  }
  const lines = [
    `restored ${options.cell} from ${backupPath} (taken ${manifest.createdAt}) as tables ${options.tablePrefix}-${options.cell}-*: ${manifest.wallets} wallets, ${manifest.entries} entries, every chain verified`,
    ...lossLines(loss, manifest),
    `cross-cell transfers in flight at backup time: ${manifest.pendingTransfers.length} (the cell's retry worker completes them)`,
    `next: start ${options.cell}'s replicas with WALLET_TABLE_PREFIX=${options.tablePrefix} (turn on PITR and TTL on the new tables), then cellctl verify --cell ${options.cell} && cellctl reconcile --all`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
