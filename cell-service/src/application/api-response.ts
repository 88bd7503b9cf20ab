import {
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problem,
  problemBody,
  problemStatus,
  WALLET_LOCATION_HEADER,
} from "@cellwallet/contract";
import type { Fence } from "../domain/ownership.js";

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
  /** The cell that owns the wallet now (a moved wallet): sent as the Wallet-Location header. */
  walletLocation?: string;
}

export const JSON_CONTENT_TYPE = "application/json";

export function jsonResponse(status: number, body: unknown, location?: string): ApiResponse {
  const response: ApiResponse = { status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(body) };
  if (location !== undefined) response.location = location;
  return response;
}

/**
 * The answer for a wallet (or user) this cell has fenced or given away: 503
 * cell-unavailable with Retry-After, and Wallet-Location when it moved. Never
 * stored for idempotency: nothing was applied, the client retries.
 */
export function fencedResponse(fence: Fence, requestId: string): ApiResponse {
  const what = fence.walletId !== undefined ? `wallet ${fence.walletId}` : `user ${fence.userId ?? "?"}`;
  const detail =
    fence.state === "moved"
      ? `${what} has moved to another cell; retry (the router follows ${WALLET_LOCATION_HEADER})`
      : `${what} is being moved between cells; retry in a moment`;
  const response: ApiResponse = { ...problemResponse(problem("cell-unavailable", detail), requestId), retryAfter: 1 };
  if (fence.movedTo !== undefined) response.walletLocation = fence.movedTo;
  return response;
}

export function problemResponse(p: Problem, requestId: string): ApiResponse {
  return {
    status: problemStatus(p.code),
    contentType: PROBLEM_CONTENT_TYPE,
    body: JSON.stringify(problemBody(p, requestId)),
  };
}
