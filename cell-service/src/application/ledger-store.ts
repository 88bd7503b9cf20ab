import type { Checkpoint, WalletHead } from "../domain/checkpoint.js";
import type { LedgerEntry } from "../domain/ledger-entry.js";
import type { Transfer } from "../domain/transfer.js";
import type { Wallet } from "../domain/wallet.js";

/**
 * The stored outcome of an idempotent POST, written in the same transaction as
 * the operation it guards, replayed byte for byte.
 */
export interface IdempotencyRecord {
  /** sha256(principal + key): the key is scoped to the principal. */
  scopeKey: string;
  /** sha256 of method, path and canonical body: "the same request". */
  fingerprint: string;
  status: number;
  contentType: string;
  location?: string;
  body: string;
  createdAt: number;
  expiresAt: number;
}

/** Everything one operation changes, committed atomically or not at all. */
export interface Changes {
  /** A new wallet and its owner's uniqueness record (fails with user-has-wallet). */
  newWallet?: Wallet;
  /** Updated wallets, each conditional on the version read (and funds when debited). */
  walletUpdates?: { wallet: Wallet; expectedVersion: number; debit?: bigint }[];
  /** New entries, each conditional on (walletId, sequence) not existing. */
  entries?: LedgerEntry[];
  /** New transfers (must not exist) or status changes (conditional on the previous status). */
  transfers?: { transfer: Transfer; expectedStatus?: Transfer["status"] }[];
  idempotency?: IdempotencyRecord;
  /**
   * Replaces a stored outcome, conditional on its current status: a cross-cell
   * transfer answered 201 after its credit was confirmed must replay as 201.
   */
  idempotencyUpdate?: { record: IdempotencyRecord; expectedStatus: number };
}

export interface DecisionState {
  wallets: ReadonlyMap<string, Wallet>;
  /** Transfers named in transferIds, read consistently (missing ones absent). */
  transfers: ReadonlyMap<string, Transfer>;
  /** Epoch ms taken as late as possible: under the lock (embedded) or just before the conditional write. */
  now: number;
}

export interface CommitRequest<T> {
  /** Wallets decide() needs, read consistently (missing ones are absent from the map). */
  walletIds: string[];
  /** Transfers decide() needs (status changes are decided from the current status). */
  transferIds?: string[];
  /** Pure: computes the changes from the state. Called again after a conflict. */
  decide(state: DecisionState): { changes: Changes; result: T };
}

export type CommitOutcome<T> =
  | { ok: true; result: T }
  | { ok: false; reason: "idempotency-exists" }
  | { ok: false; reason: "user-has-wallet" };

export interface EntryPage {
  /** Newest first. */
  fromMs?: number;
  toMs?: number;
  /** Exclusive upper bound, from a cursor: entries strictly older than this one. */
  before?: { createdAt: number; sequence: number };
  limit: number;
}

/**
 * The cell's storage port. Two adapters implement it (DynamoDB in production,
 * SQLite embedded locally) and pass the same contract tests.
 */
export interface LedgerStore {
  /** Reads, decides and writes atomically; retries internally on write conflicts. */
  commit<T>(request: CommitRequest<T>): Promise<CommitOutcome<T>>;
  getWallet(walletId: string): Promise<Wallet | undefined>;
  getWalletIdByUser(userId: string): Promise<string | undefined>;
  getIdempotency(scopeKey: string): Promise<IdempotencyRecord | undefined>;
  getTransfer(transferId: string): Promise<Transfer | undefined>;
  /** Outgoing cross-cell transfers still PENDING, created at or before `createdBeforeMs`, oldest first. */
  listPendingTransfers(createdBeforeMs: number, limit: number): Promise<Transfer[]>;
  getEntryByTransactionId(walletId: string, transactionId: string): Promise<LedgerEntry | undefined>;
  /** The entry with the highest sequence whose createdAt <= atMs: one indexed lookup. */
  getLatestEntryAtOrBefore(walletId: string, atMs: number): Promise<LedgerEntry | undefined>;
  listEntries(walletId: string, page: EntryPage): Promise<LedgerEntry[]>;
  /** All entries of a wallet in ascending sequence order, streamed in pages. */
  streamEntries(walletId: string): AsyncIterable<LedgerEntry>;
  /**
   * Every wallet of the cell, streamed in pages (strongly consistent reads, O(page) memory);
   * the order is the adapter's own. For cell-wide verification, snapshots and reconciliation.
   */
  streamWallets(): AsyncIterable<Wallet>;
  /** Every transfer record of the cell, streamed in pages (strongly consistent reads); for reconciliation. */
  streamTransfers(): AsyncIterable<Transfer>;
  /**
   * Stores the wallet heads of a snapshot (write-once, any order). Written before the checkpoint that
   * names the snapshot; a snapshot no checkpoint names (a replica that lost the race) is inert.
   */
  putSnapshotHeads(snapshotId: string, heads: readonly WalletHead[]): Promise<void>;
  /** A snapshot's heads in ascending walletId order (byte order of the ids). */
  streamSnapshotHeads(snapshotId: string): AsyncIterable<WalletHead>;
  /** Appends a checkpoint unless one with its sequence exists (another replica won): true when written. */
  appendCheckpoint(checkpoint: Checkpoint): Promise<boolean>;
  /** Every checkpoint of the cell, oldest first. */
  streamCheckpoints(): AsyncIterable<Checkpoint>;
  latestCheckpoint(): Promise<Checkpoint | undefined>;
  getCheckpoint(sequence: number): Promise<Checkpoint | undefined>;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when conflicts persist beyond the retry budget: an outage-like condition, answered 503. */
export class ContentionError extends Error {
  constructor(message = "too much contention on the same wallets; retry later") {
    super(message);
    this.name = "ContentionError";
  }
}
