import { type CreditRequest, formatTimestamp, parseAmount, problem } from "@cellwallet/contract";
import { post } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { walletNotFound } from "./load-wallet.js";

/**
 * The destination side of a cross-cell transfer: credits the receiver exactly
 * once per transfer id. The transfer record written with the credit is the
 * idempotency guard, so a repeated request (retry, worker, other replica)
 * confirms without crediting again. Refusals (unknown wallet, other currency)
 * are definitive: nothing is credited and the source cell refunds the sender.
 */
export async function creditIncomingTransfer(
  deps: CellDeps,
  ctx: OperationContext,
  request: CreditRequest,
): Promise<ApiResponse> {
  const receiver = await deps.store.getWallet(request.toWalletId);
  if (!receiver) return problemResponse(walletNotFound(request.toWalletId), ctx.requestId);
  if (receiver.currency !== request.currency) {
    return problemResponse(
      problem("currency-mismatch", `wallet ${receiver.walletId} holds ${receiver.currency}, not ${request.currency}`),
      ctx.requestId,
    );
  }
  const amount = parseAmount(request.amount, request.currency);
  if (!amount.ok) return problemResponse(problem("invalid-amount", amount.reason), ctx.requestId);

  const transactionId = deps.newId();
  const outcome = await deps.store.commit({
    walletIds: [request.toWalletId],
    transferIds: [request.transferId],
    decide: ({ wallets, transfers, now }) => {
      const earlier = transfers.get(request.transferId);
      if (earlier) return { changes: {}, result: { transfer: earlier, credited: false } };
      const wallet = wallets.get(request.toWalletId);
      if (!wallet) throw new Error(`wallet ${request.toWalletId} vanished`);
      const credit = post(
        wallet,
        {
          transactionId,
          type: "TRANSFER_IN",
          amount: amount.minor,
          transferId: request.transferId,
          counterpartyWalletId: request.fromWalletId,
          context: ctx.audit,
          ...(request.reference !== undefined ? { reference: request.reference } : {}),
        },
        now,
      );
      if (!credit.ok) throw new Error("a credit cannot be refused");
      const transfer: Transfer = {
        transferId: request.transferId,
        fromWalletId: request.fromWalletId,
        toWalletId: request.toWalletId,
        toUserId: wallet.userId,
        amount: amount.minor,
        currency: request.currency,
        status: "COMPLETED",
        createdAt: credit.value.entry.createdAt,
        completedAt: credit.value.entry.createdAt,
        sourceCellId: request.sourceCellId,
        ...(request.reference !== undefined ? { reference: request.reference } : {}),
      };
      return {
        changes: {
          walletUpdates: [{ wallet: credit.value.wallet, expectedVersion: wallet.version }],
          entries: [credit.value.entry],
          transfers: [{ transfer }],
        },
        result: { transfer, credited: true },
      };
    },
  });
  if (!outcome.ok) throw new Error(`credit commit refused: ${outcome.reason}`);
  const { transfer, credited } = outcome.result;
  if (transfer.toWalletId !== request.toWalletId || transfer.amount !== amount.minor) {
    // Same transfer id, different content: never credit it, and say so loudly.
    return problemResponse(
      problem("validation-error", `transfer ${request.transferId} was already credited with other details`),
      ctx.requestId,
    );
  }
  if (credited) deps.onOperation?.("cross-cell-credit", "ok");
  return jsonResponse(credited ? 201 : 200, {
    transferId: transfer.transferId,
    status: "COMPLETED",
    toUserId: transfer.toUserId,
    creditedAt: formatTimestamp(transfer.completedAt ?? transfer.createdAt),
  });
}
