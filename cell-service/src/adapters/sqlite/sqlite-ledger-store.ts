import type { LedgerStore } from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import { SqliteAuditStore } from "./sqlite-audit-store.js";
import { openLedgerDatabase, prepareStatements, type SqliteHandle } from "./sqlite-handle.js";
import { SqliteMigrationStore } from "./sqlite-migration-store.js";
import { SqliteMoneyPathStore } from "./sqlite-money-path-store.js";

export interface SqliteStoreOptions {
  /** Database file; several processes (the AZ replicas of a local cell) may share it. */
  path: string;
  /** Most operations in one group commit. */
  maxBatch?: number;
  /** How long a writer waits for another process's write lock, in ms. */
  busyTimeoutMs?: number;
}

/**
 * The embedded store on SQLite (better-sqlite3): WAL with synchronous=FULL, so every commit is fsynced. One part
 * per role port (money path with its group commit, audit, migration) over one database handle, composed here
 * for wiring.
 */
export class SqliteLedgerStore implements LedgerStore {
  readonly moneyPath: SqliteMoneyPathStore;
  readonly audit: SqliteAuditStore;
  readonly migration: SqliteMigrationStore;
  private readonly handle: SqliteHandle;

  constructor(options: SqliteStoreOptions) {
    const db = openLedgerDatabase(options.path, options.busyTimeoutMs);
    this.handle = { db, stmt: prepareStatements(db) };
    this.moneyPath = new SqliteMoneyPathStore(this.handle, options.maxBatch ?? 256);
    this.audit = new SqliteAuditStore(this.handle);
    this.migration = new SqliteMigrationStore(this.handle);
  }

  observe(observer: StoreObserver): void {
    this.moneyPath.observe(observer);
  }

  // --- MoneyPathStore ---
  commit: LedgerStore["commit"] = (request) => this.moneyPath.commit(request);
  getWallet: LedgerStore["getWallet"] = (walletId) => this.moneyPath.getWallet(walletId);
  getWalletIdByUser: LedgerStore["getWalletIdByUser"] = (userId) => this.moneyPath.getWalletIdByUser(userId);
  getIdempotency: LedgerStore["getIdempotency"] = (scopeKey) => this.moneyPath.getIdempotency(scopeKey);
  finalizeIdempotency: LedgerStore["finalizeIdempotency"] = (scopeKey) => this.moneyPath.finalizeIdempotency(scopeKey);
  getTransfer: LedgerStore["getTransfer"] = (transferId) => this.moneyPath.getTransfer(transferId);
  listPendingTransfers: LedgerStore["listPendingTransfers"] = (before, limit) =>
    this.moneyPath.listPendingTransfers(before, limit);
  getEntryByTransactionId: LedgerStore["getEntryByTransactionId"] = (walletId, transactionId) =>
    this.moneyPath.getEntryByTransactionId(walletId, transactionId);
  getLatestEntryAtOrBefore: LedgerStore["getLatestEntryAtOrBefore"] = (walletId, atMs) =>
    this.moneyPath.getLatestEntryAtOrBefore(walletId, atMs);
  listEntries: LedgerStore["listEntries"] = (walletId, page) => this.moneyPath.listEntries(walletId, page);

  // --- AuditStore ---
  streamEntries: LedgerStore["streamEntries"] = (walletId, after) => this.audit.streamEntries(walletId, after);
  streamWallets: LedgerStore["streamWallets"] = () => this.audit.streamWallets();
  streamTransfers: LedgerStore["streamTransfers"] = () => this.audit.streamTransfers();
  putSnapshotHeads: LedgerStore["putSnapshotHeads"] = (id, heads) => this.audit.putSnapshotHeads(id, heads);
  streamSnapshotHeads: LedgerStore["streamSnapshotHeads"] = (id) => this.audit.streamSnapshotHeads(id);
  appendCheckpoint: LedgerStore["appendCheckpoint"] = (checkpoint) => this.audit.appendCheckpoint(checkpoint);
  streamCheckpoints: LedgerStore["streamCheckpoints"] = () => this.audit.streamCheckpoints();
  latestCheckpoint: LedgerStore["latestCheckpoint"] = () => this.audit.latestCheckpoint();
  getCheckpoint: LedgerStore["getCheckpoint"] = (sequence) => this.audit.getCheckpoint(sequence);

  // --- MigrationStore ---
  setWalletOwnership: LedgerStore["setWalletOwnership"] = (walletId, expected, next) =>
    this.migration.setWalletOwnership(walletId, expected, next);
  getUserFence: LedgerStore["getUserFence"] = (userId) => this.migration.getUserFence(userId);
  setUserFence: LedgerStore["setUserFence"] = (userId, expected, next) =>
    this.migration.setUserFence(userId, expected, next);
  createImportedWallet: LedgerStore["createImportedWallet"] = (wallet) => this.migration.createImportedWallet(wallet);
  appendImportedEntries: LedgerStore["appendImportedEntries"] = (batch) => this.migration.appendImportedEntries(batch);
  putImportedTransfer: LedgerStore["putImportedTransfer"] = (transfer, expected) =>
    this.migration.putImportedTransfer(transfer, expected);
  putImportedIdempotency: LedgerStore["putImportedIdempotency"] = (record, expected) =>
    this.migration.putImportedIdempotency(record, expected);
  getEntry: LedgerStore["getEntry"] = (walletId, sequence) => this.migration.getEntry(walletId, sequence);
  listIdempotencyKeysOfWallet: LedgerStore["listIdempotencyKeysOfWallet"] = (walletId, sinceMs) =>
    this.migration.listIdempotencyKeysOfWallet(walletId, sinceMs);
  listPendingTransfersFrom: LedgerStore["listPendingTransfersFrom"] = (walletId, limit) =>
    this.migration.listPendingTransfersFrom(walletId, limit);

  /** Removes idempotency records past their retention (kept at least 24 h by configuration). */
  sweepIdempotency(nowMs: number): number {
    return this.handle.stmt.sweepIdempotency.run(nowMs).changes;
  }

  async ping(): Promise<void> {
    this.handle.stmt.ping.get();
  }

  async close(): Promise<void> {
    await this.moneyPath.drain();
    this.handle.db.close();
  }
}
