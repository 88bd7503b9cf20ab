import {
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemBody,
  problemStatus,
  WALLET_LOCATION_HEADER,
} from "@cellwallet/contract";
import type { Context } from "hono";
import type { ApiResponse } from "../../application/api-response.js";

/**
 * A Response typed so that any route handler may return it: the route schemas
 * document the shapes and the use cases produce them as pre-serialized bytes,
 * which hono's typed responses cannot follow.
 */
export type RouteResponse = never;

/** Sends an ApiResponse as is: the body bytes are those stored for idempotent replay. */
export function send(c: Context, response: ApiResponse): RouteResponse {
  const headers: Record<string, string> = { "content-type": response.contentType };
  if (response.location !== undefined) headers.location = response.location;
  if (response.replayed) headers["idempotency-replayed"] = "true";
  if (response.retryAfter !== undefined) headers["retry-after"] = String(response.retryAfter);
  if (response.walletLocation !== undefined) headers[WALLET_LOCATION_HEADER.toLowerCase()] = response.walletLocation;
  return c.body(response.body, response.status as 200, headers) as RouteResponse;
}

export function sendProblem(c: Context, p: Problem, headers: Record<string, string> = {}): RouteResponse {
  const requestId = c.get("requestId") ?? "unknown";
  return c.body(JSON.stringify(problemBody(p, requestId)), problemStatus(p.code) as 400, {
    "content-type": PROBLEM_CONTENT_TYPE,
    ...headers,
  }) as RouteResponse;
}
