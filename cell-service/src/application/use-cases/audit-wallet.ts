import { ChainVerifier, minorFromFormatted } from "@cellwallet/contract";
import { toTransactionView } from "../../domain/ledger-entry.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { loadAuthorized } from "./load-wallet.js";

/**
 * Recomputes the wallet's whole chain from the store (streamed, O(1) memory) and
 * checks the wallet's balance, version and head against it.
 */
export async function auditWallet(deps: CellDeps, ctx: OperationContext, walletId: string): Promise<ApiResponse> {
  const loaded = await loadAuthorized(deps, ctx, walletId, "wallet:read");
  if (!loaded.ok) return problemResponse(loaded.problem, ctx.requestId);
  const wallet = loaded.wallet;
  const verifier = new ChainVerifier(minorFromFormatted);
  for await (const entry of deps.store.streamEntries(walletId)) verifier.add(toTransactionView(entry));
  const chain = verifier.result();
  let firstInvalidSequence = chain.firstInvalidSequence;
  if (firstInvalidSequence === null) {
    if (wallet.version > chain.entries)
      firstInvalidSequence = chain.entries + 1; // entries missing at the head
    else if (
      wallet.version !== chain.entries ||
      wallet.headHash !== chain.headHash ||
      wallet.balance !== verifier.balance
    ) {
      firstInvalidSequence = Math.max(1, chain.entries);
    }
  }
  return jsonResponse(200, {
    walletId,
    valid: firstInvalidSequence === null,
    entries: chain.entries,
    headHash: chain.headHash,
    firstInvalidSequence,
  });
}
