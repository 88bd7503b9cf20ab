import type { Checkpoint, WalletHead } from "../domain/checkpoint.js";
import type { LedgerEntry } from "../domain/ledger-entry.js";
import type { Fence, Ownership, OwnershipState, UserFence } from "../domain/ownership.js";
import type { Transfer } from "../domain/transfer.js";
import type { Wallet } from "../domain/wallet.js";
import type { StoreObserver } from "./store-observer.js";

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
  /** The wallet the operation acted on (absent on records written before migrations), so a move can copy it. */
  walletId?: string;
  /**
   * Not yet final: written with a cross-cell transfer's debit while its request still asks the destination
   * to credit. The request replaces it once by its final answer (201, a refusal or the 202 itself), unless
   * someone answers from it first: then it becomes final as it stands (the 202). A final record never changes.
   */
  provisional?: true;
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
   * Replaces a provisional outcome by the final one (a cross-cell transfer confirmed in time: 201), conditional
   * on the stored record being still provisional with the same fingerprint; otherwise the commit fails with
   * `idempotency-final` and writes nothing (someone already answered from it: that answer stands).
   */
  idempotencyUpdate?: { record: IdempotencyRecord };
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
  /**
   * Also accept wallets that are `frozen` (the migration's settle step refunds or completes a
   * frozen wallet's pending transfers before its tail is copied). Default: only `active` wallets.
   */
  allowFrozen?: boolean;
  /**
   * Wallets of `walletIds` the caller has just read (strongly consistent, for authorisation). A store whose
   * every wallet write is conditional on the version read may decide its first attempt on them instead of
   * reading again; a stale one then only costs a conflict and a fresh attempt. A store may ignore them.
   */
  known?: readonly Wallet[];
  /** Pure: computes the changes from the state. Called again after a conflict. */
  decide(state: DecisionState): { changes: Changes; result: T };
}

export type CommitOutcome<T> =
  | { ok: true; result: T }
  | { ok: false; reason: "idempotency-exists" }
  | { ok: false; reason: "user-has-wallet" }
  /** The provisional record an idempotencyUpdate meant to replace is final already: nothing was written. */
  | { ok: false; reason: "idempotency-final" }
  /**
   * A wallet read for this commit (or, for a new wallet, its user) is not writable here:
   * frozen or given away by a migration. Nothing was written, decide() may not have run.
   */
  | { ok: false; reason: "fenced"; fence: Fence };

/** The expected current ownership of a conditional ownership change. */
export interface OwnershipExpectation {
  state: OwnershipState;
  /** When set, the stored migrationId must be this one. */
  migrationId?: string;
}

/** Entries copied into an importing wallet, appended atomically with the wallet's new head. */
export interface ImportedEntries {
  walletId: string;
  /** The importing copy's version and migration before these entries (the write is conditional on both). */
  expectedVersion: number;
  migrationId: string;
  entries: LedgerEntry[];
  /** The wallet row after the entries (balance, version, head, lastEntryAt). */
  after: Wallet;
}

export interface EntryPage {
  /** Newest first. */
  fromMs?: number;
  toMs?: number;
  /** Exclusive upper bound, from a cursor: entries strictly older than this one. */
  before?: { createdAt: number; sequence: number };
  limit: number;
}

/**
 * The money path: the atomic commit and the reads its use cases and the pending-transfer worker need.
 * Every read here is strongly consistent.
 */
export interface MoneyPathStore {
  /** Reads, decides and writes atomically; retries internally on write conflicts. */
  commit<T>(request: CommitRequest<T>): Promise<CommitOutcome<T>>;
  getWallet(walletId: string): Promise<Wallet | undefined>;
  getWalletIdByUser(userId: string): Promise<string | undefined>;
  getIdempotency(scopeKey: string): Promise<IdempotencyRecord | undefined>;
  /**
   * A wallet and an Idempotency-Key's record read together (both strongly consistent), in one round trip where
   * the store can: what a money operation reads before it decides (authorisation, then the replay check).
   */
  getWalletAndIdempotency(
    walletId: string,
    scopeKey: string,
  ): Promise<{ wallet: Wallet | undefined; idempotency: IdempotencyRecord | undefined }>;
  /**
   * Makes a provisional record final as it stands (conditional write); false when it is not provisional
   * (final already, or absent). Whoever answers from a provisional record first calls this.
   */
  finalizeIdempotency(scopeKey: string): Promise<boolean>;
  getTransfer(transferId: string): Promise<Transfer | undefined>;
  /** Outgoing cross-cell transfers still PENDING, created at or before `createdBeforeMs`, oldest first. */
  listPendingTransfers(createdBeforeMs: number, limit: number): Promise<Transfer[]>;
  getEntryByTransactionId(walletId: string, transactionId: string): Promise<LedgerEntry | undefined>;
  /** The entry with the highest sequence whose createdAt <= atMs: one indexed lookup. */
  getLatestEntryAtOrBefore(walletId: string, atMs: number): Promise<LedgerEntry | undefined>;
  listEntries(walletId: string, page: EntryPage): Promise<LedgerEntry[]>;
}

/** Audit: whole-cell streams (verification, reconciliation, snapshots) and the signed checkpoints. */
export interface AuditStore {
  /** All entries of a wallet (after `afterSequence`, default 0) in ascending sequence order, streamed in pages. */
  streamEntries(walletId: string, afterSequence?: number): AsyncIterable<LedgerEntry>;
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
}

/** Migration between cells (see docs/migration.md): ownership, fences and imports. Never on the money path. */
export interface MigrationStore {
  /** Changes a wallet's ownership if it is currently as expected; false otherwise (nothing changed). */
  setWalletOwnership(walletId: string, expected: OwnershipExpectation, next: Ownership): Promise<boolean>;
  getUserFence(userId: string): Promise<UserFence | undefined>;
  /**
   * Puts, replaces or removes (next undefined) a user-level fence, conditionally: with `expected`
   * undefined the user must have neither a fence nor a wallet here; otherwise the stored fence
   * must have the expected state and migrationId. False when the condition does not hold.
   */
  setUserFence(userId: string, expected: UserFence | undefined, next: UserFence | undefined): Promise<boolean>;
  /**
   * Creates an importing copy (version 0) and its owner record, replacing a user fence if any.
   * "exists": the wallet id is already stored; "user-has-wallet": the user has another wallet here.
   */
  createImportedWallet(wallet: Wallet): Promise<"created" | "exists" | "user-has-wallet">;
  /** Appends copied entries to an importing copy; false when its version or migration changed. */
  appendImportedEntries(batch: ImportedEntries): Promise<boolean>;
  /** Stores a copied transfer record: new (expected undefined) or replacing the stored one if unchanged since read. */
  putImportedTransfer(transfer: Transfer, expected: Transfer | undefined): Promise<boolean>;
  /** Stores a copied idempotency record: new (expected undefined) or replacing the stored one if unchanged since read. */
  putImportedIdempotency(record: IdempotencyRecord, expected: IdempotencyRecord | undefined): Promise<boolean>;
  getEntry(walletId: string, sequence: number): Promise<LedgerEntry | undefined>;
  /**
   * Scope keys of the idempotency records stored with this walletId and createdAt >= sinceMs (read each with
   * getIdempotency; the listing may lag on DynamoDB).
   */
  listIdempotencyKeysOfWallet(walletId: string, sinceMs?: number): AsyncIterable<string>;
  /** Outgoing cross-cell transfers of this wallet still PENDING (the listing may lag on DynamoDB). */
  listPendingTransfersFrom(walletId: string, limit: number): Promise<Transfer[]>;
}

/** What the process does with the store as a whole: readiness, shutdown, metrics. */
export interface StoreLifecycle {
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Reports commit and call timings (metrics); set once when the cell is wired. */
  observe?(observer: StoreObserver): void;
}

/**
 * The cell's storage, composed of its role ports for wiring. Two adapters implement it (DynamoDB in production,
 * SQLite embedded locally), each as one part per role over one client or database handle, and pass the same
 * contract tests, one suite per port.
 */
export interface LedgerStore extends MoneyPathStore, AuditStore, MigrationStore, StoreLifecycle {}

/** Thrown when conflicts persist beyond the retry budget: an outage-like condition, answered 503. */
export class ContentionError extends Error {
  constructor(message = "too much contention on the same wallets; retry later") {
    super(message);
    this.name = "ContentionError";
  }
}
