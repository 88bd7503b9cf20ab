import type Database from "better-sqlite3";
import type { Changes } from "../../application/ledger-store.js";
import type { Fence } from "../../domain/ownership.js";
import {
  type BatchOperation,
  type BatchReply,
  type BatchRequest,
  type OperationResult,
  transferToken,
  walletToken,
} from "./commit-batch.js";
import {
  entryParams,
  idempotencyParams,
  transferFromRow,
  transferParams,
  userFenceFromRow,
  walletFromRow,
  walletParams,
} from "./rows.js";
import { isBusyError, isConstraintError, type Row, type Statements } from "./sqlite-handle.js";

/** A constraint the store enforces that a caller must handle (not a bug). */
class Refused extends Error {
  constructor(
    readonly reason: "idempotency-exists" | "idempotency-final" | "user-has-wallet" | "fenced",
    readonly fence?: Fence,
  ) {
    super(reason);
  }
}

/** A row the decision read is no longer as it was read. */
class Stale extends Error {}

/**
 * The writing half of the embedded money path, run by the writer thread on its own connection: one group commit
 * per batch (BEGIN IMMEDIATE, a savepoint per operation so one refusal never undoes another, one COMMIT and so one
 * fsync). Every operation is written only if every row its decision read is still as it was read, so a decision
 * taken on the request thread is exactly as valid as one taken under the write lock.
 */
export class SqliteBatchWriter {
  constructor(
    private readonly db: Database.Database,
    private readonly stmt: Statements,
  ) {}

  write(request: BatchRequest): BatchReply {
    const began = performance.now();
    const seconds = () => (performance.now() - began) / 1000;
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      return { batchId: request.batchId, failure: failureOf(error), transactionSeconds: seconds(), commitSeconds: 0 };
    }
    const results = request.operations.map((op) => this.writeOne(op));
    const committing = performance.now();
    try {
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      return { batchId: request.batchId, failure: failureOf(error), transactionSeconds: seconds(), commitSeconds: 0 };
    }
    const done = performance.now();
    return {
      batchId: request.batchId,
      results,
      transactionSeconds: (done - began) / 1000,
      commitSeconds: (done - committing) / 1000,
    };
  }

  private writeOne(op: BatchOperation): OperationResult {
    this.db.exec("SAVEPOINT op");
    try {
      this.checkReads(op);
      this.apply(op.changes, op.allowFrozen);
      this.db.exec("RELEASE op");
      return { kind: "written" };
    } catch (error) {
      this.db.exec("ROLLBACK TO op");
      this.db.exec("RELEASE op");
      if (error instanceof Stale) return { kind: "stale" };
      if (error instanceof Refused) {
        return { kind: "refused", reason: error.reason, ...(error.fence ? { fence: error.fence } : {}) };
      }
      return { kind: "error", message: error instanceof Error ? error.message : String(error) };
    }
  }

  private checkReads(op: BatchOperation): void {
    for (const [walletId, token] of op.reads.wallets) {
      const row = this.stmt.wallet.get(walletId) as Row | undefined;
      if ((row ? walletToken(walletFromRow(row)) : null) !== token) throw new Stale();
    }
    for (const [transferId, token] of op.reads.transfers) {
      const row = this.stmt.transfer.get(transferId) as Row | undefined;
      if ((row ? transferToken(transferFromRow(row)) : null) !== token) throw new Stale();
    }
  }

  private apply(changes: Changes, allowFrozen: boolean): void {
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
      // The wallet was checked unchanged since the decision read it, so a refusal here is a bug, not contention.
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
}

function failureOf(error: unknown): { message: string; busy: boolean } {
  return { message: error instanceof Error ? error.message : String(error), busy: isBusyError(error) };
}
