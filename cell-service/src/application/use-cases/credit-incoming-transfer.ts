import { type CreditRequest, formatTimestamp, parseAmount, problem } from "@cellwallet/contract";
import { post } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import { type ApiResponse, fencedResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { publicAccess, walletNotFound } from "./load-wallet.js";

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
  const access = publicAccess(receiver);
  if (access === "absent" || !receiver) return problemResponse(walletNotFound(request.toWalletId), ctx.requestId);
  // Moved: 503 + Wallet-Location (the router re-forwards to the new cell); importing: 503, the sender retries.
  if (access !== "visible") return fencedResponse(access, ctx.requestId);
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
      // This cell's own outgoing record of the transfer (the receiver moved in after it was sent)
      // is not a credit: the credit is recorded on it (sourceCellId), once, conditional on its status.
      const outgoingHere = earlier !== undefined && isOutgoingRecord(earlier);
      if (earlier && !outgoingHere) return { changes: {}, result: { transfer: earlier, credited: false } };
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
      if (earlier && outgoingHere) {
        const merged: Transfer = { ...earlier, toUserId: wallet.userId, sourceCellId: request.sourceCellId };
        return {
          changes: {
            walletUpdates: [{ wallet: credit.value.wallet, expectedVersion: wallet.version }],
            entries: [credit.value.entry],
            transfers: [{ transfer: merged, expectedStatus: earlier.status }],
          },
          result: { transfer: { ...merged, completedAt: credit.value.entry.createdAt }, credited: true },
        };
      }
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
  if (!outcome.ok && outcome.reason === "fenced") return fencedResponse(outcome.fence, ctx.requestId);
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

/** An outgoing cross-cell record of this cell that holds no credit yet (a credit sets sourceCellId). */
function isOutgoingRecord(t: Transfer): boolean {
  return t.destinationCellId !== undefined && t.sourceCellId === undefined;
}
