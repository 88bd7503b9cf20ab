import {
  BEARER_AUTHORIZATION,
  MAX_BODY_BYTES,
  type Principal,
  readBodyLimited,
  type TokenVerifier,
} from "@cellwallet/contract";
import { sendProblem } from "./router-answers.js";
import type { Ctx, RouterAppDeps } from "./router-env.js";

/** What the router checks itself before choosing a cell: the bearer token, the rate limit, the body's size. */

/** The verified principal (also set on the context for the access log), or the 401 answer. */
export async function authenticate(c: Ctx, verify: TokenVerifier): Promise<Principal | Response> {
  const header = c.req.header("authorization");
  const match = header ? BEARER_AUTHORIZATION.exec(header) : null;
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
}

/** The 429 answer when the principal is over its rate, else undefined. */
export function rateLimited(c: Ctx, deps: RouterAppDeps, principal: Principal): Response | undefined {
  const limited = deps.rateLimiter.take(principal.subject);
  if (limited.ok) return undefined;
  deps.metrics.rateLimited.inc();
  return sendProblem(c, "rate-limited", "too many requests; slow down", {
    "retry-after": String(limited.retryAfterSeconds),
  });
}

/** The body bytes of a request that has one, or the 413 answer when it is too large. */
export async function requestBody(c: Ctx): Promise<Uint8Array | Response> {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return new Uint8Array();
  const declared = c.req.header("content-length");
  const bytes =
    declared !== undefined && Number(declared) > MAX_BODY_BYTES
      ? undefined
      : await readBodyLimited(c.req.raw, MAX_BODY_BYTES);
  return bytes ?? sendProblem(c, "payload-too-large", `request bodies are at most ${MAX_BODY_BYTES} bytes`);
}
