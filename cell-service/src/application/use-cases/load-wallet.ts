import { type Action, isAllowed, type Problem, problem } from "@cellwallet/contract";
import type { Fence } from "../../domain/ownership.js";
import type { Wallet } from "../../domain/wallet.js";
import { type ApiResponse, fencedResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";

export const walletNotFound = (walletId: string): Problem =>
  problem("wallet-not-found", `wallet ${walletId} does not exist`);

export const forbidden = (what: string): Problem => problem("forbidden", `the principal may not ${what}`);

/** Loads a wallet and checks the principal may perform `action` on it. */
/**
 * What public callers may see of a stored copy: an active or frozen wallet is
 * served (a frozen one refuses writes at commit); a moved one, or one still being
 * imported, answers 503 (+ Wallet-Location when moved); an abandoned import does not exist.
 */
export function publicAccess(wallet: Wallet | undefined): "visible" | "absent" | Fence {
  if (!wallet || wallet.ownership.state === "abandoned") return "absent";
  const { state, peerCellId } = wallet.ownership;
  if (state === "moved") {
    return { state, walletId: wallet.walletId, ...(peerCellId !== undefined ? { movedTo: peerCellId } : {}) };
  }
  if (state === "importing") return { state, walletId: wallet.walletId };
  return "visible";
}

export async function loadAuthorized(
  deps: CellDeps,
  ctx: OperationContext,
  walletId: string,
  action: Action,
): Promise<{ ok: true; wallet: Wallet } | { ok: false; problem: Problem } | { ok: false; fence: Fence }> {
  const wallet = await readWallet(deps, ctx, walletId);
  const access = publicAccess(wallet);
  if (access === "absent" || !wallet) return { ok: false, problem: walletNotFound(walletId) };
  if (access !== "visible") return { ok: false, fence: access };
  if (!isAllowed(ctx.principal, action, wallet.userId)) {
    return { ok: false, problem: forbidden(`${action.replace("wallet:", "")} on wallet ${walletId}`) };
  }
  return { ok: true, wallet };
}

/** With an Idempotency-Key, the key's record is read in the same round trip (kept on the ticket for lookup). */
async function readWallet(deps: CellDeps, ctx: OperationContext, walletId: string): Promise<Wallet | undefined> {
  const ticket = ctx.idempotency;
  if (!ticket) return deps.store.getWallet(walletId);
  const { wallet, idempotency } = await deps.store.getWalletAndIdempotency(walletId, ticket.scopeKey);
  ticket.prefetched = { record: idempotency };
  return wallet;
}

/** The answer for a wallet loadAuthorized refused: its problem, or the fence's 503. */
export function refusedLoad(refusal: { problem: Problem } | { fence: Fence }, requestId: string): ApiResponse {
  return "fence" in refusal ? fencedResponse(refusal.fence, requestId) : problemResponse(refusal.problem, requestId);
}
