import { randomBytes } from "node:crypto";
import { acceptRequestId } from "@cellwallet/contract";
import { activeTraceparent, logTraceIds, type Span, tracingEnabled, withServerSpan } from "@cellwallet/telemetry";
import type { MiddlewareHandler } from "hono";
import type { Ctx, RouterAppDeps, RouterEnv } from "./router-env.js";

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** A W3C traceparent: the client's when well-formed, otherwise a new trace. */
export function acceptTraceparent(header: string | undefined): string {
  const m = header === undefined ? null : TRACEPARENT.exec(header);
  if (m && !header?.startsWith("ff") && !/^0+$/.test(m[1] as string) && !/^0+$/.test(m[2] as string)) {
    return header as string;
  }
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

/**
 * Request id, trace context, access log and metrics around everything. With tracing on, the request runs in a
 * SERVER span continuing the client's traceparent, and the cells get that span's context.
 */
export function accessLog(deps: RouterAppDeps): MiddlewareHandler<RouterEnv> {
  const spanAttributes = { az: deps.az };
  return async function logAccess(c, next) {
    c.set("started", performance.now());
    c.set("requestId", acceptRequestId(c.req.header("x-request-id")));
    c.set("route", "unmatched");
    const clientTraceparent = c.req.header("traceparent");
    if (!tracingEnabled()) {
      c.set("traceparent", acceptTraceparent(clientTraceparent));
      await next();
      return recordRequest(c, deps);
    }
    const carrier = { traceparent: clientTraceparent, tracestate: c.req.header("tracestate") };
    await withServerSpan(`router ${c.req.method}`, carrier, spanAttributes, async (span) => {
      c.set("traceparent", activeTraceparent() ?? acceptTraceparent(clientTraceparent));
      await next();
      recordRequest(c, deps, span);
    });
  };
}

/** Metrics, span name and attributes, and the access log line of one finished request. */
function recordRequest(c: Ctx, { metrics, logger }: RouterAppDeps, span?: Span): void {
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
}
