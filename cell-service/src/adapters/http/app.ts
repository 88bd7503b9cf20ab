import {
  acceptRequestId,
  DEFAULT_CURRENCY,
  isValidIdempotencyKey,
  isWellFormedId,
  parseTimestamp,
  problem,
  type TokenVerifier,
} from "@cellwallet/contract";
import { logTraceIds, type Span, tracingEnabled, withServerSpan } from "@cellwallet/telemetry";
import { getConnInfo } from "@hono/node-server/conninfo";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Logger } from "pino";
import { ticketFor } from "../../application/idempotency.js";
import { ContentionError } from "../../application/ledger-store.js";
import type { CellDeps, OperationContext } from "../../application/operation-context.js";
import {
  auditCell,
  exportCheckpoint,
  listCheckpoints,
  reconcileCellUseCase,
} from "../../application/use-cases/audit-cell.js";
import { auditWallet } from "../../application/use-cases/audit-wallet.js";
import { createWallet } from "../../application/use-cases/create-wallet.js";
import { getTransaction } from "../../application/use-cases/get-transaction.js";
import { getTransfer } from "../../application/use-cases/get-transfer.js";
import { historicalBalance } from "../../application/use-cases/historical-balance.js";
import { listTransactions } from "../../application/use-cases/list-transactions.js";
import { walletNotFound } from "../../application/use-cases/load-wallet.js";
import { moveMoney } from "../../application/use-cases/move-money.js";
import { findWalletsByUser, getWallet } from "../../application/use-cases/read-wallet.js";
import { transferFunds } from "../../application/use-cases/transfer-funds.js";
import { authenticate } from "./authenticate.js";
import { jsonBody } from "./body.js";
import type { ClientIpResolver } from "./client-ip.js";
import type { CellEnv } from "./context.js";
import { registerInternalRoutes } from "./internal-routes.js";
import type { CellMetrics } from "./metrics.js";
import { type RouteResponse, send, sendProblem } from "./respond.js";
import * as routes from "./routes.js";
import { validationHook } from "./validation-hook.js";

export interface CellAppOptions {
  deps: CellDeps;
  verifyToken: TokenVerifier;
  /** Verifies service tokens on the internal endpoints (cross-cell credits). */
  verifyInternalToken: TokenVerifier;
  clientIp: ClientIpResolver;
  metrics: CellMetrics;
  logger: Logger;
  /** True when the process can serve traffic (store reachable, not shutting down). */
  ready(): Promise<boolean>;
  /** The build this process runs, reported on /ready so a rollout can check what it deployed. */
  version?: string;
  /** This replica's AZ (span attribute). */
  az?: string;
}

const MAX_USER_AGENT = 512;

export function createCellApp(options: CellAppOptions): OpenAPIHono<CellEnv> {
  const { deps, metrics, logger } = options;
  const spanAttributes = { "cell.id": deps.cellId, az: options.az ?? "", "service.version": options.version ?? "dev" };
  const app = new OpenAPIHono<CellEnv>({ defaultHook: validationHook });

  // Request id, access log and metrics around everything.
  /** Metrics, span name and attributes, and the access log line of one finished request. */
  const recordRequest = (c: Context<CellEnv>, started: number, traceparent: string | undefined, span?: Span) => {
    const requestId = c.get("requestId");
    c.header("x-request-id", requestId);
    // The matched route template (bounded); unknown paths only ever match a middleware pattern.
    const route = c.req.routePath && c.req.routePath !== "*" ? c.req.routePath : "unmatched";
    const status = String(c.res.status);
    const seconds = (performance.now() - started) / 1000;
    metrics.requests.inc({ method: c.req.method, route, status });
    metrics.latency.observe({ method: c.req.method, route, status }, seconds);
    if (span) {
      span.updateName(`cell ${c.req.method} ${route}`);
      span.setAttributes({
        "http.request.method": c.req.method,
        "http.route": route,
        "http.response.status_code": c.res.status,
      });
    }
    if (route !== "/metrics" && route !== "/health" && route !== "/ready") {
      logger.info(
        {
          requestId,
          method: c.req.method,
          route,
          status: c.res.status,
          durationMs: Math.round(seconds * 1000 * 100) / 100,
          ...(traceparent ? { traceparent } : {}),
          ...logTraceIds(traceparent),
          principal: c.get("principal")?.subject,
        },
        "request",
      );
    }
  };

  // Request id, access log and metrics around everything; with tracing on, a SERVER span continuing the caller's.
  app.use("*", async (c, next) => {
    const started = performance.now();
    c.set("requestId", acceptRequestId(c.req.header("x-request-id")));
    const traceparent = c.req.header("traceparent");
    if (!tracingEnabled()) {
      await next();
      return recordRequest(c, started, traceparent);
    }
    const carrier = { traceparent, tracestate: c.req.header("tracestate") };
    await withServerSpan(`cell ${c.req.method}`, carrier, spanAttributes, async (span) => {
      await next();
      recordRequest(c, started, traceparent, span);
    });
  });

  app.onError((error, c) => {
    if (error instanceof ContentionError) {
      metrics.ops.contentionErrors.inc();
      return sendProblem(c, problem("cell-unavailable", error.message), { "retry-after": "1" });
    }
    if ("status" in error && error.status === 400) {
      return sendProblem(c, problem("malformed-json", "the body is not valid JSON"));
    }
    logger.error({ requestId: c.get("requestId"), err: { message: error.message, stack: error.stack } }, "bug");
    return sendProblem(c, problem("internal-error", "an internal error occurred; it has been logged"));
  });

  app.notFound((c) => sendProblem(c, problem("not-found", `no resource at ${c.req.path}`)));

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) =>
    (await options.ready())
      ? c.json({ status: "ready", version: options.version ?? "dev" })
      : c.json({ status: "not-ready", version: options.version ?? "dev" }, 503),
  );
  app.get("/metrics", async (c) =>
    c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );

  // 405 for a known path with a method it does not accept (checked before routing:
  // GET /wallets/transfer must not be read as "the wallet called transfer").
  app.use("/api/*", async (c, next) => {
    const known = routes.ALLOWED_METHODS.find((r) => r.pattern.test(c.req.path));
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    if (known && !known.methods.includes(method)) {
      return sendProblem(c, problem("method-not-allowed", `${c.req.method} is not allowed on ${c.req.path}`), {
        allow: known.methods.join(", "),
      });
    }
    return next();
  });
  registerInternalRoutes(app, deps, options.verifyInternalToken, metrics, options.verifyToken);
  app.use("/api/*", authenticate(options.verifyToken));
  app.use("/api/*", async (c, next) => {
    const socket = getConnInfo(c).remote.address;
    c.set("clientIp", options.clientIp.resolve(socket, c.req.header("x-forwarded-for")));
    return next();
  });
  app.use("/api/*", jsonBody());

  const context = (c: Context<CellEnv>, idempotencyKey?: string): OperationContext => {
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
  };

  /** Context for a POST: validates Idempotency-Key and scopes it to the principal. */
  const postContext = (c: Context<CellEnv>): OperationContext | RouteResponse => {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return context(c);
    if (!isValidIdempotencyKey(key)) {
      return sendProblem(
        c,
        problem("validation-error", "Idempotency-Key must be 1..255 printable ASCII characters", {
          errors: [{ pointer: "header/Idempotency-Key", detail: "1..255 printable ASCII characters" }],
        }),
      );
    }
    const ctx = context(c, key);
    ctx.idempotency = ticketFor(
      ctx.principal.subject,
      key,
      { method: c.req.method, path: c.req.path, body: c.get("parsedBody") },
      deps.idempotencyRetentionMs,
    );
    return ctx;
  };

  const unknownWallet = (c: Context<CellEnv>, walletId: string) => sendProblem(c, walletNotFound(walletId));

  app.openapi(routes.createWalletRoute, async (c) => {
    const ctx = postContext(c);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(c, await createWallet(deps, ctx, { userId: body.userId, currency: body.currency ?? DEFAULT_CURRENCY }));
  });

  app.openapi(routes.findWalletsRoute, async (c) =>
    send(c, await findWalletsByUser(deps, context(c), c.req.valid("query").userId)),
  );

  app.openapi(routes.transferRoute, async (c) => {
    const ctx = postContext(c);
    if (!isOperationContext(ctx)) return ctx;
    const body = c.req.valid("json");
    return send(
      c,
      await transferFunds(deps, ctx, {
        fromWalletId: body.fromWalletId,
        toWalletId: body.toWalletId,
        amount: body.amount,
        ...(body.reference !== undefined ? { reference: body.reference } : {}),
      }),
    );
  });

  app.openapi(routes.getWalletRoute, async (c) => {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    return send(c, await getWallet(deps, context(c), walletId));
  });

  for (const [route, kind] of [
    [routes.depositRoute, "deposit"],
    [routes.withdrawRoute, "withdraw"],
  ] as const) {
    app.openapi(route, async (c) => {
      const { walletId } = c.req.valid("param");
      if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
      const ctx = postContext(c);
      if (!isOperationContext(ctx)) return ctx;
      const body = c.req.valid("json");
      return send(
        c,
        await moveMoney(deps, ctx, kind, {
          walletId,
          amount: body.amount,
          ...(body.reference !== undefined ? { reference: body.reference } : {}),
        }),
      );
    });
  }

  app.openapi(routes.getTransferRoute, async (c) => {
    const { transferId } = c.req.valid("param");
    if (!isWellFormedId(transferId)) {
      return sendProblem(c, problem("transfer-not-found", `transfer ${transferId} does not exist`));
    }
    return send(c, await getTransfer(deps, context(c), transferId));
  });

  app.openapi(routes.historicalBalanceRoute, async (c) => {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    const { timestamp } = c.req.valid("query");
    const at = parseTimestamp(timestamp);
    if (at === undefined) return invalidQuery(c, "timestamp", "must be an RFC 3339 timestamp");
    return send(c, await historicalBalance(deps, context(c), walletId, at, Date.now()));
  });

  app.openapi(routes.listTransactionsRoute, async (c) => {
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
      await listTransactions(deps, context(c), {
        walletId,
        limit: query.limit === undefined ? 50 : Number(query.limit),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        ...(fromMs !== undefined ? { fromMs } : {}),
        ...(toMs !== undefined ? { toMs } : {}),
      }),
    );
  });

  app.openapi(routes.getTransactionRoute, async (c) => {
    const { walletId, transactionId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    if (!isWellFormedId(transactionId)) {
      return sendProblem(c, problem("transaction-not-found", `transaction ${transactionId} does not exist`));
    }
    return send(c, await getTransaction(deps, context(c), walletId, transactionId));
  });

  app.openapi(routes.auditWalletRoute, async (c) => {
    const { walletId } = c.req.valid("param");
    if (!isWellFormedId(walletId)) return unknownWallet(c, walletId);
    return send(c, await auditWallet(deps, context(c), walletId));
  });

  // Operator endpoint on the cell itself (not routed to by the public router; cellctl calls it directly).
  app.get(CELL_AUDIT_PATH, async (c) => send(c, await auditCell(deps, context(c))));
  app.get("/api/v1/cell/reconciliation", async (c) => send(c, await reconcileCellUseCase(deps, context(c))));
  app.get("/api/v1/cell/checkpoints", async (c) => send(c, await listCheckpoints(deps, context(c))));
  app.get("/api/v1/cell/checkpoints/:sequence", async (c) => {
    const text = c.req.param("sequence");
    if (!/^[1-9][0-9]{0,14}$/.test(text))
      return sendProblem(
        c,
        problem("validation-error", "the checkpoint sequence must be a positive integer", {
          errors: [{ pointer: "path/sequence", detail: "a checkpoint sequence (1, 2, 3…)" }],
        }),
      );
    return send(c, await exportCheckpoint(deps, context(c), Number(text)));
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", openApiInfo);
  return app;
}

function isOperationContext(value: OperationContext | RouteResponse): value is OperationContext {
  return !((value as unknown) instanceof Response);
}

function invalidQuery(c: Context<CellEnv>, name: string, detail: string): RouteResponse {
  return sendProblem(
    c,
    problem("validation-error", `query parameter ${name} ${detail}`, {
      errors: [{ pointer: `query/${name}`, detail }],
    }),
  );
}

/** Verification of the whole cell: every wallet's chain, balance, sequences and row (wallet:auditor). */
export const CELL_AUDIT_PATH = "/api/v1/cell/audit";

export const openApiInfo = {
  openapi: "3.1.0",
  info: {
    title: "Cellwallet public API",
    version: "1.0.0",
    description:
      "Wallets, deposits, withdrawals, transfers, history and audit. Served by the cell router and by every cell. " +
      "Errors are RFC 9457 application/problem+json. See docs/conventions.md in the repository for money, time, idempotency and auth rules.",
  },
  servers: [{ url: "http://localhost:8080" }],
};
