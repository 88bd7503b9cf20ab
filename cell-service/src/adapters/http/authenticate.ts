import { BEARER_AUTHORIZATION, problem, type TokenVerifier } from "@cellwallet/contract";
import type { MiddlewareHandler } from "hono";
import type { CellEnv } from "./context.js";
import { sendProblem } from "./respond.js";

/** Every API call needs a valid bearer token; the principal comes only from it. */
export function authenticate(verify: TokenVerifier): MiddlewareHandler<CellEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? BEARER_AUTHORIZATION.exec(header) : null;
    const challenge = { "www-authenticate": 'Bearer realm="cellwallet"' };
    if (!match?.[1]) {
      return sendProblem(c, problem("unauthenticated", "send Authorization: Bearer <token>"), challenge);
    }
    const verified = await verify(match[1]);
    if (!verified.ok) {
      return sendProblem(c, problem("unauthenticated", "the bearer token is not valid"), {
        "www-authenticate": 'Bearer realm="cellwallet", error="invalid_token"',
      });
    }
    c.set("principal", verified.principal);
    return next();
  };
}
