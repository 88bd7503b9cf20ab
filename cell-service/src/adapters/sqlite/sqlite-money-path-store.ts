import { tracingEnabled, withSpan } from "@cellwallet/telemetry";
import {
  type CommitOutcome,
  type CommitRequest,
  ContentionError,
  type EntryPage,
  type IdempotencyRecord,
  type MoneyPathStore,
} from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import type { BatchReply } from "./commit-batch.js";
import { type DecidedOperation, decideGroup, refusal } from "./decide-group.js";
import { entryFromRow, idempotencyFromRow, transferFromRow, walletFromRow } from "./rows.js";
import { asContention, lockHeldElsewhere, type Row, type SqliteHandle, SqlitePart } from "./sqlite-handle.js";
import type { SqliteWriterThread } from "./sqlite-writer-thread.js";

interface Pending {
  request: CommitRequest<unknown>;
  resolve(outcome: CommitOutcome<unknown>): void;
  reject(error: unknown): void;
  /** Times it was decided and found stale at write time. */
  stale: number;
}

/** Decisions found stale this many times in a row give up with a 503 (another replica keeps winning). */
const MAX_STALE = 16;

const SQLITE_SPAN = { "db.system": "sqlite", "db.operation.name": "COMMIT" };

/**
 * The money path on SQLite. Concurrent commits are grouped: the operations that arrive while the previous group
 * is being written are decided together on this thread (each on the rows as committed, or as the operations
 * before it in the group leave them) and sent to the writer thread as one batch, written in one transaction
 * (each in its own savepoint, so one refusal never undoes another) with one fsync. The writer checks that every
 * row a decision read is still as read; a stale decision is decided again in the next group. So this thread
 * parses and answers requests while the previous group's fsync runs.
 */
export class SqliteMoneyPathStore extends SqlitePart implements MoneyPathStore {
  private readonly queue: Pending[] = [];
  private flushScheduled = false;
  private writing = false;
  private readonly maxBatch: number;
  private observer: StoreObserver | undefined;

  constructor(
    handle: SqliteHandle,
    private readonly writer: SqliteWriterThread,
    maxBatch: number,
  ) {
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
      this.queue.push({ request, resolve: resolve as Pending["resolve"], reject, stale: 0 });
      this.scheduleFlush();
    });
  }

  /** At most one group is written at a time; the next one gathers what arrives meanwhile. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, this.maxBatch);
    if (group.length === 0) return;
    this.writing = true;
    try {
      let decided: DecidedOperation<Pending>[];
      try {
        decided = decideGroup(this.stmt, group);
      } catch (error) {
        // A read failed (the database is closed or unreadable): nothing was decided or written.
        for (const pending of group) pending.reject(asContention(error));
        return;
      }
      if (decided.length > 0) await this.write(decided);
    } finally {
      this.writing = false;
      if (this.queue.length > 0) this.scheduleFlush();
    }
  }

  private async write(decided: DecidedOperation<Pending>[]): Promise<void> {
    let reply: BatchReply;
    try {
      reply = await this.writer.write(decided.map((d) => d.operation));
    } catch (error) {
      for (const { pending } of decided) pending.reject(error);
      return;
    }
    const { results, failure } = reply;
    if (!results) {
      const error = failure?.busy ? lockHeldElsewhere() : new Error(`SQLite group commit failed: ${failure?.message}`);
      for (const { pending } of decided) pending.reject(error);
      return;
    }
    this.observer?.sqliteCommit?.(reply.transactionSeconds, reply.commitSeconds, decided.length);
    const again: Pending[] = [];
    decided.forEach(({ pending, result }, i) => {
      const verdict = results[i] ?? { kind: "error", message: "the writer returned no result" };
      if (verdict.kind === "written") pending.resolve({ ok: true, result });
      else if (verdict.kind === "stale") {
        pending.stale++;
        if (pending.stale >= MAX_STALE) pending.reject(new ContentionError());
        else {
          this.observer?.contentionRetry?.();
          again.push(pending);
        }
      } else if (verdict.kind === "refused") pending.resolve(refusal(verdict.reason, verdict.fence));
      else pending.reject(new Error(verdict.message));
    });
    // Decided again first, in their order, on the rows as this group left them.
    this.queue.unshift(...again);
  }

  /** Resolves once every queued commit has been written (before the database closes). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled || this.writing) await new Promise((r) => setImmediate(r));
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
