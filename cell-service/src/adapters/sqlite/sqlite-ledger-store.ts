import { ComposedLedgerStore } from "../../application/composed-ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import { SqliteAuditStore } from "./sqlite-audit-store.js";
import { openLedgerDatabase, prepareStatements, type SqliteHandle } from "./sqlite-handle.js";
import { SqliteMigrationStore } from "./sqlite-migration-store.js";
import { SqliteMoneyPathStore } from "./sqlite-money-path-store.js";
import { SqliteWriterThread } from "./sqlite-writer-thread.js";

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
export class SqliteLedgerStore extends ComposedLedgerStore {
  readonly moneyPath: SqliteMoneyPathStore;
  readonly audit: SqliteAuditStore;
  readonly migration: SqliteMigrationStore;
  private readonly handle: SqliteHandle;
  private readonly writer: SqliteWriterThread;

  constructor(options: SqliteStoreOptions) {
    super();
    const db = openLedgerDatabase(options.path, options.busyTimeoutMs);
    this.handle = { db, stmt: prepareStatements(db) };
    // The money path's writes go through their own connection on a thread of their own (see SqliteMoneyPathStore).
    this.writer = new SqliteWriterThread({ path: options.path, busyTimeoutMs: options.busyTimeoutMs });
    this.moneyPath = new SqliteMoneyPathStore(this.handle, this.writer, options.maxBatch ?? 256);
    this.audit = new SqliteAuditStore(this.handle);
    this.migration = new SqliteMigrationStore(this.handle);
  }

  observe(observer: StoreObserver): void {
    this.moneyPath.observe(observer);
  }

  /** Removes idempotency records past their retention (kept at least 24 h by configuration). */
  sweepIdempotency(nowMs: number): number {
    return this.handle.stmt.sweepIdempotency.run(nowMs).changes;
  }

  /** Ready only while the money path can be written: a replica whose writer thread died leaves the rotation. */
  async ping(): Promise<void> {
    this.handle.stmt.ping.get();
    const failure = this.writer.failure();
    if (failure) throw failure;
  }

  async close(): Promise<void> {
    await this.moneyPath.drain();
    await this.writer.close();
    this.handle.db.close();
  }
}
