import { isValidIdempotencyKey, problem } from "@cellwallet/contract";
import type { Context } from "hono";
import { ticketFor } from "../../application/idempotency.js";
import type { CellDeps, OperationContext } from "../../application/operation-context.js";
import { walletNotFound } from "../../application/use-cases/load-wallet.js";
import type { CellEnv } from "./context.js";
import { type RouteResponse, sendProblem } from "./respond.js";

/** What the handlers share: the request's operation context and the answers several of them give. */

const MAX_USER_AGENT = 512;

/** Who asks and the audit context hashed into the entries, from what the middlewares set. */
export function operationContext(c: Context<CellEnv>, idempotencyKey?: string): OperationContext {
  const principal = c.get("principal");
  const userAgent = c.req.header("user-agent")?.slice(0, MAX_USER_AGENT);
  const clientIp = c.get("clientIp");
  return {
    principal,
    requestId: c.get("requestId"),
    audit: {
      principal: principal.subject,
      scopes: principal.scopes,
      requestId: c.get("requestId"),
      ...(clientIp ? { clientIp } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    },
  };
}

/** Context for a POST: validates Idempotency-Key and scopes it to the principal (a 400 answer when invalid). */
export function postContext(c: Context<CellEnv>, deps: CellDeps): OperationContext | RouteResponse {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return operationContext(c);
  if (!isValidIdempotencyKey(key)) {
    return sendProblem(
      c,
      problem("validation-error", "Idempotency-Key must be 1..255 printable ASCII characters", {
        errors: [{ pointer: "header/Idempotency-Key", detail: "1..255 printable ASCII characters" }],
      }),
    );
  }
  const ctx = operationContext(c, key);
  ctx.idempotency = ticketFor(
    ctx.principal.subject,
    key,
    { method: c.req.method, path: c.req.path, body: c.get("parsedBody") },
    deps.idempotencyRetentionMs,
  );
  return ctx;
}

export function isOperationContext(value: OperationContext | RouteResponse): value is OperationContext {
  return !((value as unknown) instanceof Response);
}

export function unknownWallet(c: Context<CellEnv>, walletId: string): RouteResponse {
  return sendProblem(c, walletNotFound(walletId));
}

export function invalidQuery(c: Context<CellEnv>, name: string, detail: string): RouteResponse {
  return sendProblem(
    c,
    problem("validation-error", `query parameter ${name} ${detail}`, {
      errors: [{ pointer: `query/${name}`, detail }],
    }),
  );
}
