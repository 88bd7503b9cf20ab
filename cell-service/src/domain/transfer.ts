import type { AuditContext } from "@cellwallet/contract";
import { type LedgerEntry, post } from "./ledger-entry.js";
import { fail, ok, type Result } from "./result.js";
import type { Wallet } from "./wallet.js";

export type TransferStatus = "PENDING" | "COMPLETED" | "FAILED";

/**
 * A transfer between two wallets. Same-cell transfers are COMPLETED in the
 * transaction that creates them. The record carries both owners (so either side
 * may read it) and the destination cell, so a cross-cell transfer can be stored
 * PENDING by the source cell and completed or failed later from another cell.
 */
export interface Transfer {
  transferId: string;
  fromWalletId: string;
  toWalletId: string;
  /** Unknown on the destination cell's record of an incoming cross-cell transfer. */
  fromUserId?: string;
  /** Known when the destination wallet is local; learnt from the destination cell otherwise. */
  toUserId?: string;
  amount: bigint;
  currency: string;
  status: TransferStatus;
  createdAt: number;
  completedAt?: number;
  reference?: string;
  /** Cell holding the destination wallet when it is not this cell (outgoing cross-cell transfer). */
  destinationCellId?: string;
  /** Cell that debited the sender (the destination cell's record of an incoming cross-cell transfer). */
  sourceCellId?: string;
}

export interface TransferRequest {
  transferId: string;
  outTransactionId: string;
  inTransactionId: string;
  amount: bigint;
  reference?: string;
  context: AuditContext;
}

export interface SameCellTransfer {
  transfer: Transfer;
  from: Wallet;
  to: Wallet;
  entries: [LedgerEntry, LedgerEntry];
}

/** Checks the rules every transfer shares, before any money moves. */
export function checkTransferable(fromWalletId: string, toWalletId: string): Result<void> {
  if (fromWalletId === toWalletId) {
    return fail({ code: "same-wallet-transfer", detail: "fromWalletId and toWalletId are the same wallet" });
  }
  return ok(undefined);
}

/** Debits `from` and credits `to` in one step: both entries or neither. */
export function transferWithinCell(
  from: Wallet,
  to: Wallet,
  request: TransferRequest,
  now: number,
): Result<SameCellTransfer> {
  const allowed = checkTransferable(from.walletId, to.walletId);
  if (!allowed.ok) return allowed;
  if (from.currency !== to.currency) {
    return fail({
      code: "currency-mismatch",
      detail: `cannot transfer ${from.currency} from ${from.walletId} to ${to.walletId}, which holds ${to.currency}`,
    });
  }
  const shared = {
    amount: request.amount,
    transferId: request.transferId,
    context: request.context,
    ...(request.reference !== undefined ? { reference: request.reference } : {}),
  };
  const debit = post(
    from,
    { ...shared, transactionId: request.outTransactionId, type: "TRANSFER_OUT", counterpartyWalletId: to.walletId },
    now,
  );
  if (!debit.ok) return debit;
  const credit = post(
    to,
    { ...shared, transactionId: request.inTransactionId, type: "TRANSFER_IN", counterpartyWalletId: from.walletId },
    now,
  );
  if (!credit.ok) return credit;
  const completedAt = Math.max(debit.value.entry.createdAt, credit.value.entry.createdAt);
  const transfer: Transfer = {
    transferId: request.transferId,
    fromWalletId: from.walletId,
    toWalletId: to.walletId,
    fromUserId: from.userId,
    toUserId: to.userId,
    amount: request.amount,
    currency: from.currency,
    status: "COMPLETED",
    createdAt: debit.value.entry.createdAt,
    completedAt,
  };
  if (request.reference !== undefined) transfer.reference = request.reference;
  return ok({
    transfer,
    from: debit.value.wallet,
    to: credit.value.wallet,
    entries: [debit.value.entry, credit.value.entry],
  });
}
