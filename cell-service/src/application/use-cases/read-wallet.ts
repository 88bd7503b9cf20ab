import { isAllowed, problem } from "@cellwallet/contract";
import { type ApiResponse, fencedResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { walletView } from "../views.js";
import { forbidden, loadAuthorized, publicAccess, refusedLoad } from "./load-wallet.js";

export async function getWallet(deps: CellDeps, ctx: OperationContext, walletId: string): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
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
  if (!walletId) {
    // A user without a wallet whom a migration fenced or moved away: the answer belongs to the other cell.
    const fence = await deps.store.getUserFence(userId);
    if (fence?.state === "moved") {
      return fencedResponse({ state: "moved", userId, movedTo: fence.targetCellId }, ctx.requestId);
    }
  }
  const access = publicAccess(wallet);
  if (access !== "visible" && access !== "absent") return fencedResponse(access, ctx.requestId);
  return jsonResponse(200, { items: wallet && access === "visible" ? [walletView(wallet)] : [] });
}
