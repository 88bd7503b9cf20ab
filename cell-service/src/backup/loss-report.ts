import type { BackupHead } from "./backup-manifest.js";

/** A wallet's head as some later reference knew it (a later checkpoint's heads, or the replaced ledger). */
export interface ReferenceHead {
  walletId: string;
  version: number;
  balance: bigint;
}

export interface LostWallet {
  walletId: string;
  backupVersion: number;
  referenceVersion: number;
  /** Ledger entries the restored cell no longer has. */
  entriesLost: number;
  /** Balance in the reference minus balance in the backup (minor units). */
  balanceDifference: string;
}

export interface LossReport {
  /** What the backup was compared with. */
  reference: string;
  /**
   * Whether the reference holds every write up to the restore (the replaced ledger). A checkpoint does not:
   * writes after it are lost too, and not counted here.
   */
  complete: boolean;
  referenceAtMs: number | null;
  backupAtMs: number;
  /** How much time of writes the restore gave up, at most, as far as the reference shows (the RPO seen); 0 when nothing. */
  windowMs: number | null;
  walletsAffected: number;
  entriesLost: number;
  wallets: LostWallet[];
  /** Wallets whose reference is older than the backup: nothing lost there. */
  behindBackup: number;
}

/**
 * What restoring `backup` loses relative to a later reference: every wallet
 * whose reference head is ahead of the backup's (entries written after the
 * backup), including wallets created after it. Pure.
 */
export function lossReport(
  backup: readonly BackupHead[],
  backupAtMs: number,
  reference: Iterable<ReferenceHead>,
  describe: { reference: string; atMs: number | null; complete: boolean },
): LossReport {
  const inBackup = new Map(backup.map((h) => [h.walletId, h]));
  const wallets: LostWallet[] = [];
  let behindBackup = 0;
  for (const ref of reference) {
    const b = inBackup.get(ref.walletId);
    const backupVersion = b?.version ?? 0;
    if (ref.version < backupVersion) behindBackup += 1;
    if (ref.version <= backupVersion) continue;
    wallets.push({
      walletId: ref.walletId,
      backupVersion,
      referenceVersion: ref.version,
      entriesLost: ref.version - backupVersion,
      balanceDifference: String(ref.balance - BigInt(b?.balance ?? "0")),
    });
  }
  wallets.sort((a, b) => (a.walletId < b.walletId ? -1 : 1));
  return {
    reference: describe.reference,
    complete: describe.complete,
    referenceAtMs: describe.atMs,
    backupAtMs,
    // An upper bound: the lost writes happened between the backup and the reference.
    windowMs: describe.atMs === null ? null : wallets.length === 0 ? 0 : Math.max(0, describe.atMs - backupAtMs),
    walletsAffected: wallets.length,
    entriesLost: wallets.reduce((n, w) => n + w.entriesLost, 0),
    wallets,
    behindBackup,
  };
}
