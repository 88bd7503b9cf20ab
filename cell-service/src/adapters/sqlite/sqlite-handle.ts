import { openSqliteFile } from "@cellwallet/store-support/sqlite";
import type Database from "better-sqlite3";
import { ContentionError } from "../../application/ledger-store.js";
import { ADDED_COLUMNS, LATE_INDEXES, SCHEMA } from "./schema.js";

export type Row = Record<string, unknown>;

export function isConstraintError(error: unknown): boolean {
  return error instanceof Error && "code" in error && String(error.code).startsWith("SQLITE_CONSTRAINT");
}

/** Another connection held the lock past busy_timeout. */
export function isBusyError(error: unknown): boolean {
  return error instanceof Error && "code" in error && /^SQLITE_(BUSY|LOCKED)/.test(String(error.code));
}

/**
 * Another process (replica) held the write lock past busy_timeout: nothing was
 * written, so this is an outage-like condition (503, retry) rather than a bug (500).
 */
export function asContention(error: unknown): unknown {
  return isBusyError(error) ? lockHeldElsewhere() : error;
}

export function lockHeldElsewhere(): ContentionError {
  return new ContentionError("the ledger's write lock is held by another replica; retry later");
}

/** Columns added after a file was first created (an older cell's file is upgraded in place). */
function addMissingColumns(db: Database.Database): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/** Opens (creating or upgrading) a ledger file; a cell's AZ replicas open one file together. */
export function openLedgerDatabase(path: string, busyTimeoutMs?: number): Database.Database {
  // openSqliteFile waits out the replicas' start-up races.
  return openSqliteFile(path, {
    busyTimeoutMs,
    initialise: (db) => {
      db.exec(SCHEMA);
      addMissingColumns(db);
      db.exec(LATE_INDEXES);
    },
  });
}

/** The part of better-sqlite3's Statement the store uses (its own type cannot be named in declarations). */
export interface Statement {
  run(...params: unknown[]): Database.RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** Every statement of the store, prepared once on the shared database handle. */
export function prepareStatements(db: Database.Database) {
  const prepare = (sql: string): Statement => db.prepare(sql).safeIntegers(true);
  return {
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

export type Statements = ReturnType<typeof prepareStatements>;

/** What every part of the SQLite ledger store shares: one database handle and its prepared statements. */
export interface SqliteHandle {
  readonly db: Database.Database;
  readonly stmt: Statements;
}

/** The base of each role's part. */
export abstract class SqlitePart {
  protected readonly db: Database.Database;
  protected readonly stmt: Statements;

  constructor(handle: SqliteHandle) {
    this.db = handle.db;
    this.stmt = handle.stmt;
  }
}
