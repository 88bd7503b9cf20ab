import { createTokenVerifier, DEVELOPMENT_JWT_SECRET } from "@cellwallet/contract";
import pino from "pino";
import type { CellDeps } from "../../application/operation-context.js";
import { createCellApp } from "./app.js";
import { ClientIpResolver } from "./client-ip.js";
import { CellMetrics } from "./metrics.js";
import { openApiInfo } from "./openapi-info.js";

/**
 * The OpenAPI document generated from the route definitions. Generating it
 * registers the routes only; no handler runs, so no store is needed.
 */
export function openApiDocument(): unknown {
  const app = createCellApp({
    deps: {} as CellDeps,
    verifyToken: createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET }),
    verifyInternalToken: createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET }),
    clientIp: new ClientIpResolver([]),
    metrics: new CellMetrics("doc", "doc"),
    logger: pino({ level: "silent" }),
    ready: async () => false,
  });
  return app.getOpenAPI31Document(openApiInfo);
}

/** The committed file: stable formatting so a diff shows exactly what changed. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
