import { INTERNAL_CREDIT_PATH } from "@cellwallet/contract";
import { Hono } from "hono";
import { accessLog } from "./access-log.js";
import { internalCreditRequest, publicApiRequest } from "./api-routes.js";
import { mountApiDocument, mountOperationalRoutes } from "./operational-routes.js";
import { sendProblem } from "./router-answers.js";
import type { RouterAppDeps, RouterEnv } from "./router-env.js";

export { acceptTraceparent } from "./access-log.js";
export type { RouterAppDeps } from "./router-env.js";

/**
 * The router's HTTP edge: middleware and mounts only. Choosing the cell: resolution.ts (pure), choose-cell.ts
 * and relocation.ts; relaying to it: relay.ts; the access log: access-log.ts; the handlers: api-routes.ts.
 */
export function createRouterApp(deps: RouterAppDeps): Hono<RouterEnv> {
  const app = new Hono<RouterEnv>();
  app.use("*", accessLog(deps));
  app.onError(function answerError(error, c) {
    deps.logger.error({ requestId: c.get("requestId"), err: { message: error.message, stack: error.stack } }, "bug");
    return sendProblem(c, "internal-error", "an internal error occurred; it has been logged");
  });
  app.notFound(function answerNotFound(c) {
    return sendProblem(c, "not-found", `no resource at ${c.req.path}`);
  });
  mountOperationalRoutes(app, deps);
  app.all("/api/*", (c) => publicApiRequest(c, deps));
  app.all(INTERNAL_CREDIT_PATH, (c) => internalCreditRequest(c, deps));
  mountApiDocument(app, deps);
  return app;
}
