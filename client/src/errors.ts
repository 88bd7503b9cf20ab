import type { Problem } from "./types.js";

/**
 * The stable problem codes of the API (RFC 9457 `code`). Written out here, not imported from the contract, so
 * that the client's types need no package but @cellwallet/chain; test/runtime-dependencies.test.ts fails to
 * compile when this list and the contract's PROBLEM_TYPES differ.
 */
export type ProblemCode =
  | "validation-error"
  | "malformed-json"
  | "malformed-request"
  | "request-timeout"
  | "headers-too-large"
  | "invalid-amount"
  | "unauthenticated"
  | "forbidden"
  | "wallet-not-found"
  | "transfer-not-found"
  | "transaction-not-found"
  | "not-found"
  | "method-not-allowed"
  | "wallet-already-exists"
  | "idempotency-in-progress"
  | "migration-conflict"
  | "payload-too-large"
  | "unsupported-media-type"
  | "insufficient-funds"
  | "amount-precision"
  | "same-wallet-transfer"
  | "currency-mismatch"
  | "idempotency-key-reused"
  | "timestamp-in-future"
  | "rate-limited"
  | "internal-error"
  | "cell-unavailable";

/** Base class of every error the client throws. */
export class CellwalletError extends Error {
  override name = "CellwalletError";
}

/**
 * The API answered with an RFC 9457 problem that the client does not retry (a refusal, or a retryable answer
 * that persisted past the call's deadline is a DeadlineExceededError instead). `code` is the stable problem code.
 */
export class ProblemError extends CellwalletError {
  override name = "ProblemError";
  readonly code: ProblemCode;

  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** The Idempotency-Key the request was sent with (POSTs): reuse it to ask again. */
    readonly idempotencyKey?: string,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.code = problem.code as ProblemCode;
  }

  get requestId(): string {
    return this.problem.requestId;
  }
}

/** The call did not get a final answer before its deadline (after retrying what was safe to retry). */
export class DeadlineExceededError extends CellwalletError {
  override name = "DeadlineExceededError";

  constructor(
    message: string,
    /**
     * For a POST: the key of this logical operation. Its outcome is unknown (it may have been applied): call
     * again with the same key to get the stored answer, never with a new one.
     */
    readonly idempotencyKey: string | undefined,
    /** The last retryable failure (a ProblemError or a network error). */
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/**
 * The request could not be built, so it was never sent (nothing applied): a value fetch refuses in a header, such
 * as an Idempotency-Key or a token with a line break. Not retried: sending it again would fail the same way.
 */
export class RequestNotSentError extends CellwalletError {
  override name = "RequestNotSentError";

  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(`not sent: ${message}`);
  }
}

/** The server's answer could not be read (not JSON, or not the documented shape). */
export class UnexpectedResponseError extends CellwalletError {
  override name = "UnexpectedResponseError";

  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`unexpected ${status} answer: ${body.slice(0, 200)}`);
  }
}
