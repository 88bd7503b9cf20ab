import type { BackupManifest, LossReport } from "@cellwallet/cell-service";

/** What `cellctl backup restore` takes and reports, shared by its embedded and DynamoDB paths. */

export interface RestoreOptions {
  cell: string;
  tablePrefix?: string;
  force?: boolean;
  checkpoint?: string;
  json?: boolean;
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
  for (const w of loss.wallets.slice(0, 50)) {
    lines.push(
      `  ${w.walletId}: version ${w.referenceVersion} -> ${w.backupVersion} (${w.entriesLost} entries, balance difference ${w.balanceDifference} minor units)`,
    );
  }
  if (loss.wallets.length > 50) lines.push(`  … and ${loss.wallets.length - 50} more (--json lists all)`);
  return lines;
}
