import { type MigrationWalletStatus, problem } from "@cellwallet/contract";
import { fail, ok, type Result } from "../../domain/result.js";
import type { CellDeps } from "../operation-context.js";
import { creditRequestFor, settleTransfer } from "../settle-transfer.js";
import { mapLimit } from "./map-limit.js";
import { currentStatus, locate, pendingOutgoing } from "./wallet-status.js";

/**
 * Source, after the freeze: asks the destinations of the wallet's outgoing
 * cross-cell transfers still PENDING to credit them now (idempotent by transfer
 * id) and settles each from the answer (COMPLETED, or FAILED with a refund),
 * so the frozen head is final before the tail is copied. Answers the status
 * with the transfers still pending (destination unreachable): the control plane
 * waits a bounded time, then rolls back.
 */
export async function settleWallet(
  deps: CellDeps,
  userId: string,
  requestId: string,
): Promise<Result<MigrationWalletStatus>> {
  const { wallet } = await locate(deps.store, userId);
  if (!wallet) return ok(await currentStatus(deps.store, userId, true));
  const { state } = wallet.ownership;
  if (state !== "frozen" && state !== "active") {
    return fail(problem("migration-conflict", `cannot settle: wallet ${wallet.walletId} is ${state} here`));
  }
  const creditor = deps.creditor;
  if (creditor) {
    // Side by side: the control plane's call must not wait for one destination after another.
    await mapLimit(await pendingOutgoing(deps.store, wallet), 8, async (transfer) => {
      const answer = await creditor.credit(creditRequestFor(deps, transfer), `${requestId}-${transfer.transferId}`);
      if (answer.kind !== "unavailable") await settleTransfer(deps, transfer, answer, { requestId, allowFrozen: true });
    });
  }
  return ok(await currentStatus(deps.store, userId, true));
}
