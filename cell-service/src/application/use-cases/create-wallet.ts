import { cellScopedId, isAllowed, problem } from "@cellwallet/contract";
import { ok } from "../../domain/result.js";
import { openWallet } from "../../domain/wallet.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { runOperation } from "../run-operation.js";
import { walletLocation, walletView } from "../views.js";
import { forbidden, publicAccess } from "./load-wallet.js";

export interface CreateWalletInput {
  userId: string;
  currency: string;
}

/** Opens the user's one wallet; the store's uniqueness record makes a second one impossible. */
export async function createWallet(
  deps: CellDeps,
  ctx: OperationContext,
  input: CreateWalletInput,
): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "wallet:create", input.userId)) {
    return problemResponse(forbidden(`create a wallet for user ${input.userId}`), ctx.requestId);
  }
  return runOperation(deps, ctx, {
    type: "create-wallet",
    walletIds: [],
    decide: ({ now }) => {
      const wallet = openWallet(cellScopedId(deps.newId(), deps.cellId), input.userId, input.currency, now);
      return ok({
        changes: { newWallet: wallet },
        response: jsonResponse(201, walletView(wallet), walletLocation(wallet.walletId)),
      });
    },
    onUserHasWallet: async () => {
      const walletId = await deps.store.getWalletIdByUser(input.userId);
      // The user's wallet moved to another cell: the answer is that cell's (a stale route), not a 409 from here.
      const access = publicAccess(walletId ? await deps.store.getWallet(walletId) : undefined);
      if (access !== "visible" && access !== "absent") return { fence: access };
      return problem("wallet-already-exists", `user ${input.userId} already has wallet ${walletId}`, { walletId });
    },
  });
}
