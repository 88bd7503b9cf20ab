import { markMovedAway } from "./moved-away.js";
import {
  type DynamoDbRestored,
  type RestoreCellDeps,
  type RestoreCellRequest,
  RestoreFailure,
  type VerifiedBackup,
} from "./restore-types.js";

/**
 * A DynamoDB backup: the cell's tables restored from their on-demand backups as NEW tables under
 * `tablePrefix`, every chain verified there (the tables are deleted again when it fails), the loss window
 * measured; the cell is then started on them with WALLET_TABLE_PREFIX.
 */
export async function restoreDynamoDbCell(
  deps: RestoreCellDeps,
  request: RestoreCellRequest,
  found: VerifiedBackup,
): Promise<Omit<DynamoDbRestored, "migratedIn">> {
  const { manifest, reference, trusted, movedAway } = found;
  const { tablePrefix } = request;
  if (!tablePrefix) {
    throw new RestoreFailure("a DynamoDB backup restores as new tables: pass --table-prefix <prefix>", "usage");
  }
  const { restoreDynamoDbBackup, lossReport } = deps.cellService;
  try {
    await deps.recordRestore(request.cellId, {
      backup: request.backupDir,
      createdAt: manifest.createdAt,
      tablePrefix,
    });
  } catch (error) {
    throw new RestoreFailure(`nothing changed: could not record the restore: ${(error as Error).message}`, "refused");
  }
  const client = await deps.dynamoDbClient();
  let result: Awaited<ReturnType<typeof restoreDynamoDbBackup>>;
  try {
    result = await restoreDynamoDbBackup(
      client,
      manifest,
      tablePrefix,
      trusted,
      movedAway.length > 0 ? markMovedAway(movedAway) : undefined,
    );
  } catch (error) {
    throw new RestoreFailure(`refused: ${(error as Error).message}`, "refused");
  } finally {
    client.destroy();
  }
  if (!result.valid) {
    throw new RestoreFailure(
      `refused: the restored tables do not verify (deleted again): ${result.problems.join("; ")}`,
      "refused",
    );
  }
  const loss = reference ? lossReport(manifest.heads, manifest.createdAtMs, reference.heads, reference) : undefined;
  return {
    store: "dynamodb",
    cellId: request.cellId,
    backupDir: request.backupDir,
    manifest,
    loss,
    movedAway,
    tablePrefix,
    tables: result.tables,
  };
}
