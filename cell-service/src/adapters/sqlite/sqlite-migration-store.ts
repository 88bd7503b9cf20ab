import type {
  IdempotencyRecord,
  ImportedEntries,
  MigrationStore,
  OwnershipExpectation,
} from "../../application/ledger-store.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Ownership, UserFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import {
  entryFromRow,
  entryParams,
  idempotencyFromRow,
  idempotencyParams,
  ownershipParams,
  transferFromRow,
  transferParams,
  userFenceFromRow,
  userFenceParams,
  walletParams,
} from "./rows.js";
import { isConstraintError, type Row, SqlitePart } from "./sqlite-handle.js";

/** Migration on SQLite: ownership, fences and imports, each one immediate transaction or conditional statement. */
export class SqliteMigrationStore extends SqlitePart implements MigrationStore {
  async setWalletOwnership(walletId: string, expected: OwnershipExpectation, next: Ownership): Promise<boolean> {
    const info = this.stmt.setOwnership.run({
      wallet_id: walletId,
      ...ownershipParams(next),
      expected_state: expected.state,
      expected_migration: expected.migrationId ?? null,
    });
    return info.changes === 1;
  }

  async getUserFence(userId: string): Promise<UserFence | undefined> {
    const row = this.stmt.userFence.get(userId) as Row | undefined;
    return row ? userFenceFromRow(row) : undefined;
  }

  async setUserFence(userId: string, expected: UserFence | undefined, next: UserFence | undefined): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.stmt.userFence.get(userId) as Row | undefined;
        const current = row ? userFenceFromRow(row) : undefined;
        if (expected === undefined) {
          if (current || this.stmt.walletIdByUser.get(userId)) return false;
        } else if (current?.state !== expected.state || current.migrationId !== expected.migrationId) {
          return false;
        }
        if (current) this.stmt.deleteUserFence.run(userId);
        if (next) this.stmt.insertUserFence.run(userFenceParams({ ...next, userId }));
        return true;
      })
      .immediate();
  }

  async createImportedWallet(wallet: Wallet): Promise<"created" | "exists" | "user-has-wallet"> {
    return this.db
      .transaction(() => {
        if (this.stmt.wallet.get(wallet.walletId)) return "exists" as const;
        if (this.stmt.walletIdByUser.get(wallet.userId)) return "user-has-wallet" as const;
        this.stmt.deleteUserFence.run(wallet.userId);
        this.stmt.insertWallet.run(walletParams(wallet));
        return "created" as const;
      })
      .immediate();
  }

  async appendImportedEntries(batch: ImportedEntries): Promise<boolean> {
    return this.db
      .transaction(() => {
        const info = this.stmt.updateImporting.run({
          ...walletParams(batch.after),
          expected_version: batch.expectedVersion,
          expected_migration: batch.migrationId,
        });
        if (info.changes !== 1) return false;
        for (const entry of batch.entries) this.stmt.insertEntry.run(entryParams(entry));
        return true;
      })
      .immediate();
  }

  async putImportedTransfer(transfer: Transfer, expected: Transfer | undefined): Promise<boolean> {
    try {
      if (expected === undefined) return this.stmt.insertTransfer.run(transferParams(transfer)).changes === 1;
      const params = { ...transferParams(transfer), expected_status: expected.status };
      return this.stmt.replaceTransfer.run(params).changes === 1;
    } catch (error) {
      if (isConstraintError(error)) return false;
      throw error;
    }
  }

  async putImportedIdempotency(record: IdempotencyRecord, expected: IdempotencyRecord | undefined): Promise<boolean> {
    try {
      if (expected === undefined) return this.stmt.insertIdempotency.run(idempotencyParams(record)).changes === 1;
      return (
        this.stmt.replaceIdempotency.run({
          ...idempotencyParams(record),
          expected_fingerprint: expected.fingerprint,
          expected_status: expected.status,
        }).changes === 1
      );
    } catch (error) {
      if (isConstraintError(error)) return false;
      throw error;
    }
  }

  async getEntry(walletId: string, sequence: number): Promise<LedgerEntry | undefined> {
    const row = this.stmt.entry.get(walletId, sequence) as Row | undefined;
    return row ? entryFromRow(row) : undefined;
  }

  async *listIdempotencyKeysOfWallet(walletId: string, sinceMs = 0): AsyncIterable<string> {
    let after = { at: sinceMs, key: "" };
    for (;;) {
      const rows = this.stmt.idempotencyOfWallet.all(walletId, sinceMs, after.at, after.at, after.key, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const record = idempotencyFromRow(row);
        after = { at: record.createdAt, key: record.scopeKey };
        yield record.scopeKey;
      }
    }
  }

  async listPendingTransfersFrom(walletId: string, limit: number): Promise<Transfer[]> {
    return (this.stmt.pendingFrom.all(walletId, limit) as Row[]).map(transferFromRow);
  }
}
