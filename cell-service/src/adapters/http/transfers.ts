import { isWellFormedId, problem } from "@cellwallet/contract";
import type { RouteHandler } from "@hono/zod-openapi";
import type { CellDeps } from "../../application/operation-context.js";
import { getTransfer } from "../../application/use-cases/get-transfer.js";
import type { CellEnv } from "./context.js";
import { operationContext } from "./request-context.js";
import { send, sendProblem } from "./respond.js";
import type { getTransferRoute } from "./routes.js";

/** The transfers resource: GET /transfers/{transferId} (creating one is money movement: money-movement.ts). */

export function getTransferHandler(deps: CellDeps): RouteHandler<typeof getTransferRoute, CellEnv> {
  return async function getTransferRequest(c) {
    const { transferId } = c.req.valid("param");
    if (!isWellFormedId(transferId)) {
      return sendProblem(c, problem("transfer-not-found", `transfer ${transferId} does not exist`));
    }
    return send(c, await getTransfer(deps, operationContext(c), transferId));
  };
}
