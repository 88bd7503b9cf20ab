import { acceptRequestId } from "@cellwallet/contract";
import { logTraceIds, type Span, tracingEnabled, withServerSpan } from "@cellwallet/telemetry";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";

/**
 * Request id, access log and metrics around everything; with tracing on, a SERVER span continuing the
 * caller's.
 */
export function requestLog(
  metrics: CellMetrics,
  logger: Logger,
  spanAttributes: Record<string, string>,
): MiddlewareHandler<CellEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    c.set("requestId", acceptRequestId(c.req.header("x-request-id")));
    const traceparent = c.req.header("traceparent");
    if (!tracingEnabled()) {
      await next();
      return recordRequest(c, metrics, logger, started, traceparent);
    }
    const carrier = { traceparent, tracestate: c.req.header("tracestate") };
    await withServerSpan(`cell ${c.req.method}`, carrier, spanAttributes, async (span) => {
      await next();
      recordRequest(c, metrics, logger, started, traceparent, span);
    });
  };
}

/** Metrics, span name and attributes, and the access log line of one finished request. */
function recordRequest(
  c: Context<CellEnv>,
  metrics: CellMetrics,
  logger: Logger,
  started: number,
  traceparent: string | undefined,
  span?: Span,
): void {
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
}
