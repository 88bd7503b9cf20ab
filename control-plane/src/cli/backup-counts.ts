import type { BackupManifest } from "@cellwallet/cell-service";

/**
 * A backup's size as every backup command prints it, by one definition (the one `verifyCell` and checkpoints
 * use): the wallets the cell owns (active or frozen) and their entries. The read-only copies that migrations
 * left behind (moved away, importing) are counted apart: they are the other cells' money.
 */
export function backupCounts(m: BackupManifest): { wallets: number; entries: number; migrationCopies: number } {
  let wallets = 0;
  let entries = 0;
  for (const h of m.heads) {
    if (h.state !== "active" && h.state !== "frozen") continue;
    wallets += 1;
    entries += h.version;
  }
  return { wallets, entries, migrationCopies: m.heads.length - wallets };
}

/** "12 wallets, 9940 entries (+ 2 read-only migration copies)". */
export function backupCountsText(m: BackupManifest): string {
  const c = backupCounts(m);
  const copies = c.migrationCopies > 0 ? ` (+ ${c.migrationCopies} read-only migration copies)` : "";
  return `${c.wallets} wallets, ${c.entries} entries${copies}`;
}
