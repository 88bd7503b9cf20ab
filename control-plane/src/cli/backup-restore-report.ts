import type { BackupManifest, LossReport, LostEntry } from "@cellwallet/cell-service";
import type { RestoredCell } from "../backup/restore-types.js";
import { backupCounts, backupCountsText } from "./backup-counts.js";

/** What `cellctl backup restore` reports, for its embedded and DynamoDB paths. */

/** The --json document of a restore. */
export function restoreJson(r: RestoredCell): Record<string, unknown> {
  const { manifest } = r;
  return {
    cellId: r.cellId,
    backup: r.backupDir,
    backupCreatedAt: manifest.createdAt,
    ...backupCounts(manifest),
    chainsVerified: true,
    ...(r.store === "sqlite"
      ? { replaced: r.replaced, restartedReady: r.restartedReady ?? null }
      : { tables: r.tables }),
    pendingTransfersAtBackup: manifest.pendingTransfers,
    movedAway: r.movedAway.map((w) => ({ walletId: w.walletId, movedTo: w.cellId })),
    migratedIn: r.migratedIn,
    loss: r.loss ?? null,
  };
}

/** The lines a restore prints for people: what was restored, the loss window, and what to run next. */
export function restoreLines(r: RestoredCell): string[] {
  const { manifest, cellId } = r;
  const verify = `cellctl verify --cell ${cellId} && cellctl reconcile --all`;
  const next = r.migratedIn.length > 0 ? `cellctl backup recover-migrated --cell ${cellId}, then ${verify}` : verify;
  const pending = `cross-cell transfers in flight at backup time: ${manifest.pendingTransfers.length} (the cell's retry worker completes them)`;
  if (r.store === "dynamodb") {
    return [
      `restored ${cellId} from ${r.backupDir} (taken ${manifest.createdAt}) as tables ${r.tablePrefix}-${cellId}-*: ${backupCountsText(manifest)}, every chain verified`,
      ...lossLines(r.loss, manifest),
      ...movedAwayLines(r),
      ...migratedInLines(r),
      pending,
      `next: start ${cellId}'s replicas with WALLET_TABLE_PREFIX=${r.tablePrefix} (turn on PITR and TTL on the new tables), then ${next}`,
    ];
  }
  return [
    `restored ${cellId} from ${r.backupDir} (taken ${manifest.createdAt}): ${backupCountsText(manifest)}, every chain verified`,
    ...lossLines(r.loss, manifest),
    ...movedAwayLines(r),
    ...migratedInLines(r),
    pending,
    r.replaced.length > 0 ? `replaced files kept in ${r.replacedDir}` : "no previous ledger replaced",
    r.restartedReady === undefined
      ? `start the cell's processes, then: ${next}`
      : `${cellId}'s processes restarted by the launcher: ${r.restartedReady ? "ready" : "NOT ready yet"}; next: ${next}`,
  ];
}

export function lossLines(loss: LossReport | undefined, manifest: BackupManifest): string[] {
  if (!loss) {
    return [
      `loss window: unknown (no later reference): everything written after ${manifest.createdAt} is gone;`,
      "  pass --checkpoint <file> (cellctl checkpoints --export) to measure it",
    ];
  }
  const lines = [
    `loss relative to ${loss.reference}: ${loss.entriesLost} entries in ${loss.walletsAffected} wallets written after the backup` +
      (loss.windowMs === null ? "" : ` (RPO seen: ≤ ${(loss.windowMs / 1000).toFixed(1)} s)`),
  ];
  let transferLines = 0;
  for (const w of loss.wallets.slice(0, 50)) {
    const types = w.entries ? `: ${entryTypeCounts(w.entries)}` : "";
    const recoverable = w.migratedIn
      ? "; migrated in since the backup: recover-migrated brings back its entries up to that move"
      : "";
    lines.push(
      `  ${w.walletId}: version ${w.referenceVersion} -> ${w.backupVersion} (${w.entriesLost} entries, balance difference ${w.balanceDifference} minor units${recoverable})${types}`,
    );
    for (const e of w.entries ?? []) {
      if (e.transferId === undefined || transferLines++ >= 100) continue;
      lines.push(
        `    #${e.sequence} ${e.type} ${e.amount} transfer ${e.transferId} ${e.type === "TRANSFER_OUT" ? "to" : "from"} ${e.counterpartyWalletId ?? "?"} at ${e.createdAt}`,
      );
    }
  }
  if (loss.wallets.length > 50) lines.push(`  … and ${loss.wallets.length - 50} more wallets (--json lists all)`);
  if (transferLines > 100) lines.push(`  … and ${transferLines - 100} more lost transfer entries (--json lists all)`);
  if (loss.wallets.length > 0 && loss.wallets.every((w) => w.entries === undefined)) {
    lines.push(`  the lost entries themselves are not listed: ${loss.reference} holds wallet heads only`);
  }
  if (!loss.complete && loss.referenceAtMs !== null) {
    lines.push(`  writes after ${loss.reference} are lost too and not counted here`);
  }
  if (loss.behindBackup > 0) {
    lines.push(`  ${loss.behindBackup} wallets are older in the reference than in the backup (nothing lost there)`);
  }
  return lines;
}

/** "DEPOSIT 3, TRANSFER_OUT 2": how many lost entries of each type. */
function entryTypeCounts(entries: readonly LostEntry[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${type} ${n}`).join(", ");
}

/** Wallets the backup still held as the cell's own that moved to another cell since: restored read-only. */
function movedAwayLines(r: RestoredCell): string[] {
  if (r.movedAway.length === 0) return [];
  return [
    `moved to other cells since the backup, restored read-only (their new cells own them): ${r.movedAway.length} wallets`,
    ...r.movedAway.slice(0, 50).map((w) => `  ${w.walletId} -> ${w.cellId}`),
  ];
}

/** Wallets whose users were migrated into the cell after the backup: not in it, recovered by recover-migrated. */
function migratedInLines(r: RestoredCell): string[] {
  if (r.migratedIn.length === 0) return [];
  return [
    `migrated into ${r.cellId} since the backup, so not in it as the cell's own (until recovered they answer 404, or 503 moved where the backup holds the read-only copy an earlier move away left): ${r.migratedIn.length} wallets`,
    ...r.migratedIn.slice(0, 50).map((w) => `  ${w.walletId} (${w.userId}) <- ${w.sourceCellId}`),
  ];
}
