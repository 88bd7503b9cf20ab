import { canonicalJson, sha256Hex } from "@cellwallet/contract";
import { type Checkpoint, checkpointFromJson } from "../domain/checkpoint.js";

/**
 * The manifest of one cell backup: what the backup must contain (every
 * wallet's head: version, hash of its last entry, balance), the latest signed
 * checkpoint inside it, and the cross-cell transfers in flight when it was
 * taken. Its own hash detects a damaged manifest; trust in the contents comes
 * from re-hashing every chain and checking the checkpoint's signature.
 */
export const BACKUP_FORMAT = "cellwallet-backup/1";
export const MANIFEST_FILE = "manifest.json";
export const SQLITE_BACKUP_FILE = "ledger.sqlite";

export interface BackupHead {
  walletId: string;
  userId: string;
  currency: string;
  /** Minor units, decimal string. */
  balance: string;
  version: number;
  headHash: string;
  /** Ownership state (active, frozen, moved…): a moved-away copy is history, not this cell's money. */
  state: string;
}

export interface InFlightTransfer {
  transferId: string;
  fromWalletId: string;
  toWalletId: string;
  amount: string;
  currency: string;
  destinationCellId?: string;
  createdAt: number;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  cellId: string;
  store: "sqlite" | "dynamodb";
  createdAt: string;
  createdAtMs: number;
  /** Embedded store: the copied ledger file next to the manifest. */
  file?: { name: string; bytes: number; sha256: string };
  /** DynamoDB: one on-demand backup per cell table (the data stays in AWS; the manifest describes it). */
  dynamodb?: { region: string; tablePrefix: string; backups: Record<string, string> };
  wallets: number;
  entries: number;
  heads: BackupHead[];
  latestCheckpoint: Checkpoint | null;
  /** Outgoing cross-cell transfers still PENDING: the debit is in the backup, the credit may or may not be. */
  pendingTransfers: InFlightTransfer[];
  manifestHash: string;
}

export function manifestHash(manifest: Omit<BackupManifest, "manifestHash">): string {
  const { manifestHash: _ignored, ...body } = manifest as BackupManifest;
  return sha256Hex(canonicalJson(body));
}

/** Parses a manifest strictly; throws a one-line reason when it is not one of ours or is damaged. */
export function parseManifest(text: string): BackupManifest {
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new Error("the manifest is not JSON (damaged backup)");
  }
  if (m === null || typeof m !== "object" || m.format !== BACKUP_FORMAT) {
    throw new Error(`not a Cellwallet backup (format ${String((m as { format?: unknown })?.format)})`);
  }
  const located =
    (m.store === "sqlite" && typeof m.file?.sha256 === "string") ||
    (m.store === "dynamodb" && typeof m.dynamodb?.backups === "object" && m.dynamodb.backups !== null);
  if (typeof m.cellId !== "string" || !Array.isArray(m.heads) || !located) {
    throw new Error("the manifest is incomplete (damaged backup)");
  }
  if (manifestHash(m) !== m.manifestHash) throw new Error("the manifest's hash does not match its contents");
  if (m.latestCheckpoint !== null) m.latestCheckpoint = checkpointFromJson(JSON.stringify(m.latestCheckpoint));
  return m;
}
