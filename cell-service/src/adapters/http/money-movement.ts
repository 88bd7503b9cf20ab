import { isWellFormedId } from "@cellwallet/contract";
import type { RouteHandler } from "@hono/zod-openapi";
import type { CellDeps } from "../../application/operation-context.js";
import { moveMoney } from "../../application/use-cases/move-money.js";
import { transferFunds } from "../../application/use-cases/transfer-funds.js";
import type { CellEnv } from "./context.js";
import { isOperationContext, postContext, unknownWallet } from "./request-context.js";
import { send } from "./respond.js";
import type { depositRoute, transferRoute, withdrawRoute } from "./routes.js";

/** Money movement: deposits, withdrawals and the creation of transfers (reading one: transfers.ts). */

export function depositHandler(deps: CellDeps): RouteHandler<typeof depositRoute, CellEnv> {
  return async function depositRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    const ctx = postContext(c, deps);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(c, await moveMoney(deps, ctx, "deposit", { walletId, amount: body.amount, ...reference(body) }));
  };
}

export function withdrawHandler(deps: CellDeps): RouteHandler<typeof withdrawRoute, CellEnv> {
  return async function withdrawRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    const ctx = postContext(c, deps);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(c, await moveMoney(deps, ctx, "withdraw", { walletId, amount: body.amount, ...reference(body) }));
  };
}

export function transferHandler(deps: CellDeps): RouteHandler<typeof transferRoute, CellEnv> {
  return async function transferRequest(c) {
    const ctx = postContext(c, deps);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(
      c,
      await transferFunds(deps, ctx, {
        fromWalletId: body.fromWalletId,
        toWalletId: body.toWalletId,
        amount: body.amount,
        ...reference(body),
      }),
    );
  };
}

function reference(body: { reference?: string | undefined }): { reference?: string } {
  return body.reference !== undefined ? { reference: body.reference } : {};
}
