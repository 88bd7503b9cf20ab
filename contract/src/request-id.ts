import { randomUUID } from "node:crypto";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = "x-request-id";

/** The client's X-Request-Id when well-formed, otherwise a fresh one. */
export function acceptRequestId(header: string | undefined | null): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

export function isValidUserId(userId: unknown): userId is string {
  return typeof userId === "string" && USER_ID.test(userId);
}

/** Opaque ids we issue are ULIDs; anything outside this shape cannot name a resource. */
const RESOURCE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isWellFormedId(id: unknown): id is string {
  return typeof id === "string" && RESOURCE_ID.test(id);
}
