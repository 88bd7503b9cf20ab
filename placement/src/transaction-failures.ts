/**
 * Reading a failed TransactWriteItems: which item's condition failed, or
 * whether the failure is transient (conflict, throttling) and worth retrying.
 */

const TRANSIENT_REASONS = new Set([
  "TransactionConflict",
  "ProvisionedThroughputExceeded",
  "ThrottlingError",
  "RequestLimitExceeded",
]);

const TRANSIENT_ERRORS = new Set([
  "TransactionConflictException",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TransactionInProgressException",
]);

// Emulators (moto) may omit CancellationReasons; the message still lists the codes in order.
const REASONS_IN_MESSAGE = /cancellation reasons for specific reasons \[([^\]]*)\]/i;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
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

/** A conflict or throttling that a fresh attempt may well get past. */
export function isTransient(error: unknown, codes: string[] | undefined): boolean {
  if (codes !== undefined) {
    const reasons = codes.filter((code) => code !== "None");
    return reasons.length > 0 && reasons.every((code) => TRANSIENT_REASONS.has(code));
  }
  const name = errorName(error);
  return name !== undefined && TRANSIENT_ERRORS.has(name);
}
