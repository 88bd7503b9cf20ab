import type { TokenVerifier } from "@cellwallet/contract";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import type { CellDeps } from "../../application/operation-context.js";
import { authenticate } from "./authenticate.js";
import { jsonBody } from "./body.js";
import { auditWalletHandler, mountCellAudit } from "./cell-audit.js";
import { type ClientIpResolver, clientIpOf } from "./client-ip.js";
import type { CellEnv } from "./context.js";
import { errorAnswer, notFoundAnswer } from "./edge-answers.js";
import { registerInternalRoutes } from "./internal-routes.js";
import { methodCheck } from "./method-check.js";
import type { CellMetrics } from "./metrics.js";
import { depositHandler, transferHandler, withdrawHandler } from "./money-movement.js";
import { openApiInfo } from "./openapi-info.js";
import { mountOperationalRoutes } from "./operational-routes.js";
import { requestLog } from "./request-log.js";
import * as routes from "./routes.js";
import { getTransactionHandler, historicalBalanceHandler, listTransactionsHandler } from "./transactions.js";
import { getTransferHandler } from "./transfers.js";
import { validationHook } from "./validation-hook.js";
import { createWalletHandler, findWalletsHandler, getWalletHandler } from "./wallets.js";

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
  /** Which launch this process is (CELLWALLET_INSTANCE): echoed on /health and /ready for its launcher. */
  instance?: string;
  /** This replica's AZ (span attribute). */
  az?: string;
}

/**
 * The cell's HTTP edge: middleware and mounts only. Each handler lives, named, in its resource's module
 * (wallets.ts, money-movement.ts, transfers.ts, transactions.ts, cell-audit.ts, internal-routes.ts,
 * migration-routes.ts); the route definitions (and so the OpenAPI document) are in routes.ts.
 */
export function createCellApp(options: CellAppOptions): OpenAPIHono<CellEnv> {
  const { deps, metrics, logger } = options;
  const version = options.version ?? "dev";
  const app = new OpenAPIHono<CellEnv>({ defaultHook: validationHook });

  app.use(
    "*",
    requestLog(metrics, logger, { "cell.id": deps.cellId, az: options.az ?? "", "service.version": version }),
  );
  app.onError(errorAnswer(metrics, logger));
  app.notFound(notFoundAnswer);
  mountOperationalRoutes(app, metrics, options.ready, version, options.instance);

  app.use("/api/*", methodCheck());
  registerInternalRoutes(app, deps, options.verifyInternalToken, metrics, options.verifyToken);
  app.use("/api/*", authenticate(options.verifyToken));
  app.use("/api/*", clientIpOf(options.clientIp));
  app.use("/api/*", jsonBody());

  // The public API. This order is the OpenAPI document's (docs/openapi.json is generated from it): keep it.
  app.openapi(routes.createWalletRoute, createWalletHandler(deps));
  app.openapi(routes.findWalletsRoute, findWalletsHandler(deps));
  app.openapi(routes.transferRoute, transferHandler(deps));
  app.openapi(routes.getWalletRoute, getWalletHandler(deps));
  app.openapi(routes.depositRoute, depositHandler(deps));
  app.openapi(routes.withdrawRoute, withdrawHandler(deps));
  app.openapi(routes.getTransferRoute, getTransferHandler(deps));
  app.openapi(routes.historicalBalanceRoute, historicalBalanceHandler(deps));
  app.openapi(routes.listTransactionsRoute, listTransactionsHandler(deps));
  app.openapi(routes.getTransactionRoute, getTransactionHandler(deps));
  app.openapi(routes.auditWalletRoute, auditWalletHandler(deps));
  // Operator endpoints on the cell itself (not routed to by the public router; cellctl calls them directly).
  mountCellAudit(app, deps);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", openApiInfo);
  return app;
}
