import type { CellVerificationReport } from "../application/cell-verification.js";
import type { AuditStore } from "../application/ledger-store.js";
import type { BackupHead, BackupManifest, InFlightTransfer } from "./backup-manifest.js";

export interface LedgerContents {
  heads: BackupHead[];
  entries: number;
  latestCheckpoint: BackupManifest["latestCheckpoint"];
  pendingTransfers: InFlightTransfer[];
}

/** Every wallet head (ascending walletId), the latest checkpoint and the outgoing cross-cell transfers in flight. */
export async function readStoreContents(store: AuditStore): Promise<LedgerContents> {
  const heads: BackupHead[] = [];
  for await (const w of store.streamWallets()) {
    heads.push({
      walletId: w.walletId,
      userId: w.userId,
      currency: w.currency,
      balance: String(w.balance),
      version: w.version,
      headHash: w.headHash,
      state: w.ownership.state,
    });
  }
  heads.sort((a, b) => (a.walletId < b.walletId ? -1 : a.walletId > b.walletId ? 1 : 0));
  const pendingTransfers: InFlightTransfer[] = [];
  for await (const t of store.streamTransfers()) {
    if (t.status !== "PENDING" || !t.destinationCellId) continue;
    pendingTransfers.push({
      transferId: t.transferId,
      fromWalletId: t.fromWalletId,
      toWalletId: t.toWalletId,
      amount: String(t.amount),
      currency: t.currency,
      destinationCellId: t.destinationCellId,
      createdAt: t.createdAt,
    });
  }
  pendingTransfers.sort((a, b) => (a.transferId < b.transferId ? -1 : 1));
  return {
    heads,
    entries: heads.reduce((n, h) => n + h.version, 0),
    latestCheckpoint: (await store.latestCheckpoint()) ?? null,
    pendingTransfers,
  };
}

/**
 * What makes a restored copy differ from the backup it came from: a checkpoint or chain that does not verify,
 * wallet heads or a latest checkpoint other than the manifest's. Empty: the copy is the backup.
 */
export function restoredCopyProblems(
  report: CellVerificationReport,
  contents: LedgerContents,
  manifest: BackupManifest,
): string[] {
  const problems: string[] = [];
  for (const p of report.checkpoints.problems) problems.push(`checkpoint ${p.sequence}: ${p.reason}`);
  for (const w of report.invalidWallets) {
    problems.push(`wallet ${w.walletId}: chain invalid from sequence ${w.firstInvalidSequence ?? "?"}`);
  }
  if (JSON.stringify(contents.heads) !== JSON.stringify(manifest.heads)) {
    problems.push("the wallet heads differ from the manifest");
  }
  if ((contents.latestCheckpoint?.hash ?? null) !== (manifest.latestCheckpoint?.hash ?? null)) {
    problems.push("the latest checkpoint differs from the manifest");
  }
  return problems;
}
