import { INSTANCE_HEADER } from "@cellwallet/contract";
import type { Hono } from "hono";
import { anyCell } from "./choose-cell.js";
import { relay } from "./relay.js";
import { unavailable } from "./router-answers.js";
import type { RouterAppDeps, RouterEnv } from "./router-env.js";

/**
 * Liveness, readiness (with AZ evacuation), Prometheus metrics and the API document (relayed from a cell).
 * With an instance id (CELLWALLET_INSTANCE), /health and /ready carry it in the Cellwallet-Instance header:
 * the launcher that started this process accepts only that answer as its process being up.
 */
export function mountOperationalRoutes(app: Hono<RouterEnv>, deps: RouterAppDeps): void {
  const { directory, metrics } = deps;
  const instance = deps.instance;
  if (instance) {
    for (const path of ["/health", "/ready"]) {
      app.use(path, async function instanceHeader(c, next) {
        await next();
        c.header(INSTANCE_HEADER, instance);
      });
    }
  }
  app.get("/health", function healthRequest(c) {
    c.set("route", "health");
    return c.json({ status: "ok" });
  });
  app.get("/ready", function readyRequest(c) {
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
  app.get("/metrics", async function metricsRequest(c) {
    c.set("route", "metrics");
    return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });
}

/** The API document is the same in every cell: any one answers it. */
export function mountApiDocument(app: Hono<RouterEnv>, deps: RouterAppDeps): void {
  app.get("/openapi.json", async function openApiRequest(c) {
    c.set("route", "openapi");
    const cell = anyCell(deps);
    if (cell === undefined) return unavailable(c, "the service is unavailable; retry later");
    return relay(c, deps, cell, new Uint8Array(), { addIdempotencyKey: false });
  });
}
