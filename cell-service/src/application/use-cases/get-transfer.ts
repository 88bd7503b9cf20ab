import { isAllowed, problem } from "@cellwallet/contract";
import { type ApiResponse, fencedResponse, jsonResponse, problemResponse } from "../api-response.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { transferView } from "../views.js";
import { forbidden, publicAccess } from "./load-wallet.js";

/** A transfer is visible to its sender, its receiver, operators and auditors. */
export async function getTransfer(deps: CellDeps, ctx: OperationContext, transferId: string): Promise<ApiResponse> {
  const transfer = await deps.store.getTransfer(transferId);
  if (!transfer) {
    return problemResponse(problem("transfer-not-found", `transfer ${transferId} does not exist`), ctx.requestId);
  }
  const party =
    (transfer.fromUserId !== undefined && isAllowed(ctx.principal, "wallet:read", transfer.fromUserId)) ||
    (transfer.toUserId !== undefined && isAllowed(ctx.principal, "wallet:read", transfer.toUserId));
  if (!party) return problemResponse(forbidden(`read transfer ${transferId}`), ctx.requestId);
  if (transfer.status === "PENDING") {
    // The sender moved away with the transfer: its status changes there now, this copy would stay PENDING.
    const sender = await deps.store.getWallet(transfer.fromWalletId);
    const access = publicAccess(sender);
    if (access !== "visible" && access !== "absent") return fencedResponse(access, ctx.requestId);
  }
  return jsonResponse(200, transferView(transfer));
}
