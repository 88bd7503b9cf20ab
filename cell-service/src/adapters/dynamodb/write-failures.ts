/**
 * What a failed TransactWriteItems means for commit(): a business answer, a
 * conflict worth re-reading and re-deciding, or an outage to propagate.
 */

import {
  areTransientReasons,
  cancellationCodes,
  isTransientError,
  TRANSIENT_REASON_CODES,
} from "@cellwallet/store-support/dynamodb";

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

/** A version or funds condition that failed is a lost race: a fresh read and decision may well succeed. */
const RETRYABLE_REASONS: ReadonlySet<string> = new Set([...TRANSIENT_REASON_CODES, "ConditionalCheckFailed"]);

export function classifyWriteFailure(error: unknown, roles: readonly ItemRole[]): WriteVerdict {
  const codes = cancellationCodes(error);
  if (codes === undefined) return isTransientError(error) ? "retry" : "propagate";
  // Without one code per item the positions cannot be trusted to name the failing item.
  if (codes.length !== roles.length) return "propagate";
  const failed = (role: ItemRole) => codes.some((code, i) => roles[i] === role && code === "ConditionalCheckFailed");
  // The idempotency answer wins: the first request's stored outcome is the reply, whatever else conflicted.
  if (failed("idempotency")) return "idempotency-exists";
  if (failed("owner")) return "user-has-wallet";
  // The provisional answer was made final by a replay first: that answer stands (settle again without it).
  if (failed("idempotency-update")) return "idempotency-final";
  if (areTransientReasons(codes, RETRYABLE_REASONS)) return "retry";
  return "propagate";
}
