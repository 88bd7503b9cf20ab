import { problem } from "@cellwallet/contract";
import { toTransactionView } from "../../domain/ledger-entry.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { loadAuthorized, refusedLoad } from "./load-wallet.js";

export async function getTransaction(
  deps: CellDeps,
  ctx: OperationContext,
  walletId: string,
  transactionId: string,
): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
  const entry = await deps.store.getEntryByTransactionId(walletId, transactionId);
  if (!entry) {
    return problemResponse(
      problem("transaction-not-found", `transaction ${transactionId} is not in wallet ${walletId}`),
      ctx.requestId,
    );
  }
  return jsonResponse(200, toTransactionView(entry));
}
