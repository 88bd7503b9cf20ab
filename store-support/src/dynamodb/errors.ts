/**
 * Reading DynamoDB failures: which are transient (a fresh attempt may well get past them) and, for a cancelled
 * TransactWriteItems, the reason code of each item. One list for every store, so they cannot drift apart.
 */

/** Error names of a conflict or throttling: transient for every store. */
export const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  "TransactionConflictException",
  "TransactionInProgressException",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

/** Cancellation reason codes of a conflict or throttling. */
export const TRANSIENT_REASON_CODES: ReadonlySet<string> = new Set([
  "TransactionConflict",
  "ProvisionedThroughputExceeded",
  "ThrottlingError",
  "RequestLimitExceeded",
]);

/** Refused for throughput rather than for a conflict (metrics count these apart). */
const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);
const THROTTLING_REASON_CODES: ReadonlySet<string> = new Set(["ThrottlingError", "ProvisionedThroughputExceeded"]);

// Emulators (moto) and older responses may omit CancellationReasons; the message still lists the codes in order.
const REASONS_IN_MESSAGE = /cancellation reasons for specific reasons \[([^\]]*)\]/i;

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A conflict or throttling error outside a cancellation (reads included). */
export function isTransientError(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && TRANSIENT_ERROR_NAMES.has(name);
}

/** The reason code of every item, in request order; undefined when the error is no cancellation or does not say. */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((r) => r.Code ?? "None");
  const listed = REASONS_IN_MESSAGE.exec(error.message)?.[1];
  if (listed === undefined) return undefined;
  return listed.split(",").map((code) => code.trim() || "None");
}

/**
 * True when every item that failed failed for a reason in `transient` (default: conflicts and throttling);
 * a store whose conditions are version checks adds "ConditionalCheckFailed" (a re-read and re-decision may pass).
 */
export function areTransientReasons(codes: readonly string[], transient = TRANSIENT_REASON_CODES): boolean {
  const reasons = codes.filter((code) => code !== "None");
  return reasons.length > 0 && reasons.every((code) => transient.has(code));
}

/** A conflict or throttling that a fresh attempt may well get past: by its reasons when cancelled, else its name. */
export function isTransient(error: unknown, codes = cancellationCodes(error)): boolean {
  return codes !== undefined ? areTransientReasons(codes) : isTransientError(error);
}

/** Refused for throughput: a throttling error, or a transaction cancelled because one of its items was. */
export function isThrottling(error: unknown): boolean {
  const name = errorName(error);
  if (name !== undefined && THROTTLING_ERROR_NAMES.has(name)) return true;
  return (cancellationCodes(error) ?? []).some((code) => THROTTLING_REASON_CODES.has(code));
}

/** A conditional write whose condition did not hold (alone, or as a cancelled transaction). */
export function isConditionFailure(error: unknown): boolean {
  const name = errorName(error);
  return name === "ConditionalCheckFailedException" || name === "TransactionCanceledException";
}
