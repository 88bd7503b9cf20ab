import { isWellFormedId, parseTimestamp, problem } from "@cellwallet/contract";
import type { RouteHandler } from "@hono/zod-openapi";
import type { CellDeps } from "../../application/operation-context.js";
import { getTransaction } from "../../application/use-cases/get-transaction.js";
import { historicalBalance } from "../../application/use-cases/historical-balance.js";
import { listTransactions } from "../../application/use-cases/list-transactions.js";
import type { CellEnv } from "./context.js";
import { invalidQuery, operationContext, unknownWallet } from "./request-context.js";
import { send, sendProblem } from "./respond.js";
import type { getTransactionRoute, historicalBalanceRoute, listTransactionsRoute } from "./routes.js";

/** A wallet's history: its ledger entries, one entry, and its balance at an instant in the past. */

export function historicalBalanceHandler(deps: CellDeps): RouteHandler<typeof historicalBalanceRoute, CellEnv> {
  return async function historicalBalanceRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    const { timestamp } = c.req.valid("query");
    const at = parseTimestamp(timestamp);
    if (at === undefined) return invalidQuery(c, "timestamp", "must be an RFC 3339 timestamp");
    return send(c, await historicalBalance(deps, operationContext(c), walletId, at, Date.now()));
  };
}

export function listTransactionsHandler(deps: CellDeps): RouteHandler<typeof listTransactionsRoute, CellEnv> {
  return async function listTransactionsRequest(c) {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    const query = c.req.valid("query");
    const fromMs = query.from === undefined ? undefined : parseTimestamp(query.from);
    const toMs = query.to === undefined ? undefined : parseTimestamp(query.to);
    if (query.from !== undefined && fromMs === undefined)
      return invalidQuery(c, "from", "must be an RFC 3339 timestamp");
    if (query.to !== undefined && toMs === undefined) return invalidQuery(c, "to", "must be an RFC 3339 timestamp");
    return send(
      c,
      await listTransactions(deps, operationContext(c), {
        walletId,
        limit: query.limit === undefined ? 50 : Number(query.limit),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        ...(fromMs !== undefined ? { fromMs } : {}),
        ...(toMs !== undefined ? { toMs } : {}),
      }),
    );
  };
}

export function getTransactionHandler(deps: CellDeps): RouteHandler<typeof getTransactionRoute, CellEnv> {
  return async function getTransactionRequest(c) {
    const { walletId, transactionId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    if (!isWellFormedId(transactionId)) {
      return sendProblem(c, problem("transaction-not-found", `transaction ${transactionId} does not exist`));
    }
    return send(c, await getTransaction(deps, operationContext(c), walletId, transactionId));
  };
}
