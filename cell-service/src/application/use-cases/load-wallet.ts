import { type Action, isAllowed, type Problem, problem } from "@cellwallet/contract";
import type { Wallet } from "../../domain/wallet.js";
import type { CellDeps, OperationContext } from "../operation-context.js";

export const walletNotFound = (walletId: string): Problem =>
  problem("wallet-not-found", `wallet ${walletId} does not exist`);

export const forbidden = (what: string): Problem => problem("forbidden", `the principal may not ${what}`);

/** Loads a wallet and checks the principal may perform `action` on it. */
export async function loadAuthorized(
  deps: CellDeps,
  ctx: OperationContext,
  walletId: string,
  action: Action,
): Promise<{ ok: true; wallet: Wallet } | { ok: false; problem: Problem }> {
  const wallet = await deps.store.getWallet(walletId);
  if (!wallet) return { ok: false, problem: walletNotFound(walletId) };
  if (!isAllowed(ctx.principal, action, wallet.userId)) {
    return { ok: false, problem: forbidden(`${action.replace("wallet:", "")} on wallet ${walletId}`) };
  }
  return { ok: true, wallet };
}
