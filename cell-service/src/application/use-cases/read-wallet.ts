import { isAllowed, problem } from "@cellwallet/contract";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { walletView } from "../views.js";
import { forbidden, loadAuthorized } from "./load-wallet.js";

export async function getWallet(deps: CellDeps, ctx: OperationContext, walletId: string): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return problemResponse(loaded.problem, ctx.requestId);
  return jsonResponse(200, walletView(loaded.wallet));
}

/** `GET /wallets?userId=U`: the user's wallet as a list (empty when none). */
export async function findWalletsByUser(deps: CellDeps, ctx: OperationContext, userId: string): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "wallet:read", userId)) {
    return problemResponse(forbidden(`read the wallets of user ${userId}`), ctx.requestId);
  }
  const walletId = await deps.store.getWalletIdByUser(userId);
  const wallet = walletId ? await deps.store.getWallet(walletId) : undefined;
  if (walletId && !wallet) {
    return problemResponse(problem("internal-error", "owner record without wallet"), ctx.requestId);
  }
  return jsonResponse(200, { items: wallet ? [walletView(wallet)] : [] });
}
