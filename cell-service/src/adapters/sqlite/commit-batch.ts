import type { Changes } from "../../application/ledger-store.js";
import type { Fence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";

/**
 * What the money path's thread and the SQLite writer thread say to each other (structured clone: bigints and
 * plain objects only). The request thread decides; the writer checks that every row the decision read is still
 * as read, writes the changes, and commits a whole batch with one fsync.
 */

/** A row's state as a decision saw it: a stable token, or null when the row was absent. */
export type ReadToken = string | null;

/** The rows a decision read: checked again under the write lock before its changes are written. */
export interface ReadSet {
  wallets: [walletId: string, token: ReadToken][];
  transfers: [transferId: string, token: ReadToken][];
}

export interface BatchOperation {
  reads: ReadSet;
  changes: Changes;
  allowFrozen: boolean;
}

export interface BatchRequest {
  batchId: number;
  operations: BatchOperation[];
}

export type OperationResult =
  | { kind: "written" }
  /** A row the decision read has changed since (another replica wrote it, or an earlier operation failed). */
  | { kind: "stale" }
  | {
      kind: "refused";
      reason: "idempotency-exists" | "idempotency-final" | "user-has-wallet" | "fenced";
      fence?: Fence;
    }
  | { kind: "error"; message: string };

export interface BatchReply {
  batchId: number;
  /** One per operation, in order; absent when the batch as a whole failed (`failure`). */
  results?: OperationResult[];
  /** BEGIN or COMMIT failed: nothing of the batch was written. `busy`: another replica held the lock too long. */
  failure?: { message: string; busy: boolean };
  transactionSeconds: number;
  commitSeconds: number;
}

/** Everything a decision depends on in a wallet row (ownership included: a freeze does not change the version). */
export function walletToken(w: Wallet): string {
  const o = w.ownership;
  return [
    w.version,
    w.headHash,
    w.balance,
    w.lastEntryAt,
    w.userId,
    w.currency,
    o.state,
    o.epoch,
    o.migrationId ?? "",
    o.peerCellId ?? "",
  ].join("|");
}

export function transferToken(t: Transfer): string {
  return [
    t.status,
    t.completedAt ?? "",
    t.fromUserId ?? "",
    t.toUserId ?? "",
    t.sourceCellId ?? "",
    t.destinationCellId ?? "",
    t.amount,
    t.fromWalletId,
    t.toWalletId,
  ].join("|");
}
