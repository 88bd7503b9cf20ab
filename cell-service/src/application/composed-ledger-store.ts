import type { AuditStore, LedgerStore, MigrationStore, MoneyPathStore } from "./ledger-store.js";
import type { StoreObserver } from "./store-observer.js";

/**
 * A LedgerStore made of its three role parts: every port method is delegated, once, here. An adapter (SQLite,
 * DynamoDB) builds its parts over one client or database handle and adds only its lifecycle.
 */
export abstract class ComposedLedgerStore implements LedgerStore {
  abstract readonly moneyPath: MoneyPathStore;
  abstract readonly audit: AuditStore;
  abstract readonly migration: MigrationStore;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
  abstract observe(observer: StoreObserver): void;

  // --- MoneyPathStore ---
  commit: LedgerStore["commit"] = (request) => this.moneyPath.commit(request);
  getWallet: LedgerStore["getWallet"] = (walletId) => this.moneyPath.getWallet(walletId);
  getWalletIdByUser: LedgerStore["getWalletIdByUser"] = (userId) => this.moneyPath.getWalletIdByUser(userId);
  getIdempotency: LedgerStore["getIdempotency"] = (scopeKey) => this.moneyPath.getIdempotency(scopeKey);
  getWalletAndIdempotency: LedgerStore["getWalletAndIdempotency"] = (walletId, scopeKey) =>
    this.moneyPath.getWalletAndIdempotency(walletId, scopeKey);
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
}
