import { type ApiResponse, jsonResponse } from "../api-response.js";
import { verifyWallet } from "../cell-verification.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { loadAuthorized, refusedLoad } from "./load-wallet.js";

/**
 * Recomputes the wallet's whole chain from the store (streamed, O(1) memory) and
 * checks the wallet's balance, version and head against it.
 */
export async function auditWallet(deps: CellDeps, ctx: OperationContext, walletId: string): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
  const result = await verifyWallet(deps.store, loaded.wallet);
  return jsonResponse(200, {
    walletId,
    valid: result.valid,
    entries: result.entries,
    headHash: result.headHash,
    firstInvalidSequence: result.firstInvalidSequence,
  });
}
