import { randomBytes, randomUUID } from "node:crypto";
import {
  acceptRequestId,
  cellHint,
  INTERNAL_CREDIT_PATH,
  isAllowed,
  MAX_BODY_BYTES,
  PROBLEM_CONTENT_TYPE,
  type Principal,
  type ProblemCode,
  problem,
  problemBody,
  problemStatus,
  readBodyLimited,
  SCOPES,
  type TokenVerifier,
  WALLET_LOCATION_HEADER,
} from "@cellwallet/contract";
import type { CellRecord } from "@cellwallet/placement";
import {
  activeTraceparent,
  addSpanEvent,
  logTraceIds,
  type Span,
  tracingEnabled,
  withServerSpan,
} from "@cellwallet/telemetry";
import { getConnInfo } from "@hono/node-server/conninfo";
import { type Context, Hono } from "hono";
import type { Logger } from "pino";
import type { CellTarget, Forwarder, ForwardOutcome } from "./forward.js";
import type { RouterMetrics } from "./metrics.js";
import type { PlacementDirectory } from "./placement-directory.js";
import type { RateLimiter } from "./rate-limit.js";
import { isMethodAllowed, type MatchedRoute, matchRoute, type Resolution, resolve, routeLabel } from "./resolution.js";

export interface RouterAppDeps {
  az: string;
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
  /** Extra readiness (false while shutting down). */
  ready?: () => boolean;
  random?: () => number;
}

interface RouterEnv {
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

type Ctx = Context<RouterEnv>;

const RETRY_AFTER_SECONDS = "1";
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
/** Request headers a cell sees (the router adds x-request-id, traceparent and x-forwarded-for itself). */
const FORWARDED_HEADERS = ["authorization", "content-type", "user-agent", "idempotency-key"] as const;

/** A W3C traceparent: the client's when well-formed, otherwise a new trace. */
export function acceptTraceparent(header: string | undefined): string {
  const m = header === undefined ? null : TRACEPARENT.exec(header);
  if (m && !header?.startsWith("ff") && !/^0+$/.test(m[1] as string) && !/^0+$/.test(m[2] as string)) {
    return header as string;
  }
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

function sendProblem(
  c: Ctx,
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
  extensions?: Record<string, unknown>,
): Response {
  const body = problemBody(problem(code, detail, extensions), c.get("requestId"));
  return c.body(JSON.stringify(body), problemStatus(code) as 400, { "content-type": PROBLEM_CONTENT_TYPE, ...headers });
}

function unavailable(c: Ctx, detail: string): Response {
  return sendProblem(c, "cell-unavailable", detail, { "retry-after": RETRY_AFTER_SECONDS });
}

function peerAddress(c: Ctx): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

function usable(cell: CellRecord): boolean {
  return cell.state !== "retired" && cell.endpoints.some((e) => e.weight > 0);
}

export function createRouterApp(deps: RouterAppDeps): Hono<RouterEnv> {
  const { directory, forwarder, metrics, logger } = deps;
  const random = deps.random ?? Math.random;
  const app = new Hono<RouterEnv>();
  const spanAttributes = { az: deps.az };

  /** Metrics, span name and attributes, and the access log line of one finished request. */
  const recordRequest = (c: Ctx, span?: Span) => {
    const requestId = c.get("requestId");
    c.header("x-request-id", requestId);
    const route = c.get("route");
    const status = String(c.res.status);
    const seconds = (performance.now() - c.get("started")) / 1000;
    metrics.requests.inc({ method: c.req.method, route, status });
    metrics.latency.observe({ method: c.req.method, route, status }, seconds);
    if (span) {
      span.updateName(`router ${c.req.method} ${route}`);
      span.setAttributes({
        "http.request.method": c.req.method,
        "http.route": route,
        "http.response.status_code": c.res.status,
        "cell.id": c.get("cell") ?? "",
      });
    }
    if (route !== "metrics" && route !== "health" && route !== "ready") {
      logger.info(
        {
          requestId,
          method: c.req.method,
          route,
          status: c.res.status,
          durationMs: Math.round(seconds * 1000 * 100) / 100,
          traceparent: c.get("traceparent"),
          ...logTraceIds(c.get("traceparent")),
          principal: c.get("principal")?.subject,
          cellId: c.get("cell"),
          cellAz: c.get("cellAz"),
          attempts: c.get("attempts"),
        },
        "request",
      );
    }
  };

  // Request id, trace context, access log and metrics around everything. With tracing on, the request runs in a
  // SERVER span continuing the client's traceparent, and the cells get that span's context.
  app.use("*", async (c, next) => {
    c.set("started", performance.now());
    c.set("requestId", acceptRequestId(c.req.header("x-request-id")));
    c.set("route", "unmatched");
    const clientTraceparent = c.req.header("traceparent");
    if (!tracingEnabled()) {
      c.set("traceparent", acceptTraceparent(clientTraceparent));
      await next();
      return recordRequest(c);
    }
    const carrier = { traceparent: clientTraceparent, tracestate: c.req.header("tracestate") };
    await withServerSpan(`router ${c.req.method}`, carrier, spanAttributes, async (span) => {
      c.set("traceparent", activeTraceparent() ?? acceptTraceparent(clientTraceparent));
      await next();
      recordRequest(c, span);
    });
  });

  app.onError((error, c) => {
    logger.error({ requestId: c.get("requestId"), err: { message: error.message, stack: error.stack } }, "bug");
    return sendProblem(c, "internal-error", "an internal error occurred; it has been logged");
  });

  app.notFound((c) => sendProblem(c, "not-found", `no resource at ${c.req.path}`));

  app.get("/health", (c) => {
    c.set("route", "health");
    return c.json({ status: "ok" });
  });
  app.get("/ready", (c) => {
    c.set("route", "ready");
    const ready = directory.ready && (deps.ready?.() ?? true);
    if (!ready) return c.json({ status: "not-ready" }, 503);
    // An AZ evacuated in the registry (weight 0 for every cell here) reports itself out, so a Route 53
    // health check on this router drains the AZ through the data plane, with no DNS record edit.
    const ownAz = directory
      .cells()
      .filter((cell) => cell.state !== "retired")
      .flatMap((cell) => cell.endpoints.filter((e) => e.az === deps.az));
    if (ownAz.length > 0 && ownAz.every((e) => e.weight === 0)) {
      return c.json({ status: "evacuated", az: deps.az }, 503);
    }
    return c.json({ status: "ready" });
  });
  app.get("/metrics", async (c) => {
    c.set("route", "metrics");
    return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });

  /** Any cell that serves traffic: for answers every cell gives alike (validation, not found, the API document). */
  const anyCell = (): CellRecord | undefined => {
    const cells = directory.cells().filter(usable);
    const active = cells.filter((cell) => cell.state === "active");
    const pool = active.length > 0 ? active : cells;
    return pool[Math.floor(random() * pool.length)];
  };

  const authenticate = async (c: Ctx, verify: TokenVerifier): Promise<Principal | Response> => {
    const header = c.req.header("authorization");
    const match = header ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      return sendProblem(c, "unauthenticated", "send Authorization: Bearer <token>", {
        "www-authenticate": 'Bearer realm="cellwallet"',
      });
    }
    const verified = await verify(match[1]);
    if (!verified.ok) {
      return sendProblem(c, "unauthenticated", "the bearer token is not valid", {
        "www-authenticate": 'Bearer realm="cellwallet", error="invalid_token"',
      });
    }
    c.set("principal", verified.principal);
    return verified.principal;
  };

  /** The body bytes of a request that has one (undefined: too large, answered 413 by the caller). */
  const body = async (c: Ctx): Promise<Uint8Array | undefined> => {
    const method = c.req.method;
    if (method !== "POST" && method !== "PUT" && method !== "PATCH") return new Uint8Array();
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) return undefined;
    return readBodyLimited(c.req.raw, MAX_BODY_BYTES);
  };

  const tooLarge = (c: Ctx) =>
    sendProblem(c, "payload-too-large", `request bodies are at most ${MAX_BODY_BYTES} bytes`);

  /**
   * Sends the request to `cell` and relays the answer. When the cell answers 503 with Wallet-Location (it
   * fenced or gave the wallet away and applied nothing), `relocate` drops the cached answer and names
   * the cell to try instead: the request is forwarded there once, with the same Idempotency-Key.
   */
  const forward = async (
    c: Ctx,
    cell: CellTarget,
    bytes: Uint8Array,
    options: {
      addIdempotencyKey: boolean;
      retryable?: boolean;
      relocate?: (answeredBy: string, location: string) => Promise<CellRecord | Response | undefined>;
    },
  ): Promise<Response> => {
    const url = new URL(c.req.url);
    const method = c.req.method;
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    headers["x-request-id"] = c.get("requestId");
    headers.traceparent = c.get("traceparent");
    const peer = peerAddress(c);
    const forwardedFor = c.req.header("x-forwarded-for");
    if (peer !== undefined) headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${peer}` : peer;
    else if (forwardedFor !== undefined) headers["x-forwarded-for"] = forwardedFor;
    let routerKey = false;
    if (options.addIdempotencyKey && method === "POST" && headers["idempotency-key"] === undefined) {
      // With a key of its own the router may retry a POST on another replica: the cell replays, never repeats.
      headers["idempotency-key"] = `rtr-${randomUUID()}`;
      routerKey = true;
    }
    const hasBody = method === "POST" || method === "PUT" || method === "PATCH";
    const retryable =
      options.retryable ?? (method === "GET" || method === "HEAD" || headers["idempotency-key"] !== undefined);
    c.set("cell", cell.cellId);
    const send = (to: CellTarget) =>
      forwarder.forward(to, {
        method,
        target: url.pathname + url.search,
        headers,
        body: hasBody ? bytes : undefined,
        retryable,
        deadline: c.get("started") + deps.cellTimeoutMs,
      });
    let outcome: ForwardOutcome = await send(cell);
    const location = outcome.kind === "response" ? outcome.headers["wallet-location"] : undefined;
    if (outcome.kind === "response" && outcome.status === 503 && location !== undefined && options.relocate) {
      const next = await options.relocate(cell.cellId, location);
      if (next instanceof Response) return next;
      if (next !== undefined && next.cellId !== cell.cellId) {
        metrics.relocationReforwards.inc();
        addSpanEvent("relocation re-forward", {
          "cellwallet.from_cell": cell.cellId,
          "cellwallet.to_cell": next.cellId,
        });
        c.set("cell", next.cellId);
        outcome = await send(next);
      }
    }
    if (outcome.kind === "shed") return unavailable(c, "the service is busy; retry later");
    c.set("attempts", outcome.attempts);
    if (outcome.kind === "unavailable") {
      metrics.cellUnavailable.inc({ cell: cell.cellId });
      return unavailable(c, "the service did not answer in time; retry later");
    }
    c.set("cellAz", outcome.az);
    const responseHeaders = { ...outcome.headers };
    // Where a wallet lives is the platform's business: clients only see 503 + Retry-After at worst.
    delete responseHeaders[WALLET_LOCATION_HEADER.toLowerCase()];
    // The client sent no key, so "replayed" would describe only the router's own retry.
    if (routerKey) delete responseHeaders["idempotency-replayed"];
    if (outcome.status === 503 && responseHeaders["retry-after"] === undefined) {
      responseHeaders["retry-after"] = RETRY_AFTER_SECONDS;
    }
    const noBody = method === "HEAD" || outcome.status === 204 || outcome.status === 304;
    if (noBody) return c.body(null, outcome.status as 200, responseHeaders);
    return c.body(outcome.body, outcome.status as 200, responseHeaders);
  };

  /** The cell a public API request goes to, or the answer the router gives itself. */
  const cellFor = async (c: Ctx, resolution: Resolution, principal: Principal): Promise<CellRecord | Response> => {
    switch (resolution.kind) {
      case "create-wallet":
      case "find-wallets": {
        const { userId } = resolution;
        const found = await directory.lookup(userId);
        let cellId: string;
        if (found.status === "unavailable") return unavailable(c, "the user directory is unavailable; retry later");
        if (found.status === "placed") cellId = found.cellId;
        else if (resolution.kind === "find-wallets") {
          if (!isAllowed(principal, "wallet:read", userId)) {
            return sendProblem(c, "forbidden", `the principal may not read the wallets of ${userId}`);
          }
          // Never placed: no cell holds a wallet of this user.
          return c.json({ items: [] });
        } else {
          if (!isAllowed(principal, "wallet:create", userId)) {
            return sendProblem(c, "forbidden", `the principal may not create a wallet for ${userId}`);
          }
          const placed = await directory.onboard(userId);
          if (placed.status === "no-capacity")
            return unavailable(c, "no capacity for new users right now; retry later");
          if (placed.status === "unavailable") return unavailable(c, "the user directory is unavailable; retry later");
          cellId = placed.cellId;
        }
        const placedCell = await directory.findCell(cellId);
        if (placedCell.status !== "known") {
          if (placedCell.status === "unknown") {
            logger.error(
              { requestId: c.get("requestId"), cellId },
              "user placed in a cell the registry does not serve",
            );
          }
          return unavailable(c, "the service is unavailable; retry later");
        }
        return placedCell.cell;
      }
      case "wallet": {
        const found = await directory.findWalletCell(resolution.walletId, resolution.cellId);
        if (found.status === "known") return found.cell;
        if (found.status === "unavailable") return unavailable(c, "the service is unavailable; retry later");
        break;
      }
      case "hint": {
        const found = await directory.findCell(resolution.cellId);
        if (found.status === "known") return found.cell;
        // The registry cannot be read: the id may name a cell newer than our copy, so no 404 from here.
        if (found.status === "unavailable") return unavailable(c, "the service is unavailable; retry later");
        break;
      }
      case "internal-credit":
        break;
      case "any":
        break;
    }
    return anyCell() ?? unavailable(c, "the service is unavailable; retry later");
  };

  /**
   * After a 503 + Wallet-Location from `answeredBy`: forget what led there, resolve again, and when the
   * store still says `answeredBy` (not yet visible, or unreachable) trust the cell's Wallet-Location.
   */
  const relocator =
    (c: Ctx, resolution: Resolution, principal: Principal | undefined) =>
    async (answeredBy: string, location: string): Promise<CellRecord | Response | undefined> => {
      if (resolution.kind === "wallet" || resolution.kind === "internal-credit") {
        directory.forgetWallet(resolution.walletId);
      } else if (resolution.kind === "create-wallet" || resolution.kind === "find-wallets") {
        directory.forgetUser(resolution.userId);
      }
      if (principal !== undefined) {
        const again = await cellFor(c, resolution, principal);
        if (again instanceof Response) return again;
        if (again.cellId !== answeredBy) return again;
      } else if (resolution.kind === "internal-credit") {
        const hint = resolution.cellId ?? cellHint(resolution.walletId);
        if (hint !== undefined) {
          const located = await directory.locateWallet(resolution.walletId, hint);
          if (located.cellId !== answeredBy) {
            const found = await directory.findCell(located.cellId);
            if (found.status === "known") return found.cell;
          }
        }
      }
      const named = await directory.findCell(location);
      return named.status === "known" ? named.cell : undefined;
    };

  /**
   * A transfer id names the cell that created it. Once that cell is drained (its users moved, their transfer
   * records with them) and retired, the id can no longer say where the transfer is: every serving cell is
   * asked in turn (a transfer lives in its sender's and its receiver's cells), never one at random, which would
   * answer 404 for a transfer that exists. A 404 is the answer only when every cell gave it.
   */
  const askEveryCell = async (c: Ctx, bytes: Uint8Array, resolution: Resolution, principal: Principal) => {
    let last: Response | undefined;
    for (const cell of directory.cells().filter(usable)) {
      const answer = await forward(c, cell, bytes, {
        addIdempotencyKey: false,
        relocate: relocator(c, resolution, principal),
      });
      if (answer.status !== 404) return answer;
      last = answer;
    }
    return last ?? unavailable(c, "the service is unavailable; retry later");
  };

  const methodNotAllowed = (c: Ctx, route: MatchedRoute) =>
    sendProblem(c, "method-not-allowed", `${c.req.method} is not allowed on ${c.req.path}`, {
      allow: route.methods.join(", "),
    });

  app.all("/api/*", async (c) => {
    const method = c.req.method;
    const url = new URL(c.req.url);
    const route = matchRoute(url.pathname);
    c.set("route", routeLabel(route, method));
    // Before authentication, as the cells do: a wrong method is wrong whoever asks.
    if (route !== undefined && !isMethodAllowed(route, method)) return methodNotAllowed(c, route);
    const principal = await authenticate(c, deps.verifyToken);
    if (principal instanceof Response) return principal;
    const limited = deps.rateLimiter.take(principal.subject);
    if (!limited.ok) {
      metrics.rateLimited.inc();
      return sendProblem(c, "rate-limited", "too many requests; slow down", {
        "retry-after": String(limited.retryAfterSeconds),
      });
    }
    const bytes = await body(c);
    if (bytes === undefined) return tooLarge(c);
    const resolution = resolve({
      route,
      method,
      query: url.searchParams,
      body: bytes,
      contentType: c.req.header("content-type"),
    });
    if (resolution.kind === "hint" && method === "GET") {
      const named = await directory.findCell(resolution.cellId);
      if (named.status === "unknown" && directory.cell(resolution.cellId)?.state === "retired") {
        return askEveryCell(c, bytes, resolution, principal);
      }
    }
    const cell = await cellFor(c, resolution, principal);
    if (cell instanceof Response) return cell;
    return forward(c, cell, bytes, { addIdempotencyKey: true, relocate: relocator(c, resolution, principal) });
  });

  // The internal API: cells reach each other only through here, with a service token.
  app.all(INTERNAL_CREDIT_PATH, async (c) => {
    const route = matchRoute(INTERNAL_CREDIT_PATH) as MatchedRoute;
    c.set("route", route.name);
    if (!isMethodAllowed(route, c.req.method)) return methodNotAllowed(c, route);
    const principal = await authenticate(c, deps.verifyServiceToken);
    if (principal instanceof Response) return principal;
    if (!principal.scopes.includes(SCOPES.internal)) {
      return sendProblem(c, "forbidden", `the internal API needs the ${SCOPES.internal} scope`);
    }
    const bytes = await body(c);
    if (bytes === undefined) return tooLarge(c);
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
          : await directory.findWalletCell(resolution.walletId, resolution.cellId);
      if (found.status === "unavailable") return unavailable(c, "the cell registry is unavailable; retry later");
      if (found.status === "unknown") {
        // Definitive: no cell can hold this wallet, so the caller may fail the transfer and refund.
        return sendProblem(c, "wallet-not-found", `wallet ${resolution.walletId} does not exist`);
      }
      cell = found.cell;
    } else {
      cell = anyCell();
      if (cell === undefined) return unavailable(c, "the service is unavailable; retry later");
    }
    // Credits are idempotent by transferId: safe to retry on another replica without a key.
    return forward(c, cell, bytes, {
      addIdempotencyKey: false,
      retryable: true,
      relocate: relocator(c, resolution, undefined),
    });
  });

  // The API document is the same in every cell.
  app.get("/openapi.json", async (c) => {
    c.set("route", "openapi");
    const cell = anyCell();
    if (cell === undefined) return unavailable(c, "the service is unavailable; retry later");
    return forward(c, cell, new Uint8Array(), { addIdempotencyKey: false });
  });

  return app;
}
