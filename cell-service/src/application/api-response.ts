import { PROBLEM_CONTENT_TYPE, type Problem, problemBody, problemStatus } from "@cellwallet/contract";

/**
 * A finished HTTP answer. The body is serialized once, so the bytes stored for
 * idempotent replay are exactly the bytes first sent.
 */
export interface ApiResponse {
  status: number;
  contentType: string;
  body: string;
  location?: string;
  /** Set when this answer is a stored outcome replayed for a repeated Idempotency-Key. */
  replayed?: boolean;
  /** Seconds, for 429/503. */
  retryAfter?: number;
}

export const JSON_CONTENT_TYPE = "application/json";

export function jsonResponse(status: number, body: unknown, location?: string): ApiResponse {
  const response: ApiResponse = { status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(body) };
  if (location !== undefined) response.location = location;
  return response;
}

export function problemResponse(p: Problem, requestId: string): ApiResponse {
  return {
    status: problemStatus(p.code),
    contentType: PROBLEM_CONTENT_TYPE,
    body: JSON.stringify(problemBody(p, requestId)),
  };
}
