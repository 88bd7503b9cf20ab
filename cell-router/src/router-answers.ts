import { PROBLEM_CONTENT_TYPE, type ProblemCode, problem, problemBody, problemStatus } from "@cellwallet/contract";
import type { MatchedRoute } from "./resolution.js";
import type { Ctx } from "./router-env.js";

/** The answers the router gives itself (RFC 9457 problems), never a cell's. */

export const RETRY_AFTER_SECONDS = "1";

export function sendProblem(
  c: Ctx,
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
  extensions?: Record<string, unknown>,
): Response {
  const body = problemBody(problem(code, detail, extensions), c.get("requestId"));
  return c.body(JSON.stringify(body), problemStatus(code) as 400, { "content-type": PROBLEM_CONTENT_TYPE, ...headers });
}

export function unavailable(c: Ctx, detail: string): Response {
  return sendProblem(c, "cell-unavailable", detail, { "retry-after": RETRY_AFTER_SECONDS });
}

export function methodNotAllowed(c: Ctx, route: MatchedRoute): Response {
  return sendProblem(c, "method-not-allowed", `${c.req.method} is not allowed on ${c.req.path}`, {
    allow: route.methods.join(", "),
  });
}
