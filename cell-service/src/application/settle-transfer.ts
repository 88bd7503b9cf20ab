import { formatMinor } from "@cellwallet/contract";
import { post } from "../domain/ledger-entry.js";
import type { Transfer } from "../domain/transfer.js";
import type { ApiResponse } from "./api-response.js";
import { type IdempotencyTicket, recordFor } from "./idempotency.js";
import type { Changes } from "./ledger-store.js";
import type { CellDeps } from "./operation-context.js";
import type { CreditResult } from "./transfer-creditor.js";

export interface SettleOptions {
  /**
   * The client's provisional 202 outcome to replace by the final answer, in the same write (synchronous path
   * only). When a replay made it final first, the transfer is settled without it and no response is returned:
   * the caller answers the stored 202.
   */
  idempotency?: { ticket: IdempotencyTicket; respond(settled: Transfer): ApiResponse };
  requestId: string;
  /** The migration's settle step: settle a frozen wallet's transfers before its tail is copied. */
  allowFrozen?: boolean;
}

/**
 * Finishes an outgoing cross-cell transfer from the destination's definitive
 * answer: COMPLETED, or FAILED with the sender refunded (TRANSFER_REFUND).
 * Conditional on the transfer still being PENDING, so however many replicas and
 * retries race, it settles exactly once. Returns the transfer as it now stands
 * and whether this call settled it.
 */
export async function settleTransfer(
  deps: CellDeps,
  pending: Pick<Transfer, "transferId" | "fromWalletId">,
  answer: Exclude<CreditResult, { kind: "unavailable" }>,
  options: SettleOptions,
): Promise<{ transfer: Transfer | undefined; settledNow: boolean; response?: ApiResponse }> {
  type Settled = { transfer: Transfer | undefined; settledNow: boolean; response?: ApiResponse };
  const outcome = await deps.store.commit<Settled>({
    ...(options.allowFrozen ? { allowFrozen: true } : {}),
    walletIds: [pending.fromWalletId],
    transferIds: [pending.transferId],
    decide: ({ wallets, transfers, now }) => {
      const current = transfers.get(pending.transferId);
      if (current?.status !== "PENDING") {
        return { changes: {}, result: { transfer: current, settledNow: false } };
      }
      let changes: Changes;
      let settled: Transfer;
      if (answer.kind === "credited") {
        settled = { ...current, status: "COMPLETED", completedAt: now, toUserId: answer.toUserId };
        changes = { transfers: [{ transfer: settled, expectedStatus: "PENDING" }] };
      } else {
        const sender = wallets.get(current.fromWalletId);
        if (!sender) throw new Error(`sender wallet ${current.fromWalletId} of ${current.transferId} is missing`);
        const refund = post(
          sender,
          {
            transactionId: deps.newId(),
            type: "TRANSFER_REFUND",
            amount: current.amount,
            transferId: current.transferId,
            counterpartyWalletId: current.toWalletId,
            ...(current.reference !== undefined ? { reference: current.reference } : {}),
            context: { principal: `cell:${deps.cellId}`, requestId: options.requestId },
          },
          now,
        );
        if (!refund.ok) throw new Error("a refund is a credit and cannot be refused");
        settled = { ...current, status: "FAILED", completedAt: refund.value.entry.createdAt };
        changes = {
          walletUpdates: [{ wallet: refund.value.wallet, expectedVersion: sender.version }],
          entries: [refund.value.entry],
          transfers: [{ transfer: settled, expectedStatus: "PENDING" }],
        };
      }
      let response: ApiResponse | undefined;
      if (options.idempotency) {
        response = options.idempotency.respond(settled);
        changes.idempotencyUpdate = {
          record: recordFor(options.idempotency.ticket, response, now, current.fromWalletId),
        };
      }
      return { changes, result: { transfer: settled, settledNow: true, ...(response ? { response } : {}) } };
    },
  });
  // A sender frozen, moved or being imported is not settled here now: the migration's settle step
  // (frozen) or the owning cell (after the move) settles it, conditional on PENDING as always.
  if (!outcome.ok && outcome.reason === "fenced") return { transfer: undefined, settledNow: false };
  if (!outcome.ok && outcome.reason === "idempotency-final") {
    const { idempotency: _answeredAlready, ...withoutAnswer } = options;
    return settleTransfer(deps, pending, answer, withoutAnswer);
  }
  if (!outcome.ok) throw new Error(`settling ${pending.transferId} failed: ${outcome.reason}`);
  const { transfer, settledNow, response } = outcome.result;
  if (settledNow && transfer) {
    deps.onOperation?.("cross-cell-settle", transfer.status === "COMPLETED" ? "ok" : "refunded");
  }
  return { transfer, settledNow, ...(response ? { response } : {}) };
}

/** The credit request for a pending transfer. */
export function creditRequestFor(deps: CellDeps, t: Transfer) {
  return {
    transferId: t.transferId,
    fromWalletId: t.fromWalletId,
    toWalletId: t.toWalletId,
    amount: formatMinor(t.amount, t.currency),
    currency: t.currency,
    sourceCellId: deps.cellId,
    ...(t.reference !== undefined ? { reference: t.reference } : {}),
  };
}
