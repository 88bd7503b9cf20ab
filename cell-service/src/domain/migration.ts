import { contextDigest, entryHash, problem } from "@cellwallet/contract";
import { isDebit, type LedgerEntry, toTransactionView } from "./ledger-entry.js";
import { fail, ok, type Result } from "./result.js";
import type { Transfer } from "./transfer.js";
import type { Wallet } from "./wallet.js";

/**
 * Pure rules of copying a wallet into another cell: an imported entry must
 * continue the copy's chain exactly (sequence, previous hash, running balance,
 * time, its own hash and context digest), and a copied record may only meet a
 * stored one it agrees with.
 */

const conflict = (detail: string) => problem("migration-conflict", detail);

/** Appends one copied entry to the importing copy's head, or says why it does not continue the chain. */
export function extendChain(head: Wallet, entry: LedgerEntry): Result<Wallet> {
  const at = `entry ${entry.sequence} of wallet ${entry.walletId}`;
  if (entry.walletId !== head.walletId) return fail(conflict(`${at} belongs to another wallet`));
  if (entry.sequence !== head.version + 1) {
    return fail(conflict(`${at} does not follow the copy's version ${head.version}`));
  }
  if (entry.prevHash !== head.headHash) return fail(conflict(`${at} does not link to the copy's head`));
  if (entry.currency !== head.currency) return fail(conflict(`${at} is in another currency`));
  if (entry.amount <= 0n) return fail(conflict(`${at} has a non-positive amount`));
  const balance = head.balance + (isDebit(entry.type) ? -entry.amount : entry.amount);
  if (balance < 0n || balance !== entry.balanceAfter) return fail(conflict(`${at} has a wrong running balance`));
  if (entry.createdAt < head.lastEntryAt) return fail(conflict(`${at} goes back in time`));
  if (contextDigest(entry.context) !== entry.contextDigest) {
    return fail(conflict(`${at} does not match its audit context`));
  }
  const { hash: _stored, ...fields } = toTransactionView(entry);
  if (entryHash(fields) !== entry.hash) return fail(conflict(`${at} does not match its hash`));
  return ok({
    ...head,
    balance,
    version: entry.sequence,
    headHash: entry.hash,
    lastEntryAt: entry.createdAt,
    updatedAt: Math.max(head.updatedAt, entry.createdAt),
  });
}

/** The same entry, member by member (its public fields and its stored audit context). */
export function sameEntry(a: LedgerEntry, b: LedgerEntry): boolean {
  return (
    JSON.stringify(toTransactionView(a)) === JSON.stringify(toTransactionView(b)) &&
    contextDigest(a.context) === contextDigest(b.context)
  );
}

const STATUS_RANK: Record<Transfer["status"], number> = { PENDING: 0, COMPLETED: 1, FAILED: 1 };

/**
 * A copied transfer record against the stored one with the same id:
 * - unchanged: nothing to do;
 * - replace: the copy is newer (a PENDING settled since), or the two are the two
 *   sides of one cross-cell transfer now in one cell (merged: the sender's status,
 *   the credit's sourceCellId);
 * - conflict: they disagree on what the transfer is.
 */
export function reconcileTransfer(
  stored: Transfer,
  copied: Transfer,
): { kind: "unchanged" } | { kind: "replace"; transfer: Transfer } | { kind: "conflict"; detail: string } {
  const same =
    stored.fromWalletId === copied.fromWalletId &&
    stored.toWalletId === copied.toWalletId &&
    stored.amount === copied.amount &&
    stored.currency === copied.currency;
  if (!same) return { kind: "conflict", detail: `transfer ${copied.transferId} differs from the stored one` };
  const bothFinal = STATUS_RANK[stored.status] === 1 && STATUS_RANK[copied.status] === 1;
  if (bothFinal && stored.status !== copied.status) {
    return { kind: "conflict", detail: `transfer ${copied.transferId} settled differently in the two cells` };
  }
  const merged: Transfer = { ...stored };
  for (const key of ["fromUserId", "toUserId", "reference", "destinationCellId", "sourceCellId"] as const) {
    const value = stored[key] ?? copied[key];
    if (value !== undefined) merged[key] = value;
  }
  // Sender's record and receiver's credit record of one cross-cell transfer, now in one cell: the
  // sender's status stands (it knows whether it was refunded); otherwise the more settled one.
  let decided: Transfer;
  if (isCreditRecord(stored) && isOutgoingRecord(copied)) decided = copied;
  else if (isCreditRecord(copied) && isOutgoingRecord(stored)) decided = stored;
  else decided = STATUS_RANK[copied.status] > STATUS_RANK[stored.status] ? copied : stored;
  merged.status = decided.status;
  if (decided.completedAt !== undefined) merged.completedAt = decided.completedAt;
  else delete merged.completedAt;
  return sameTransfer(stored, merged) ? { kind: "unchanged" } : { kind: "replace", transfer: merged };
}

function sameTransfer(a: Transfer, b: Transfer): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof Transfer>;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

const isCreditRecord = (t: Transfer) => t.sourceCellId !== undefined && t.destinationCellId === undefined;
const isOutgoingRecord = (t: Transfer) => t.destinationCellId !== undefined && t.sourceCellId === undefined;
