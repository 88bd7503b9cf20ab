import { openSqliteFile } from "@cellwallet/store-support/sqlite";
import { tracingEnabled, withSpan } from "@cellwallet/telemetry";
import type Database from "better-sqlite3";
import {
  type Changes,
  type CommitOutcome,
  type CommitRequest,
  ContentionError,
  type EntryPage,
  type IdempotencyRecord,
  type ImportedEntries,
  type LedgerStore,
  type OwnershipExpectation,
} from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import { type Checkpoint, checkpointFromJson, checkpointToJson, type WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import { type Fence, type Ownership, type UserFence, writeFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import {
  entryFromRow,
  entryParams,
  headFromRow,
  idempotencyFromRow,
  idempotencyParams,
  ownershipParams,
  transferFromRow,
  transferParams,
  userFenceFromRow,
  userFenceParams,
  walletFromRow,
  walletParams,
} from "./rows.js";
import { ADDED_COLUMNS, LATE_INDEXES, SCHEMA } from "./schema.js";

export interface SqliteStoreOptions {
  /** Database file; several processes (the AZ replicas of a local cell) may share it. */
  path: string;
  /** Most operations in one group commit. */
  maxBatch?: number;
  /** How long a writer waits for another process's write lock, in ms. */
  busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

interface Pending {
  request: CommitRequest<unknown>;
  resolve(outcome: CommitOutcome<unknown>): void;
  reject(error: unknown): void;
}

/** A constraint the store enforces that a caller must handle (not a bug). */
class Refused extends Error {
  constructor(
    readonly reason: "idempotency-exists" | "idempotency-final" | "user-has-wallet" | "fenced",
    readonly fence?: Fence,
  ) {
    super(reason);
  }

  outcome(): CommitOutcome<never> {
    if (this.reason === "fenced" && this.fence) return { ok: false, reason: "fenced", fence: this.fence };
    if (this.reason === "fenced") throw new Error("a fenced refusal carries its fence");
    return { ok: false, reason: this.reason };
  }
}

const SQLITE_SPAN = { "db.system": "sqlite", "db.operation.name": "COMMIT" };

function isConstraintError(error: unknown): boolean {
  return error instanceof Error && "code" in error && String(error.code).startsWith("SQLITE_CONSTRAINT");
}

/**
 * Another process (replica) held the write lock past busy_timeout: nothing was
 * written, so this is an outage-like condition (503, retry) rather than a bug (500).
 */
function asContention(error: unknown): unknown {
  const busy = error instanceof Error && "code" in error && /^SQLITE_(BUSY|LOCKED)/.test(String(error.code));
  return busy ? new ContentionError("the ledger's write lock is held by another replica; retry later") : error;
}

/** Columns added after a file was first created (an older cell's file is upgraded in place). */
function addMissingColumns(db: Database.Database): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/**
 * The embedded store on SQLite (better-sqlite3): WAL with synchronous=FULL, so
 * every commit is fsynced. Concurrent commits are grouped: all operations that
 * arrive within one event-loop turn run in one transaction (each in its own
 * savepoint, so one refusal never undoes another) and share one fsync.
 */
export class SqliteLedgerStore implements LedgerStore {
  private readonly db: Database.Database;
  private readonly queue: Pending[] = [];
  private flushScheduled = false;
  private readonly maxBatch: number;
  private readonly stmt;
  private observer: StoreObserver | undefined;

  constructor(options: SqliteStoreOptions) {
    // A cell's AZ replicas open one file together: openSqliteFile waits out their start-up races.
    this.db = openSqliteFile(options.path, {
      busyTimeoutMs: options.busyTimeoutMs,
      initialise: (db) => {
        db.exec(SCHEMA);
        addMissingColumns(db);
        db.exec(LATE_INDEXES);
      },
    });
    this.maxBatch = options.maxBatch ?? 256;
    const prepare = (sql: string) => this.db.prepare(sql).safeIntegers(true);
    this.stmt = {
      wallet: prepare("SELECT * FROM wallets WHERE wallet_id = ?"),
      walletIdByUser: prepare("SELECT wallet_id FROM wallets WHERE user_id = ?"),
      insertWallet: prepare(
        `INSERT INTO wallets (wallet_id, user_id, currency, balance, version, head_hash, last_entry_at, created_at,
           updated_at, state, epoch, migration_id, peer_cell_id)
         VALUES (@wallet_id, @user_id, @currency, @balance, @version, @head_hash, @last_entry_at, @created_at,
           @updated_at, @state, @epoch, @migration_id, @peer_cell_id)`,
      ),
      // The ownership check is part of the write: a wallet frozen meanwhile is never updated.
      updateWallet: prepare(
        `UPDATE wallets SET balance = @balance, version = @version, head_hash = @head_hash,
           last_entry_at = @last_entry_at, updated_at = @updated_at
         WHERE wallet_id = @wallet_id AND version = @expected_version AND balance >= @debit
           AND (state = 'active' OR (state = 'frozen' AND @allow_frozen = 1))`,
      ),
      updateImporting: prepare(
        `UPDATE wallets SET balance = @balance, version = @version, head_hash = @head_hash,
           last_entry_at = @last_entry_at, updated_at = @updated_at
         WHERE wallet_id = @wallet_id AND version = @expected_version AND state = 'importing'
           AND migration_id = @expected_migration`,
      ),
      setOwnership: prepare(
        `UPDATE wallets SET state = @state, epoch = @epoch, migration_id = @migration_id, peer_cell_id = @peer_cell_id
         WHERE wallet_id = @wallet_id AND state = @expected_state
           AND (@expected_migration IS NULL OR migration_id = @expected_migration)`,
      ),
      userFence: prepare("SELECT * FROM user_fences WHERE user_id = ?"),
      insertUserFence: prepare(
        `INSERT INTO user_fences (user_id, state, epoch, migration_id, target_cell_id)
         VALUES (@user_id, @state, @epoch, @migration_id, @target_cell_id)`,
      ),
      deleteUserFence: prepare("DELETE FROM user_fences WHERE user_id = ?"),
      entry: prepare("SELECT * FROM entries WHERE wallet_id = ? AND sequence = ?"),
      idempotencyOfWallet: prepare(
        `SELECT * FROM idempotency WHERE wallet_id = ? AND created_at >= ?
           AND (created_at > ? OR (created_at = ? AND scope_key > ?)) ORDER BY created_at, scope_key LIMIT ?`,
      ),
      pendingFrom: prepare(
        `SELECT * FROM transfers WHERE from_wallet_id = ? AND status = 'PENDING' AND destination_cell_id IS NOT NULL
         ORDER BY created_at LIMIT ?`,
      ),
      replaceTransfer: prepare(
        `UPDATE transfers SET from_user_id = @from_user_id, to_user_id = @to_user_id, status = @status,
           completed_at = @completed_at, reference = @reference, destination_cell_id = @destination_cell_id,
           source_cell_id = @source_cell_id
         WHERE transfer_id = @transfer_id AND status = @expected_status`,
      ),
      replaceIdempotency: prepare(
        `UPDATE idempotency SET fingerprint = @fingerprint, status = @status, content_type = @content_type,
           location = @location, body = @body, created_at = @created_at, expires_at = @expires_at, wallet_id = @wallet_id
         WHERE scope_key = @scope_key AND fingerprint = @expected_fingerprint AND status = @expected_status`,
      ),
      insertEntry: prepare(
        `INSERT INTO entries (wallet_id, sequence, transaction_id, type, amount, currency, balance_after, created_at,
           context_digest, prev_hash, hash, reference, transfer_id, counterparty_wallet_id, context)
         VALUES (@wallet_id, @sequence, @transaction_id, @type, @amount, @currency, @balance_after, @created_at,
           @context_digest, @prev_hash, @hash, @reference, @transfer_id, @counterparty_wallet_id, @context)`,
      ),
      insertTransfer: prepare(
        `INSERT INTO transfers (transfer_id, from_wallet_id, to_wallet_id, from_user_id, to_user_id, amount, currency,
           status, created_at, completed_at, reference, destination_cell_id, source_cell_id)
         VALUES (@transfer_id, @from_wallet_id, @to_wallet_id, @from_user_id, @to_user_id, @amount, @currency,
           @status, @created_at, @completed_at, @reference, @destination_cell_id, @source_cell_id)`,
      ),
      updateTransfer: prepare(
        `UPDATE transfers SET status = @status, completed_at = @completed_at, to_user_id = @to_user_id,
           source_cell_id = COALESCE(@source_cell_id, source_cell_id)
         WHERE transfer_id = @transfer_id AND status = @expected_status`,
      ),
      insertIdempotency: prepare(
        `INSERT INTO idempotency (scope_key, fingerprint, status, content_type, location, body, created_at, expires_at,
           wallet_id, provisional)
         VALUES (@scope_key, @fingerprint, @status, @content_type, @location, @body, @created_at, @expires_at,
           @wallet_id, @provisional)`,
      ),
      updateIdempotency: prepare(
        `UPDATE idempotency SET status = @status, content_type = @content_type, location = @location, body = @body,
           provisional = 0
         WHERE scope_key = @scope_key AND fingerprint = @fingerprint AND provisional = 1`,
      ),
      finalizeIdempotency: prepare("UPDATE idempotency SET provisional = 0 WHERE scope_key = ? AND provisional = 1"),
      idempotency: prepare("SELECT * FROM idempotency WHERE scope_key = ?"),
      pendingTransfers: prepare(
        `SELECT * FROM transfers WHERE status = 'PENDING' AND created_at <= ? AND destination_cell_id IS NOT NULL
         ORDER BY created_at LIMIT ?`,
      ),
      transfer: prepare("SELECT * FROM transfers WHERE transfer_id = ?"),
      entryByTransaction: prepare("SELECT * FROM entries WHERE wallet_id = ? AND transaction_id = ?"),
      latestAtOrBefore: prepare(
        `SELECT * FROM entries WHERE wallet_id = ? AND created_at <= ?
         ORDER BY created_at DESC, sequence DESC LIMIT 1`,
      ),
      page: prepare(
        `SELECT * FROM entries
         WHERE wallet_id = @wallet_id AND created_at >= @from AND created_at <= @to
           AND (created_at < @before_at OR (created_at = @before_at AND sequence < @before_seq))
         ORDER BY created_at DESC, sequence DESC LIMIT @limit`,
      ),
      insertHead: prepare(
        `INSERT INTO snapshot_heads (snapshot_id, wallet_id, currency, balance, version, head_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      headsAfter: prepare(
        "SELECT * FROM snapshot_heads WHERE snapshot_id = ? AND wallet_id > ? ORDER BY wallet_id LIMIT ?",
      ),
      insertCheckpoint: prepare("INSERT INTO checkpoints (sequence, body) VALUES (?, ?) ON CONFLICT DO NOTHING"),
      checkpointsAfter: prepare("SELECT body FROM checkpoints WHERE sequence > ? ORDER BY sequence LIMIT ?"),
      latestCheckpoint: prepare("SELECT body FROM checkpoints ORDER BY sequence DESC LIMIT 1"),
      checkpoint: prepare("SELECT body FROM checkpoints WHERE sequence = ?"),
      transfersAfter: prepare("SELECT * FROM transfers WHERE transfer_id > ? ORDER BY transfer_id LIMIT ?"),
      walletsAfter: prepare("SELECT * FROM wallets WHERE wallet_id > ? ORDER BY wallet_id LIMIT ?"),
      ascending: prepare("SELECT * FROM entries WHERE wallet_id = ? AND sequence > ? ORDER BY sequence LIMIT ?"),
      sweepIdempotency: prepare("DELETE FROM idempotency WHERE expires_at < ?"),
      ping: prepare("SELECT 1"),
    };
  }

  observe(observer: StoreObserver): void {
    this.observer = observer;
  }

  commit<T>(request: CommitRequest<T>): Promise<CommitOutcome<T>> {
    // With tracing on, one span per operation from queueing to its group commit's fsync (shared by the batch).
    if (!tracingEnabled()) return this.enqueue(request);
    return withSpan("sqlite commit", SQLITE_SPAN, () => this.enqueue(request));
  }

  private enqueue<T>(request: CommitRequest<T>): Promise<CommitOutcome<T>> {
    return new Promise<CommitOutcome<T>>((resolve, reject) => {
      this.queue.push({ request, resolve: resolve as Pending["resolve"], reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** One group commit: BEGIN IMMEDIATE, a savepoint per operation, one COMMIT (one fsync). */
  private flush(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    const settled: { pending: Pending; outcome?: CommitOutcome<unknown>; error?: unknown }[] = [];
    const began = performance.now();
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      for (const pending of batch) pending.reject(asContention(error));
      return;
    }
    for (const pending of batch) {
      this.db.exec("SAVEPOINT op");
      try {
        const outcome = this.applyOne(pending.request);
        this.db.exec("RELEASE op");
        settled.push({ pending, outcome });
      } catch (error) {
        this.db.exec("ROLLBACK TO op");
        this.db.exec("RELEASE op");
        if (error instanceof Refused) settled.push({ pending, outcome: error.outcome() });
        else settled.push({ pending, error });
      }
    }
    const committing = performance.now();
    try {
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      for (const pending of batch) pending.reject(asContention(error));
      return;
    }
    if (this.observer?.sqliteCommit) {
      const done = performance.now();
      this.observer.sqliteCommit((done - began) / 1000, (done - committing) / 1000, batch.length);
    }
    for (const { pending, outcome, error } of settled) {
      if (outcome) pending.resolve(outcome);
      else pending.reject(error);
    }
  }

  private applyOne(request: CommitRequest<unknown>): CommitOutcome<unknown> {
    const wallets = new Map<string, Wallet>();
    for (const id of request.walletIds) {
      const row = this.stmt.wallet.get(id) as Row | undefined;
      if (row) wallets.set(id, walletFromRow(row));
    }
    for (const wallet of wallets.values()) {
      const fence = writeFence(wallet.walletId, wallet.ownership, request.allowFrozen);
      if (fence) return { ok: false, reason: "fenced", fence };
    }
    const transfers = new Map<string, Transfer>();
    for (const id of request.transferIds ?? []) {
      const row = this.stmt.transfer.get(id) as Row | undefined;
      if (row) transfers.set(id, transferFromRow(row));
    }
    // Under the write lock, so entry times are monotonic across processes too.
    const { changes, result } = request.decide({ wallets, transfers, now: Date.now() });
    this.write(changes, request.allowFrozen === true);
    return { ok: true, result };
  }

  private write(changes: Changes, allowFrozen: boolean): void {
    if (changes.idempotency) {
      try {
        this.stmt.insertIdempotency.run(idempotencyParams(changes.idempotency));
      } catch (error) {
        if (isConstraintError(error)) throw new Refused("idempotency-exists");
        throw error;
      }
    }
    if (changes.newWallet) {
      const fenced = this.stmt.userFence.get(changes.newWallet.userId) as Row | undefined;
      if (fenced) {
        const fence = userFenceFromRow(fenced);
        throw new Refused("fenced", {
          state: fence.state,
          userId: fence.userId,
          ...(fence.state === "moved" ? { movedTo: fence.targetCellId } : {}),
        });
      }
      try {
        this.stmt.insertWallet.run(walletParams(changes.newWallet));
      } catch (error) {
        if (isConstraintError(error) && this.stmt.walletIdByUser.get(changes.newWallet.userId)) {
          throw new Refused("user-has-wallet");
        }
        throw error;
      }
    }
    for (const update of changes.walletUpdates ?? []) {
      const info = this.stmt.updateWallet.run({
        ...walletParams(update.wallet),
        expected_version: update.expectedVersion,
        debit: update.debit ?? 0n,
        allow_frozen: allowFrozen ? 1 : 0,
      });
      // Decisions are made under the lock, so a stale version here is a bug, not contention.
      if (info.changes !== 1) throw new Error(`wallet ${update.wallet.walletId} changed under the write lock`);
    }
    for (const entry of changes.entries ?? []) this.stmt.insertEntry.run(entryParams(entry));
    for (const { transfer, expectedStatus } of changes.transfers ?? []) {
      if (expectedStatus === undefined) {
        this.stmt.insertTransfer.run(transferParams(transfer));
      } else {
        const info = this.stmt.updateTransfer.run({ ...transferParams(transfer), expected_status: expectedStatus });
        if (info.changes !== 1) throw new Error(`transfer ${transfer.transferId} is not ${expectedStatus}`);
      }
    }
    if (changes.idempotencyUpdate) {
      const info = this.stmt.updateIdempotency.run(idempotencyParams(changes.idempotencyUpdate.record));
      // Someone answered from the provisional record first: that answer stands (the savepoint undoes the rest).
      if (info.changes !== 1) throw new Refused("idempotency-final");
    }
  }

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

  async getWallet(walletId: string): Promise<Wallet | undefined> {
    const row = this.stmt.wallet.get(walletId) as Row | undefined;
    return row ? walletFromRow(row) : undefined;
  }

  async getWalletIdByUser(userId: string): Promise<string | undefined> {
    const row = this.stmt.walletIdByUser.get(userId) as Row | undefined;
    return row ? String(row.wallet_id) : undefined;
  }

  async finalizeIdempotency(scopeKey: string): Promise<boolean> {
    return this.stmt.finalizeIdempotency.run(scopeKey).changes === 1;
  }

  async getIdempotency(scopeKey: string): Promise<IdempotencyRecord | undefined> {
    const row = this.stmt.idempotency.get(scopeKey) as Row | undefined;
    return row ? idempotencyFromRow(row) : undefined;
  }

  async getTransfer(transferId: string): Promise<Transfer | undefined> {
    const row = this.stmt.transfer.get(transferId) as Row | undefined;
    return row ? transferFromRow(row) : undefined;
  }

  async listPendingTransfers(createdBeforeMs: number, limit: number): Promise<Transfer[]> {
    return (this.stmt.pendingTransfers.all(createdBeforeMs, limit) as Row[]).map(transferFromRow);
  }

  async getEntryByTransactionId(walletId: string, transactionId: string): Promise<LedgerEntry | undefined> {
    const row = this.stmt.entryByTransaction.get(walletId, transactionId) as Row | undefined;
    return row ? entryFromRow(row) : undefined;
  }

  async getLatestEntryAtOrBefore(walletId: string, atMs: number): Promise<LedgerEntry | undefined> {
    const row = this.stmt.latestAtOrBefore.get(walletId, atMs) as Row | undefined;
    return row ? entryFromRow(row) : undefined;
  }

  async listEntries(walletId: string, page: EntryPage): Promise<LedgerEntry[]> {
    const rows = this.stmt.page.all({
      wallet_id: walletId,
      from: page.fromMs ?? Number.MIN_SAFE_INTEGER,
      to: page.toMs ?? Number.MAX_SAFE_INTEGER,
      before_at: page.before?.createdAt ?? Number.MAX_SAFE_INTEGER,
      before_seq: page.before?.sequence ?? Number.MAX_SAFE_INTEGER,
      limit: page.limit,
    }) as Row[];
    return rows.map(entryFromRow);
  }

  async *streamEntries(walletId: string, afterSequence = 0): AsyncIterable<LedgerEntry> {
    let after = afterSequence;
    for (;;) {
      const rows = this.stmt.ascending.all(walletId, after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const entry = entryFromRow(row);
        after = entry.sequence;
        yield entry;
      }
    }
  }

  async *streamWallets(): AsyncIterable<Wallet> {
    let after = "";
    for (;;) {
      const rows = this.stmt.walletsAfter.all(after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const wallet = walletFromRow(row);
        after = wallet.walletId;
        yield wallet;
      }
    }
  }

  async *streamTransfers(): AsyncIterable<Transfer> {
    let after = "";
    for (;;) {
      const rows = this.stmt.transfersAfter.all(after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const transfer = transferFromRow(row);
        after = transfer.transferId;
        yield transfer;
      }
    }
  }

  async putSnapshotHeads(snapshotId: string, heads: readonly WalletHead[]): Promise<void> {
    for (let i = 0; i < heads.length; i += 1000) {
      const chunk = heads.slice(i, i + 1000);
      this.db
        .transaction(() => {
          for (const h of chunk) {
            this.stmt.insertHead.run(snapshotId, h.walletId, h.currency, h.balance, h.version, h.headHash);
          }
        })
        .immediate();
      await new Promise((r) => setImmediate(r));
    }
  }

  async *streamSnapshotHeads(snapshotId: string): AsyncIterable<WalletHead> {
    let after = "";
    for (;;) {
      const rows = this.stmt.headsAfter.all(snapshotId, after, 500) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const head = headFromRow(row);
        after = head.walletId;
        yield head;
      }
    }
  }

  async appendCheckpoint(checkpoint: Checkpoint): Promise<boolean> {
    return this.stmt.insertCheckpoint.run(checkpoint.sequence, checkpointToJson(checkpoint)).changes === 1;
  }

  async *streamCheckpoints(): AsyncIterable<Checkpoint> {
    let after = 0;
    for (;;) {
      const rows = this.stmt.checkpointsAfter.all(after, 100) as Row[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const checkpoint = checkpointFromJson(String(row.body));
        after = checkpoint.sequence;
        yield checkpoint;
      }
    }
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = this.stmt.latestCheckpoint.get() as Row | undefined;
    return row ? checkpointFromJson(String(row.body)) : undefined;
  }

  async getCheckpoint(sequence: number): Promise<Checkpoint | undefined> {
    const row = this.stmt.checkpoint.get(sequence) as Row | undefined;
    return row ? checkpointFromJson(String(row.body)) : undefined;
  }

  /** Removes idempotency records past their retention (kept at least 24 h by configuration). */
  sweepIdempotency(nowMs: number): number {
    return this.stmt.sweepIdempotency.run(nowMs).changes;
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled) await new Promise((r) => setImmediate(r));
    this.db.close();
  }
}
