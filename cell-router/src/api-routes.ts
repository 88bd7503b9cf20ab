import { INTERNAL_CREDIT_PATH, SCOPES } from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import { anyCell, cellFor } from "./choose-cell.js";
import { authenticate, rateLimited, requestBody } from "./edge-checks.js";
import { relay } from "./relay.js";
import { askEveryCell, namesRetiredCell, relocator } from "./relocation.js";
import { isCellOnlyPath, isMethodAllowed, type MatchedRoute, matchRoute, resolve, routeLabel } from "./resolution.js";
import { methodNotAllowed, sendProblem, unavailable } from "./router-answers.js";
import type { Ctx, RouterAppDeps } from "./router-env.js";

/** The router's two API handlers: the public API (users) and the internal API (cell to cell). */

/** /api/*: method, token, rate limit and body checked here; then the cell is chosen and the request relayed. */
export async function publicApiRequest(c: Ctx, deps: RouterAppDeps): Promise<Response> {
  const method = c.req.method;
  const url = new URL(c.req.url);
  const route = matchRoute(url.pathname);
  c.set("route", routeLabel(route, method));
  if (isCellOnlyPath(url.pathname)) {
    return sendProblem(
      c,
      "not-found",
      `${url.pathname} is served by each cell to callers that reach it, not by the router`,
    );
  }
  // Before authentication, as the cells do: a wrong method is wrong whoever asks.
  if (route !== undefined && !isMethodAllowed(route, method)) return methodNotAllowed(c, route);
  const principal = await authenticate(c, deps.verifyToken);
  if (principal instanceof Response) return principal;
  const limited = rateLimited(c, deps, principal);
  if (limited !== undefined) return limited;
  const bytes = await requestBody(c);
  if (bytes instanceof Response) return bytes;
  const resolution = resolve({
    route,
    method,
    query: url.searchParams,
    body: bytes,
    contentType: c.req.header("content-type"),
  });
  if (await namesRetiredCell(deps, resolution, method)) return askEveryCell(c, deps, bytes, resolution, principal);
  const cell = await cellFor(c, deps, resolution, principal);
  if (cell instanceof Response) return cell;
  return relay(c, deps, cell, bytes, {
    addIdempotencyKey: true,
    relocate: relocator(c, deps, resolution, principal),
  });
}

/** POST /internal/v1/transfers/credit: cells reach each other only through here, with a service token. */
export async function internalCreditRequest(c: Ctx, deps: RouterAppDeps): Promise<Response> {
  const route = matchRoute(INTERNAL_CREDIT_PATH) as MatchedRoute;
  c.set("route", route.name);
  if (!isMethodAllowed(route, c.req.method)) return methodNotAllowed(c, route);
  const principal = await authenticate(c, deps.verifyServiceToken);
  if (principal instanceof Response) return principal;
  if (!principal.scopes.includes(SCOPES.internal)) {
    return sendProblem(c, "forbidden", `the internal API needs the ${SCOPES.internal} scope`);
  }
  const bytes = await requestBody(c);
  if (bytes instanceof Response) return bytes;
  const resolution = resolve({
    route,
    method: c.req.method,
    query: new URLSearchParams(),
    body: bytes,
    contentType: c.req.header("content-type"),
  });
  let cell: CellRecord | undefined;
  if (resolution.kind === "internal-credit") {
    const found =
      resolution.cellId === undefined
        ? { status: "unknown" as const }
        : await deps.directory.findWalletCell(resolution.walletId, resolution.cellId);
    if (found.status === "unavailable") return unavailable(c, "the cell registry is unavailable; retry later");
    if (found.status === "unknown") {
      // Definitive: no cell can hold this wallet, so the caller may fail the transfer and refund.
      return sendProblem(c, "wallet-not-found", `wallet ${resolution.walletId} does not exist`);
    }
    cell = found.cell;
  } else {
    cell = anyCell(deps);
    if (cell === undefined) return unavailable(c, "the service is unavailable; retry later");
  }
  // Credits are idempotent by transferId: safe to retry on another replica without a key.
  return relay(c, deps, cell, bytes, {
    addIdempotencyKey: false,
    retryable: true,
    relocate: relocator(c, deps, resolution, undefined),
  });
}
