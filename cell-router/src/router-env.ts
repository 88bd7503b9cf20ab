import type { Principal, TokenVerifier } from "@cellwallet/contract";
import type { Context } from "hono";
import type { Logger } from "pino";
import type { Forwarder } from "./forward.js";
import type { RouterMetrics } from "./metrics.js";
import type { PlacementDirectory } from "./placement-directory.js";
import type { RateLimiter } from "./rate-limit.js";
import type { ProxyTrust } from "./trusted-proxies.js";

/** What the router's HTTP edge is built from (create-router.ts composes it). */
export interface RouterAppDeps {
  az: string;
  /** Which launch this process is (CELLWALLET_INSTANCE): echoed on /health and /ready for its launcher. */
  instance?: string;
  /** Verifies user tokens (same rules as the cells: WALLET_JWT_SECRET or JWKS). */
  verifyToken: TokenVerifier;
  /** Verifies service tokens of the internal API (HS256, CELL_INTERNAL_SECRET). */
  verifyServiceToken: TokenVerifier;
  directory: PlacementDirectory;
  forwarder: Forwarder;
  rateLimiter: RateLimiter;
  metrics: RouterMetrics;
  logger: Logger;
  /** Deadline of one client request, placement lookup and every attempt included. */
  cellTimeoutMs: number;
  /** Whether a peer is a proxy whose X-Forwarded-For is passed on (default: nobody's). */
  trustsProxy?: ProxyTrust;
  /** Extra readiness (false while shutting down). */
  ready?: () => boolean;
  random?: () => number;
}

/** Per-request values: set by the access log and the handlers, read back for the log line and metrics. */
export interface RouterEnv {
  Variables: {
    requestId: string;
    traceparent: string;
    started: number;
    route: string;
    principal: Principal | undefined;
    cell: string | undefined;
    cellAz: string | undefined;
    attempts: number | undefined;
  };
}

export type Ctx = Context<RouterEnv>;
