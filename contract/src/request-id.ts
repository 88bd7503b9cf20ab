import { randomUUID } from "node:crypto";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = "x-request-id";

/** The client's X-Request-Id when well-formed, otherwise a fresh one. */
export function acceptRequestId(header: string | undefined | null): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * 1..255 printable ASCII characters. HTTP strips spaces around a header value, so a received key never starts
 * or ends with one: the published pattern says so too (the OpenAPI document uses this text).
 */
export const IDEMPOTENCY_KEY_PATTERN = "^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$";
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

/** User ids: 1..128 of A-Z a-z 0-9 . _ @ : - (the OpenAPI document uses this text). */
export const USER_ID_PATTERN = "^[A-Za-z0-9._@:-]{1,128}$";
const USER_ID = new RegExp(USER_ID_PATTERN);

export function isValidUserId(userId: unknown): userId is string {
  return typeof userId === "string" && USER_ID.test(userId);
}

/**
 * A reference is free text a client shows on statements: no C0/C1 control characters (a newline would forge a
 * line in a log or a CSV export) and no bidirectional formatting characters (U+202E can make "100" read "001"
 * on a statement). Written with \u escapes of BMP units only, so ECMAScript (without the u flag) and Python read
 * the published pattern alike; a lone surrogate is refused separately (it is not Unicode text).
 */
export const REFERENCE_PATTERN =
  "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$";

/** Opaque ids we issue are ULIDs; anything outside this shape cannot name a resource. */
export const RESOURCE_ID_PATTERN = "^[A-Za-z0-9_-]{1,128}$";
const RESOURCE_ID = new RegExp(RESOURCE_ID_PATTERN);

export function isWellFormedId(id: unknown): id is string {
  return typeof id === "string" && RESOURCE_ID.test(id);
}
