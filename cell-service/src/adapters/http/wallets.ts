import { DEFAULT_CURRENCY, isWellFormedId } from "@cellwallet/contract";
import type { RouteHandler } from "@hono/zod-openapi";
import type { CellDeps } from "../../application/operation-context.js";
import { createWallet } from "../../application/use-cases/create-wallet.js";
import { findWalletsByUser, getWallet } from "../../application/use-cases/read-wallet.js";
import type { CellEnv } from "./context.js";
import { isOperationContext, operationContext, postContext, unknownWallet } from "./request-context.js";
import { send } from "./respond.js";
import type { createWalletRoute, findWalletsRoute, getWalletRoute } from "./routes.js";

/** The wallets resource: POST /wallets, GET /wallets?userId=, GET /wallets/{walletId}. */

export function createWalletHandler(deps: CellDeps): RouteHandler<typeof createWalletRoute, CellEnv> {
  return async function createWalletRequest(c) {
    const ctx = postContext(c, deps);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(c, await createWallet(deps, ctx, { userId: body.userId, currency: body.currency ?? DEFAULT_CURRENCY }));
  };
}

export function findWalletsHandler(deps: CellDeps): RouteHandler<typeof findWalletsRoute, CellEnv> {
  return async function findWalletsRequest(c) {
    return send(c, await findWalletsByUser(deps, operationContext(c), c.req.valid("query").userId));
  };
}

export function getWalletHandler(deps: CellDeps): RouteHandler<typeof getWalletRoute, CellEnv> {
  return async function getWalletRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    return send(c, await getWallet(deps, operationContext(c), walletId));
  };
}
