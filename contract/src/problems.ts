/**
 * The one problem-type catalogue (RFC 9457) shared by the router and the cells.
 * Every 4xx/5xx response body is built from it.
 */
export const PROBLEM_TYPES = {
  "validation-error": { status: 400, title: "The request is not valid" },
  // Refused by the HTTP parser, before any route: no operation is known, so no operation documents them.
  "malformed-request": { status: 400, title: "The request is not valid HTTP" },
  "request-timeout": { status: 408, title: "The request was not received in time" },
  "headers-too-large": { status: 431, title: "The request headers are too large" },
  "malformed-json": { status: 400, title: "The request body is not valid JSON" },
  "invalid-amount": { status: 400, title: "The amount is not valid" },
  unauthenticated: { status: 401, title: "Authentication is required" },
  forbidden: { status: 403, title: "The principal may not do this" },
  "wallet-not-found": { status: 404, title: "Wallet not found" },
  "transfer-not-found": { status: 404, title: "Transfer not found" },
  "transaction-not-found": { status: 404, title: "Transaction not found" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "wallet-already-exists": { status: 409, title: "The user already has a wallet" },
  "idempotency-in-progress": { status: 409, title: "A request with this Idempotency-Key is still in progress" },
  "migration-conflict": {
    status: 409,
    title: "The wallet's ownership state or epoch does not allow this migration step",
  },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "unsupported-media-type": { status: 415, title: "The request body must be application/json" },
  "insufficient-funds": { status: 422, title: "Insufficient funds" },
  "amount-precision": { status: 422, title: "The amount has more decimal digits than the wallet's currency" },
  "same-wallet-transfer": { status: 422, title: "A transfer needs two different wallets" },
  "currency-mismatch": { status: 422, title: "The wallets have different currencies" },
  "idempotency-key-reused": { status: 422, title: "The Idempotency-Key was used for a different request" },
  "timestamp-in-future": { status: 422, title: "The timestamp is in the future" },
  "rate-limited": { status: 429, title: "Too many requests" },
  "internal-error": { status: 500, title: "Internal error" },
  "cell-unavailable": { status: 503, title: "The cell is unavailable; retry later" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface FieldError {
  /** RFC 6901 JSON pointer into the request ("/amount"), or a query/header name ("query/limit"). */
  pointer: string;
  detail: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A problem before the HTTP layer adds the request id: the value use cases return. */
export interface Problem {
  code: ProblemCode;
  detail: string;
  extensions?: Record<string, unknown>;
}

export function problem(code: ProblemCode, detail: string, extensions?: Record<string, unknown>): Problem {
  return extensions ? { code, detail, extensions } : { code, detail };
}

export function problemStatus(code: ProblemCode): number {
  return PROBLEM_TYPES[code].status;
}

export function problemBody(p: Problem, requestId: string): ProblemBody {
  const type = PROBLEM_TYPES[p.code];
  return {
    type: `/problems/${p.code}`,
    title: type.title,
    status: type.status,
    detail: p.detail,
    code: p.code,
    requestId,
    ...p.extensions,
  };
}

export function isProblemCode(value: unknown): value is ProblemCode {
  return typeof value === "string" && Object.hasOwn(PROBLEM_TYPES, value);
}
