import type { AuditContext, Principal } from "@cellwallet/contract";

/** Per-request values the middlewares set for the handlers. */
export interface CellEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    clientIp: string | undefined;
    /** The body as parsed losslessly (numbers as JsonNumber), for idempotency fingerprints. */
    parsedBody: unknown;
    audit: AuditContext;
  };
}
