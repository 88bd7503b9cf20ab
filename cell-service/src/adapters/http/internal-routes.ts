import {
  INTERNAL_CREDIT_PATH,
  MIGRATION_MAX_BODY_BYTES,
  MIGRATION_PATH_PREFIX,
  problem,
  SCOPES,
  type TokenVerifier,
} from "@cellwallet/contract";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { CellDeps } from "../../application/operation-context.js";
import { creditIncomingTransfer } from "../../application/use-cases/credit-incoming-transfer.js";
import { authenticate } from "./authenticate.js";
import { jsonBody } from "./body.js";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";
import { registerMigrationRoutes } from "./migration-routes.js";
import { send, sendProblem } from "./respond.js";
import { fieldErrors } from "./validation-hook.js";

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const CreditBody = z.strictObject({
  transferId: z.string().regex(ID),
  fromWalletId: z.string().regex(ID),
  toWalletId: z.string().regex(ID),
  amount: z.string().max(64),
  currency: z.string().regex(/^[A-Z]{3}$/),
  sourceCellId: z.string().regex(/^[a-z0-9-]{1,40}$/),
  reference: z.string().max(128).optional(),
});

/**
 * Endpoints other cells call through the router. Not part of the public API:
 * they need a service token (scope wallet:internal) signed with the internal
 * secret, which user tokens never are.
 */
export function registerInternalRoutes(
  app: OpenAPIHono<CellEnv>,
  deps: CellDeps,
  verifyInternal: TokenVerifier,
  metrics: CellMetrics,
  verifyUser?: TokenVerifier,
): void {
  // A valid user token is an authenticated principal without the right to be here: 403, not 401.
  const either: TokenVerifier = async (token) => {
    const internal = await verifyInternal(token);
    if (internal.ok || !verifyUser) return internal;
    const user = await verifyUser(token);
    return user.ok ? { ok: true, principal: { ...user.principal, scopes: [] } } : internal;
  };
  app.use("/internal/*", authenticate(either));
  app.use("/internal/*", async (c, next) => {
    if (!c.get("principal").scopes.includes(SCOPES.internal)) {
      return sendProblem(c, problem("forbidden", "internal endpoints need a service token"));
    }
    return next();
  });
  // Import bodies carry whole export pages; every other internal body keeps the 16 KiB limit.
  const pageBody = jsonBody(MIGRATION_MAX_BODY_BYTES);
  const smallBody = jsonBody();
  app.use("/internal/*", (c, next) =>
    c.req.path.startsWith(`${MIGRATION_PATH_PREFIX}/`) ? pageBody(c, next) : smallBody(c, next),
  );
  registerMigrationRoutes(app, deps, metrics);

  app.post(INTERNAL_CREDIT_PATH, (c) => creditRequest(c, deps));
}

/** POST /internal/v1/transfers/credit: credits the receiver of a cross-cell transfer (idempotent by transferId). */
async function creditRequest(c: Context<CellEnv>, deps: CellDeps) {
  const parsed = CreditBody.safeParse(c.get("parsedBody"));
  if (!parsed.success) {
    const errors = fieldErrors("json", parsed.error.issues);
    return sendProblem(c, problem("validation-error", "not a credit request", { errors }));
  }
  const principal = c.get("principal");
  const request = parsed.data;
  return send(
    c,
    await creditIncomingTransfer(
      deps,
      {
        principal,
        requestId: c.get("requestId"),
        audit: {
          principal: principal.subject,
          scopes: principal.scopes,
          requestId: c.get("requestId"),
          ...(c.req.header("idempotency-key") ? { idempotencyKey: c.req.header("idempotency-key") } : {}),
        },
      },
      {
        transferId: request.transferId,
        fromWalletId: request.fromWalletId,
        toWalletId: request.toWalletId,
        amount: request.amount,
        currency: request.currency,
        sourceCellId: request.sourceCellId,
        ...(request.reference !== undefined ? { reference: request.reference } : {}),
      },
    ),
  );
}
