import type { CommitOutcome, CommitRequest } from "../../application/ledger-store.js";
import { type Fence, writeFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { type BatchOperation, type ReadSet, transferToken, walletToken } from "./commit-batch.js";
import { transferFromRow, walletFromRow } from "./rows.js";
import type { Row, Statements } from "./sqlite-handle.js";

export interface Queued {
  request: CommitRequest<unknown>;
  resolve(outcome: CommitOutcome<unknown>): void;
  reject(error: unknown): void;
}

export interface DecidedOperation<P extends Queued> {
  pending: P;
  operation: BatchOperation;
  result: unknown;
}

/**
 * Decides a group of commits on the request thread, in order: each on the rows as committed, or as the
 * operations before it in the group will leave them if they are written (so a busy wallet still takes many
 * operations per fsync). What each decision read goes with it, for the writer to check. A fenced wallet is
 * answered here (nothing to write); a decide() that throws rejects its own commit only.
 */
export function decideGroup<P extends Queued>(stmt: Statements, group: P[]): DecidedOperation<P>[] {
  const wallets = new Map<string, Wallet | undefined>();
  const transfers = new Map<string, Transfer | undefined>();
  const wallet = (id: string) => (wallets.has(id) ? wallets.get(id) : readWallet(stmt, id));
  const transfer = (id: string) => (transfers.has(id) ? transfers.get(id) : readTransfer(stmt, id));
  const decided: DecidedOperation<P>[] = [];
  for (const pending of group) {
    const { request } = pending;
    const reads: ReadSet = { wallets: [], transfers: [] };
    const seenWallets = new Map<string, Wallet>();
    for (const id of new Set(request.walletIds)) {
      const w = wallet(id);
      if (w) seenWallets.set(id, w);
      reads.wallets.push([id, w ? walletToken(w) : null]);
    }
    const fence = firstFence(seenWallets, request.allowFrozen);
    if (fence) {
      pending.resolve({ ok: false, reason: "fenced", fence });
      continue;
    }
    const seenTransfers = new Map<string, Transfer>();
    for (const id of new Set(request.transferIds ?? [])) {
      const t = transfer(id);
      if (t) seenTransfers.set(id, t);
      reads.transfers.push([id, t ? transferToken(t) : null]);
    }
    let decision: ReturnType<CommitRequest<unknown>["decide"]>;
    try {
      // Entry times still never go backwards on a wallet: the domain dates an entry no earlier than the wallet's
      // last one, and the writer checks that the wallet is still as read.
      decision = request.decide({ wallets: seenWallets, transfers: seenTransfers, now: Date.now() });
    } catch (error) {
      pending.reject(error);
      continue;
    }
    const { changes, result } = decision;
    // What the next operations of the group see, as the writer's statements will leave the rows.
    if (changes.newWallet) wallets.set(changes.newWallet.walletId, changes.newWallet);
    for (const { wallet: next } of changes.walletUpdates ?? []) {
      const before = seenWallets.get(next.walletId) ?? next;
      wallets.set(next.walletId, {
        ...before,
        balance: next.balance,
        version: next.version,
        headHash: next.headHash,
        lastEntryAt: next.lastEntryAt,
        updatedAt: next.updatedAt,
      });
    }
    for (const { transfer: next, expectedStatus } of changes.transfers ?? []) {
      const before = seenTransfers.get(next.transferId);
      transfers.set(next.transferId, expectedStatus === undefined || !before ? next : statusChanged(before, next));
    }
    decided.push({ pending, operation: { reads, changes, allowFrozen: request.allowFrozen === true }, result });
  }
  return decided;
}

export function refusal(
  reason: "idempotency-exists" | "idempotency-final" | "user-has-wallet" | "fenced",
  fence: Fence | undefined,
): CommitOutcome<never> {
  if (reason !== "fenced") return { ok: false, reason };
  if (!fence) throw new Error("a fenced refusal carries its fence");
  return { ok: false, reason, fence };
}

function firstFence(wallets: ReadonlyMap<string, Wallet>, allowFrozen: boolean | undefined): Fence | undefined {
  for (const w of wallets.values()) {
    const fence = writeFence(w.walletId, w.ownership, allowFrozen);
    if (fence) return fence;
  }
  return undefined;
}

/** The columns the status update writes (`updateTransfer`); the source cell is kept when none is given. */
function statusChanged(before: Transfer, next: Transfer): Transfer {
  const { completedAt: _c, toUserId: _t, ...rest } = before;
  return {
    ...rest,
    status: next.status,
    ...(next.completedAt !== undefined ? { completedAt: next.completedAt } : {}),
    ...(next.toUserId !== undefined ? { toUserId: next.toUserId } : {}),
    ...((next.sourceCellId ?? before.sourceCellId) !== undefined
      ? { sourceCellId: next.sourceCellId ?? before.sourceCellId }
      : {}),
  };
}

function readWallet(stmt: Statements, id: string): Wallet | undefined {
  const row = stmt.wallet.get(id) as Row | undefined;
  return row ? walletFromRow(row) : undefined;
}

function readTransfer(stmt: Statements, id: string): Transfer | undefined {
  const row = stmt.transfer.get(id) as Row | undefined;
  return row ? transferFromRow(row) : undefined;
}
