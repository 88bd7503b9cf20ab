import { parseAmount, problem } from "@cellwallet/contract";
import { fail, ok } from "../../domain/result.js";
import { checkTransferable, transferWithinCell } from "../../domain/transfer.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { runOperation } from "../run-operation.js";
import { transferLocation, transferView } from "../views.js";
import { loadAuthorized, walletNotFound } from "./load-wallet.js";

export interface TransferInput {
  fromWalletId: string;
  toWalletId: string;
  amount: unknown;
  reference?: string;
}

/**
 * Moves money from the caller's wallet to another. Within a cell both entries,
 * both wallet updates, the transfer record and the outcome are one atomic write.
 */
export async function transferFunds(deps: CellDeps, ctx: OperationContext, input: TransferInput): Promise<ApiResponse> {
  const from = await loadAuthorized(deps, ctx, input.fromWalletId, "wallet:transfer-out");
  if (!from.ok) return problemResponse(from.problem, ctx.requestId);
  const amount = parseAmount(input.amount, from.wallet.currency);
  if (!amount.ok) return problemResponse(problem("invalid-amount", amount.reason), ctx.requestId);
  const same = checkTransferable(input.fromWalletId, input.toWalletId);
  if (same.ok && !(await deps.store.getWallet(input.toWalletId))) {
    return problemResponse(walletNotFound(input.toWalletId), ctx.requestId);
  }

  const ids = { transferId: deps.newId(), outTransactionId: deps.newId(), inTransactionId: deps.newId() };
  return runOperation(deps, ctx, {
    type: "transfer",
    walletIds: same.ok ? [input.fromWalletId, input.toWalletId] : [input.fromWalletId],
    decide: ({ wallets, now }) => {
      if (!same.ok) return same;
      const source = wallets.get(input.fromWalletId);
      const destination = wallets.get(input.toWalletId);
      if (!source) return fail(walletNotFound(input.fromWalletId));
      if (!destination) return fail(walletNotFound(input.toWalletId));
      const moved = transferWithinCell(
        source,
        destination,
        {
          ...ids,
          amount: amount.minor,
          context: ctx.audit,
          ...(input.reference !== undefined ? { reference: input.reference } : {}),
        },
        now,
      );
      if (!moved.ok) return moved;
      const { transfer, from: fromAfter, to: toAfter, entries } = moved.value;
      return ok({
        changes: {
          walletUpdates: [
            { wallet: fromAfter, expectedVersion: source.version, debit: amount.minor },
            { wallet: toAfter, expectedVersion: destination.version },
          ],
          entries,
          transfers: [{ transfer }],
        },
        response: jsonResponse(201, transferView(transfer), transferLocation(transfer.transferId)),
      });
    },
  });
}
