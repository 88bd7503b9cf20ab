import { isAllowed, problem } from "@cellwallet/contract";
import { type Checkpoint, publicKeyBase64 } from "../../domain/checkpoint.js";
import { type ApiResponse, jsonResponse, problemResponse } from "../api-response.js";
import { reconcileCell } from "../cell-reconciliation.js";
import { verifyCell } from "../cell-verification.js";
import type { CellDeps, OperationContext } from "../operation-context.js";
import { forbidden } from "./load-wallet.js";

/** `GET /api/v1/cell/audit`: verifies every wallet of this cell (wallet:auditor only). */
export async function auditCell(deps: CellDeps, ctx: OperationContext): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "cell:audit")) return problemResponse(forbidden("audit the cell"), ctx.requestId);
  const report = await verifyCell(deps.store, deps.cellId, {
    ...(deps.checkpointKeys ? { trustedKeys: deps.checkpointKeys } : {}),
  });
  return jsonResponse(200, report);
}

/** `GET /api/v1/cell/checkpoints`: every checkpoint of the cell, oldest first (wallet:auditor). */
export async function listCheckpoints(deps: CellDeps, ctx: OperationContext): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "cell:audit")) return problemResponse(forbidden("audit the cell"), ctx.requestId);
  const items: Checkpoint[] = [];
  for await (const checkpoint of deps.store.streamCheckpoints()) items.push(checkpoint);
  return jsonResponse(200, { cellId: deps.cellId, items });
}

/**
 * `GET /api/v1/cell/checkpoints/{sequence}`: one checkpoint with every wallet
 * head it signed and the public key that verifies it — everything needed to
 * check it offline and store it outside the platform (wallet:auditor).
 */
export async function exportCheckpoint(deps: CellDeps, ctx: OperationContext, sequence: number): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "cell:audit")) return problemResponse(forbidden("audit the cell"), ctx.requestId);
  const checkpoint = await deps.store.getCheckpoint(sequence);
  if (!checkpoint) {
    return problemResponse(problem("not-found", `checkpoint ${sequence} does not exist`), ctx.requestId);
  }
  const heads: { walletId: string; currency: string; balance: string; version: number; headHash: string }[] = [];
  for await (const head of deps.store.streamSnapshotHeads(checkpoint.snapshotId)) {
    heads.push({ ...head, balance: String(head.balance) });
  }
  const key = deps.checkpointKeys?.get(checkpoint.keyId);
  return jsonResponse(200, { checkpoint, publicKey: key ? publicKeyBase64(key) : null, heads });
}

/** `GET /api/v1/cell/reconciliation`: this cell's money identities (wallet:auditor). */
export async function reconcileCellUseCase(deps: CellDeps, ctx: OperationContext): Promise<ApiResponse> {
  if (!isAllowed(ctx.principal, "cell:audit")) return problemResponse(forbidden("audit the cell"), ctx.requestId);
  return jsonResponse(200, await reconcileCell(deps.store, deps.cellId));
}
