import { readFileSync } from "node:fs";
import type { BackupManifest } from "@cellwallet/cell-service";
import { movedAwaySince } from "./moved-away.js";
import { restoreDynamoDbCell } from "./restore-dynamodb-cell.js";
import { restoreSqliteCell } from "./restore-sqlite-cell.js";
import {
  type LossReference,
  type RestoreCellDeps,
  type RestoreCellRequest,
  type RestoredCell,
  RestoreFailure,
  type TrustedKeys,
} from "./restore-types.js";

/**
 * Restores a cell's ledger from a verified backup: the backup must be the cell's own (wallet ids are
 * cell-scoped, two histories never mix) and every chain verifies before anything is replaced; an embedded
 * ledger is swapped in place (its files kept aside), a DynamoDB backup becomes new tables. The loss is
 * measured against a later exported checkpoint when one is given. Throws RestoreFailure, nothing changed.
 */
export async function restoreCell(deps: RestoreCellDeps, request: RestoreCellRequest): Promise<RestoredCell> {
  let manifest: BackupManifest;
  try {
    manifest = deps.cellService.readManifest(request.backupDir);
  } catch (error) {
    throw new RestoreFailure((error as Error).message, "usage");
  }
  const cell = await deps.getCell(request.cellId);
  if (!cell) throw new RestoreFailure(`unknown cell ${request.cellId}`, "usage");
  if (manifest.cellId !== request.cellId) {
    throw new RestoreFailure(
      `refused: the backup is of ${manifest.cellId}, not ${request.cellId} (wallet ids are cell-scoped; histories never mix)`,
      "refused",
    );
  }
  let trusted: TrustedKeys;
  try {
    trusted = await deps.trustedCheckpointKeys();
  } catch (error) {
    throw new RestoreFailure((error as Error).message, "usage");
  }
  const reference = request.checkpointFile
    ? checkpointReference(deps, request.checkpointFile, manifest, trusted)
    : undefined;
  const movedAway = await movedAwaySince(deps, manifest, request.cellId);
  const migratedIn = await migratedInSince(deps, manifest, request.cellId);
  const restored =
    manifest.store === "dynamodb"
      ? await restoreDynamoDbCell(deps, request, { manifest, reference, trusted, movedAway })
      : await restoreSqliteCell(deps, request, { cell, manifest, reference, trusted, movedAway });
  // Their entries up to the move come back with recover-migrated: say so beside what the report counts as lost.
  const recoverable = new Set(migratedIn.map((m) => m.walletId));
  for (const w of restored.loss?.wallets ?? []) if (recoverable.has(w.walletId)) w.migratedIn = true;
  return { ...restored, migratedIn };
}

/** Wallets whose users were moved into the cell and that the backup does not hold as the cell's own. */
async function migratedInSince(deps: RestoreCellDeps, manifest: BackupManifest, cellId: string) {
  const owned = new Set(
    manifest.heads.filter((h) => h.state === "active" || h.state === "frozen").map((h) => h.walletId),
  );
  try {
    return (await deps.movesInto(cellId)).filter((m) => !owned.has(m.walletId));
  } catch (error) {
    throw new RestoreFailure(`cannot read the migrations into ${cellId}: ${(error as Error).message}`, "usage");
  }
}

/**
 * --checkpoint: a later exported checkpoint, verified with the trusted keys, as the loss reference. One older than
 * the backup is refused: every wallet written since it would compare as "nothing lost", and a restore that
 * reported no loss while it dropped wallets is the worst report it could give.
 */
function checkpointReference(
  deps: RestoreCellDeps,
  file: string,
  manifest: BackupManifest,
  trusted: TrustedKeys,
): LossReference {
  const cellId = manifest.cellId;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new RestoreFailure(`cannot read ${file}: ${(error as Error).message}`, "usage");
  }
  let exported: ReturnType<RestoreCellDeps["cellService"]["readExportedCheckpoint"]>;
  try {
    exported = deps.cellService.readExportedCheckpoint(text, cellId, trusted);
  } catch (error) {
    throw new RestoreFailure(`refused: ${file}: ${(error as Error).message}`, "refused");
  }
  const { sequence, createdAt } = exported.checkpoint;
  if (createdAt < manifest.createdAtMs) {
    throw new RestoreFailure(
      `refused: ${file}: checkpoint ${sequence} (${new Date(createdAt).toISOString()}) is older than the backup ` +
        `(${manifest.createdAt}), so it cannot show what the restore gives up: export a later one ` +
        `(cellctl checkpoints --cell ${cellId}, then --export <sequence>) or leave --checkpoint out to compare with the replaced ledger`,
      "refused",
    );
  }
  return {
    heads: exported.heads,
    reference: `checkpoint ${sequence} (${new Date(createdAt).toISOString()})`,
    atMs: createdAt,
    complete: false,
  };
}
