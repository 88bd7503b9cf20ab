/**
 * What a failed TransactWriteItems means for commit(): a business answer, a
 * conflict worth re-reading and re-deciding, or an outage to propagate.
 */

/** What each item of the transaction guards, by position (CancellationReasons are positional). */
export type ItemRole =
  | "new-wallet"
  | "owner"
  | "wallet-update"
  /** A wallet read but not written (a refusal's idempotency record): its ownership must still hold. */
  | "wallet-check"
  | "entry"
  | "transfer"
  | "idempotency"
  | "idempotency-update";

export type WriteVerdict = "idempotency-exists" | "idempotency-final" | "user-has-wallet" | "retry" | "propagate";

/** Conflicts and throttling: a fresh read and decision may well succeed. */
const RETRYABLE_REASONS = new Set([
  "ConditionalCheckFailed",
  "TransactionConflict",
  "ProvisionedThroughputExceeded",
  "ThrottlingError",
]);

const RETRYABLE_ERRORS = new Set([
  "TransactionConflictException",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

// Emulators (moto) and older responses may omit CancellationReasons; the message still lists the codes in order.
const REASONS_IN_MESSAGE = /cancellation reasons for specific reasons \[([^\]]*)\]/i;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A throttling or conflict error outside a cancellation (reads included). */
export function isRetryableError(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && RETRYABLE_ERRORS.has(name);
}

/** The reason code of every item, in request order; undefined when the error does not say. */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((r) => r.Code ?? "None");
  const listed = REASONS_IN_MESSAGE.exec(error.message)?.[1];
  if (listed === undefined) return undefined;
  return listed.split(",").map((code) => code.trim() || "None");
}

export function classifyWriteFailure(error: unknown, roles: readonly ItemRole[]): WriteVerdict {
  const codes = cancellationCodes(error);
  if (codes === undefined) return isRetryableError(error) ? "retry" : "propagate";
  // Without one code per item the positions cannot be trusted to name the failing item.
  if (codes.length !== roles.length) return "propagate";
  const failed = (role: ItemRole) => codes.some((code, i) => roles[i] === role && code === "ConditionalCheckFailed");
  // The idempotency answer wins: the first request's stored outcome is the reply, whatever else conflicted.
  if (failed("idempotency")) return "idempotency-exists";
  if (failed("owner")) return "user-has-wallet";
  // The provisional answer was made final by a replay first: that answer stands (settle again without it).
  if (failed("idempotency-update")) return "idempotency-final";
  const reasons = codes.filter((code) => code !== "None");
  if (reasons.length > 0 && reasons.every((code) => RETRYABLE_REASONS.has(code))) return "retry";
  return "propagate";
}
