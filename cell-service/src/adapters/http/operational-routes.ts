import { INSTANCE_HEADER } from "@cellwallet/contract";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { CellEnv } from "./context.js";
import type { CellMetrics } from "./metrics.js";

/**
 * Liveness, readiness (with the build, so a rollout can check what it deployed) and Prometheus metrics.
 * With an instance id (CELLWALLET_INSTANCE), /health and /ready carry it in the Cellwallet-Instance header:
 * the launcher that started this process accepts only that answer as its process being up.
 */
export function mountOperationalRoutes(
  app: OpenAPIHono<CellEnv>,
  metrics: CellMetrics,
  ready: () => Promise<boolean>,
  version: string,
  instance?: string,
): void {
  const headers: Record<string, string> = instance ? { [INSTANCE_HEADER]: instance } : {};
  app.get("/health", function healthRequest(c) {
    return c.json({ status: "ok" }, 200, headers);
  });
  app.get("/ready", async function readyRequest(c) {
    return (await ready())
      ? c.json({ status: "ready", version }, 200, headers)
      : c.json({ status: "not-ready", version }, 503, headers);
  });
  app.get("/metrics", async function metricsRequest(c) {
    return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });
}
