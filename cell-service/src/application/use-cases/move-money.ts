import { parseAmount } from "@cellwallet/contract";
import { post, toTransactionView } from "../../domain/ledger-entry.js";
import { fail, ok } from "../../domain/result.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { runOperation } from "../run-operation.js";
import { transactionLocation } from "../views.js";
import { amountProblem } from "./amount-problem.js";
import { loadAuthorized, refusedLoad, walletNotFound } from "./load-wallet.js";

export interface MoveMoneyInput {
  walletId: string;
  /** As received: a string or a JsonNumber; parsed against the wallet's currency. */
  amount: unknown;
  reference?: string;
}

/** Deposit or withdrawal: one entry on one wallet, atomically with its outcome. */
export async function moveMoney(
  deps: CellDeps,
  ctx: OperationContext,
  kind: "deposit" | "withdraw",
  input: MoveMoneyInput,
): Promise<ApiResponse> {
  const loaded = await loadAuthorized(
    deps,
    ctx,
    input.walletId,
    kind === "deposit" ? "wallet:deposit" : "wallet:withdraw",
  );
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
  const amount = parseAmount(input.amount, loaded.wallet.currency);
  if (!amount.ok) return problemResponse(amountProblem(amount), ctx.requestId);

  const transactionId = deps.newId();
  return runOperation(deps, ctx, {
    type: kind,
    walletIds: [input.walletId],
    known: [loaded.wallet],
    decide: ({ wallets, now }) => {
      const wallet = wallets.get(input.walletId);
      if (!wallet) return fail(walletNotFound(input.walletId));
      const posted = post(
        wallet,
        {
          transactionId,
          type: kind === "deposit" ? "DEPOSIT" : "WITHDRAWAL",
          amount: amount.minor,
          context: ctx.audit,
          ...(input.reference !== undefined ? { reference: input.reference } : {}),
        },
        now,
      );
      if (!posted.ok) return posted;
      const { entry, wallet: after } = posted.value;
      return ok({
        changes: {
          walletUpdates: [
            { wallet: after, expectedVersion: wallet.version, ...(kind === "withdraw" ? { debit: amount.minor } : {}) },
          ],
          entries: [entry],
        },
        response: jsonResponse(201, toTransactionView(entry), transactionLocation(entry.walletId, entry.transactionId)),
      });
    },
  });
}
