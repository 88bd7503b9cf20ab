import { API_ROUTES, matchRoutePath, problem, routePaths } from "@cellwallet/contract";
import type { MiddlewareHandler } from "hono";
import type { CellEnv } from "./context.js";
import { sendProblem } from "./respond.js";

/** The cell's API paths (public and cell-level) from the contract's route table. */
const API_PATHS = routePaths(API_ROUTES.filter((r) => r.path.startsWith("/api/")));

/**
 * 405 with Allow for a known path with a method it does not accept. Checked before routing and before
 * authentication: GET /wallets/transfer must not be read as "the wallet called transfer", and a wrong method
 * is wrong whoever asks.
 */
export function methodCheck(): MiddlewareHandler<CellEnv> {
  return async function checkMethod(c, next) {
    const known = matchRoutePath(API_PATHS, c.req.path)?.path;
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    if (known && !(known.methods as readonly string[]).includes(method)) {
      return sendProblem(c, problem("method-not-allowed", `${c.req.method} is not allowed on ${c.req.path}`), {
        allow: known.methods.join(", "),
      });
    }
    return next();
  };
}
