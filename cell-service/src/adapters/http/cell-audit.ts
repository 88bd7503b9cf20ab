import { isWellFormedId, problem } from "@cellwallet/contract";
import type { OpenAPIHono, RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { CellDeps } from "../../application/operation-context.js";
import {
  auditCell,
  exportCheckpoint,
  listCheckpoints,
  reconcileCellUseCase,
} from "../../application/use-cases/audit-cell.js";
import { auditWallet } from "../../application/use-cases/audit-wallet.js";
import type { CellEnv } from "./context.js";
import { operationContext, unknownWallet } from "./request-context.js";
import { type RouteResponse, send, sendProblem } from "./respond.js";
import type { auditWalletRoute } from "./routes.js";

/**
 * Audit: a wallet's chain (public API), and the operator endpoints on the cell itself (the whole cell's
 * verification, reconciliation, signed checkpoints): the router routes these nowhere in particular; cellctl
 * calls a cell directly.
 */

/** Verification of the whole cell: every wallet's chain, balance, sequences and row (wallet:auditor). */
export const CELL_AUDIT_PATH = "/api/v1/cell/audit";

export function auditWalletHandler(deps: CellDeps): RouteHandler<typeof auditWalletRoute, CellEnv> {
  return async function auditWalletRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    return send(c, await auditWallet(deps, operationContext(c), walletId));
  };
}

/** Mounts the cell-level audit endpoints (not in the OpenAPI document). */
export function mountCellAudit(app: OpenAPIHono<CellEnv>, deps: CellDeps): void {
  app.get(CELL_AUDIT_PATH, async function cellAuditRequest(c) {
    return send(c, await auditCell(deps, operationContext(c)));
  });
  app.get("/api/v1/cell/reconciliation", async function cellReconciliationRequest(c) {
    return send(c, await reconcileCellUseCase(deps, operationContext(c)));
  });
  app.get("/api/v1/cell/checkpoints", async function listCheckpointsRequest(c) {
    return send(c, await listCheckpoints(deps, operationContext(c)));
  });
  app.get("/api/v1/cell/checkpoints/:sequence", (c) => getCheckpointRequest(c, deps));
}

async function getCheckpointRequest(c: Context<CellEnv>, deps: CellDeps): Promise<RouteResponse> {
  const text = c.req.param("sequence") ?? "";
  if (!/^[1-9][0-9]{0,14}$/.test(text))
    return sendProblem(
      c,
      problem("validation-error", "the checkpoint sequence must be a positive integer", {
        errors: [{ pointer: "path/sequence", detail: "a checkpoint sequence (1, 2, 3…)" }],
      }),
    );
  return send(c, await exportCheckpoint(deps, operationContext(c), Number(text)));
}
