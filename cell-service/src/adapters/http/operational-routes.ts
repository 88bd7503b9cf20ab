import type { OpenAPIHono } from "@hono/zod-openapi";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";

/** Liveness, readiness (with the build, so a rollout can check what it deployed) and Prometheus metrics. */
export function mountOperationalRoutes(
  app: OpenAPIHono<CellEnv>,
  metrics: CellMetrics,
  ready: () => Promise<boolean>,
  version: string,
): void {
  app.get("/health", function healthRequest(c) {
    return c.json({ status: "ok" });
  });
  app.get("/ready", async function readyRequest(c) {
    return (await ready()) ? c.json({ status: "ready", version }) : c.json({ status: "not-ready", version }, 503);
  });
  app.get("/metrics", async function metricsRequest(c) {
    return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });
}
