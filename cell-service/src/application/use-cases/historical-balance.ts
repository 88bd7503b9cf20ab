import { formatMinor, formatTimestamp, problem } from "@cellwallet/contract";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { loadAuthorized, refusedLoad } from "./load-wallet.js";

/**
 * The balance after the last entry created at or before `atMs`: one indexed
 * lookup (entry times never decrease with sequence), never a replay.
 */
export async function historicalBalance(
  deps: CellDeps,
  ctx: OperationContext,
  walletId: string,
  atMs: number,
  nowMs: number,
): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return refusedLoad(loaded, ctx.requestId);
  if (atMs > nowMs) {
    return problemResponse(
      problem("timestamp-in-future", `timestamp ${formatTimestamp(atMs)} is after now (${formatTimestamp(nowMs)})`),
      ctx.requestId,
    );
  }
  const entry = await deps.store.getLatestEntryAtOrBefore(walletId, atMs);
  const currency = loaded.wallet.currency;
  return jsonResponse(200, {
    walletId,
    currency,
    balance: formatMinor(entry?.balanceAfter ?? 0n, currency),
    timestamp: formatTimestamp(atMs),
    sequence: entry?.sequence ?? 0,
  });
}
