import { tracingEnabled, withSpan } from "@cellwallet/telemetry";
import type {
  Changes,
  CommitOutcome,
  CommitRequest,
  EntryPage,
  IdempotencyRecord,
  MoneyPathStore,
} from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import { type Fence, writeFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import {
  entryFromRow,
  entryParams,
  idempotencyFromRow,
  idempotencyParams,
  transferFromRow,
  transferParams,
  userFenceFromRow,
  walletFromRow,
  walletParams,
} from "./rows.js";
import { asContention, isConstraintError, type Row, type SqliteHandle, SqlitePart } from "./sqlite-handle.js";

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

/**
 * The money path on SQLite. Concurrent commits are grouped: all operations that arrive within one event-loop
 * turn run in one transaction (each in its own savepoint, so one refusal never undoes another) and share one
 * fsync.
 */
export class SqliteMoneyPathStore extends SqlitePart implements MoneyPathStore {
  private readonly queue: Pending[] = [];
  private flushScheduled = false;
  private readonly maxBatch: number;
  private observer: StoreObserver | undefined;

  constructor(handle: SqliteHandle, maxBatch: number) {
    super(handle);
    this.maxBatch = maxBatch;
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

  /** Resolves once every queued commit has been flushed (before the database closes). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled) await new Promise((r) => setImmediate(r));
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

  /** Two local reads: nothing to save on an embedded store. */
  async getWalletAndIdempotency(
    walletId: string,
    scopeKey: string,
  ): Promise<{ wallet: Wallet | undefined; idempotency: IdempotencyRecord | undefined }> {
    return { wallet: await this.getWallet(walletId), idempotency: await this.getIdempotency(scopeKey) };
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
}
