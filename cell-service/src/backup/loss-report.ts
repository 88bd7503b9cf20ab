import type { BackupHead } from "./backup-manifest.js";

/** A wallet's head as some later reference knew it (a later checkpoint's heads, or the replaced ledger). */
export interface ReferenceHead {
  walletId: string;
  version: number;
  balance: bigint;
}

/** One ledger entry a restore gives up, as the replaced ledger held it: what an accountant follows up. */
export interface LostEntry {
  sequence: number;
  type: string;
  /** Minor units, unsigned (the type says debit or credit). */
  amount: string;
  createdAt: string;
  /** Transfers: the id both sides' entries and transfer records carry, and the other wallet. */
  transferId?: string;
  counterpartyWalletId?: string;
}

export interface LostWallet {
  walletId: string;
  backupVersion: number;
  referenceVersion: number;
  /** Ledger entries the restored cell no longer has. */
  entriesLost: number;
  /** Balance in the reference minus balance in the backup (minor units). */
  balanceDifference: string;
  /**
   * The lost entries themselves, when a ledger that still holds them was readable (the replaced one); absent
   * when only a checkpoint's heads were (a checkpoint holds no entries).
   */
  entries?: LostEntry[];
  /**
   * The wallet's user was migrated into the cell after the backup: `cellctl backup recover-migrated` brings back
   * its entries up to that move, so only what was written after the move stays lost.
   */
  migratedIn?: boolean;
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
