import {
  AMOUNT_PATTERN,
  CURRENCY_CODES,
  ENTRY_TYPES,
  IDEMPOTENCY_KEY_PATTERN,
  MAX_MINOR_DIGITS,
  MAX_OPERATION_MAJOR,
  REFERENCE_PATTERN,
  RESOURCE_ID_PATTERN,
  USER_ID_PATTERN,
} from "@cellwallet/contract";
import { z } from "@hono/zod-openapi";

/**
 * Request and response schemas of the public API. They validate requests and
 * generate the OpenAPI document, so the two cannot drift apart.
 */

const ID = new RegExp(RESOURCE_ID_PATTERN);

/**
 * The amount's value is checked by parseAmount (400 invalid-amount, 422 amount-precision), which enforces
 * exactly AMOUNT_PATTERN for strings; the same literal written as a JSON number is read losslessly from its
 * text, so the number form is a multiple of 10^-4 within the same range (a test checks both agree).
 */
const Amount = z
  .custom<unknown>((value) => value !== undefined, { message: "amount is required" })
  .openapi({
    description:
      'A decimal string such as "10.50" (preferred): > 0, at most 1000000000, at most 4 decimals, no sign, exponent, spaces or leading zeros; anything else is 400 invalid-amount. ' +
      "More decimals than the wallet's currency has (USD 2, JPY 0, BHD 3) is 422 amount-precision. " +
      "A JSON number is accepted by its exact value, read losslessly from its literal text (never a rounded float): > 0, at most 1000000000, a multiple of 0.0001, in any JSON spelling (100, 1e2 and 100.00000 are the same amount).",
    type: ["string", "number"],
    pattern: AMOUNT_PATTERN,
    exclusiveMinimum: 0,
    maximum: MAX_OPERATION_MAJOR,
    multipleOf: Number(`1e-${MAX_MINOR_DIGITS}`),
    example: "10.50",
  });

/** At most `max` Unicode code points (what JSON Schema's maxLength counts), not UTF-16 units. */
const maxCodePoints = (max: number) => (s: string) => [...s].length <= max;

// A lone UTF-16 surrogate (legal as a JSON escape) is not Unicode text: RFC 8785 cannot canonicalize it,
// so it could never be hashed into the chain. Refuse it here as a validation error.
const LONE_SURROGATE = /\p{Cs}/u;
const REFERENCE = new RegExp(REFERENCE_PATTERN);
const Reference = z
  .string()
  .refine(maxCodePoints(128), { message: "must be at most 128 characters" })
  .refine((s) => !LONE_SURROGATE.test(s), { message: "must be well-formed Unicode text" })
  .regex(REFERENCE, { message: "must not contain control or bidirectional formatting characters" })
  .openapi({
    description:
      "Free text for the client, at most 128 characters (code points), without control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional formatting characters.",
    maxLength: 128,
    pattern: REFERENCE_PATTERN,
  });

const Currency = z
  .enum(CURRENCY_CODES as [string, ...string[]], { error: "must be an ISO 4217 currency code such as USD" })
  .openapi({ example: "USD", description: "ISO 4217 code; default USD." });

const USER_ID = new RegExp(USER_ID_PATTERN);
const UserId = z
  .string()
  .regex(USER_ID, { message: "must be 1..128 characters of A-Z a-z 0-9 . _ @ : -" })
  .openapi({ example: "alice", minLength: 1, maxLength: 128 });

const WalletIdField = z.string().regex(ID, "must be a wallet id").openapi({ example: "01JD3F6V6Y0M6X8Y9Z0A1B2C3D" });

/** The Idempotency-Key header (checked by the POST handlers with the same pattern: 400 validation-error). */
export const IdempotencyKey = z
  .string()
  .regex(new RegExp(IDEMPOTENCY_KEY_PATTERN), "must be 1..255 printable ASCII characters")
  .openapi({
    description:
      "1..255 printable ASCII characters (no leading or trailing space). The same key and request replay the stored answer; " +
      "reuse it on every retry of one logical operation.",
    example: "salary-2026-11",
  });

export const CreateWalletBody = z
  .strictObject({ userId: UserId, currency: Currency.optional() })
  .openapi("CreateWallet");
export const MoneyBody = z.strictObject({ amount: Amount, reference: Reference.optional() }).openapi("MoneyMovement");
export const TransferBody = z
  .strictObject({
    fromWalletId: WalletIdField,
    toWalletId: WalletIdField,
    amount: Amount,
    reference: Reference.optional(),
  })
  .openapi("TransferRequest");

const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-25T10:00:00.000Z" });
/** What parseTimestamp accepts of RFC 3339 (else 400 validation-error). */
const TIME_RULES =
  "RFC 3339 with any offset; digits below the millisecond are truncated; no leap second (second 60 is 400).";
const Money = z.string().openapi({ example: "10.50" });

export const Wallet = z
  .object({
    walletId: z.string(),
    userId: z.string(),
    currency: z.string(),
    balance: Money,
    version: z.number().int().openapi({ description: "Number of ledger entries." }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Wallet");

export const Transaction = z
  .object({
    transactionId: z.string(),
    walletId: z.string(),
    type: z.enum(ENTRY_TYPES as [string, ...string[]]),
    amount: Money,
    currency: z.string(),
    balanceAfter: Money,
    sequence: z.number().int(),
    createdAt: Timestamp,
    contextDigest: z.string().openapi({ description: "Hex SHA-256 of the JCS audit context." }),
    prevHash: z.string(),
    hash: z.string(),
    reference: z.string().optional(),
    transferId: z.string().optional(),
    counterpartyWalletId: z.string().optional(),
  })
  .openapi("Transaction");

export const Transfer = z
  .object({
    transferId: z.string(),
    fromWalletId: z.string(),
    toWalletId: z.string(),
    amount: Money,
    currency: z.string(),
    status: z.enum(["PENDING", "COMPLETED", "FAILED"]),
    createdAt: Timestamp,
    completedAt: Timestamp.optional(),
    reference: z.string().optional(),
  })
  .openapi("Transfer");

export const WalletList = z.object({ items: z.array(Wallet) }).openapi("WalletList");
export const TransactionPage = z
  .object({ items: z.array(Transaction), nextCursor: z.string().nullable() })
  .openapi("TransactionPage");
export const HistoricalBalance = z
  .object({
    walletId: z.string(),
    currency: z.string(),
    balance: Money,
    timestamp: Timestamp,
    sequence: z.number().int(),
  })
  .openapi("HistoricalBalance");
export const WalletAudit = z
  .object({
    walletId: z.string(),
    valid: z.boolean(),
    entries: z.number().int(),
    headHash: z.string(),
    firstInvalidSequence: z.number().int().nullable(),
  })
  .openapi("WalletAudit");

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
  })
  .openapi("Problem");

// Query strings arrive as text; they are validated here and converted in the handlers.
/** 1..200, at most 4 digits (leading zeros allowed): exactly what the handler accepts. */
const LIMIT = /^(?:0{0,3}[1-9]|0{0,2}[1-9][0-9]|0?1[0-9]{2}|0?200)$/;
/** What a cursor we issue looks like; only a nextCursor this API returned for the wallet is valid (else 400). */
const CURSOR = /^[A-Za-z0-9_-]{1,512}$/;
export const ListQuery = z.object({
  limit: z.string().regex(LIMIT, "must be an integer from 1 to 200").optional().openapi({ example: "50" }),
  cursor: z.string().regex(CURSOR, "must be a nextCursor returned by this API").optional().openapi({
    description:
      "nextCursor of the previous page of this wallet, as returned (opaque). Any other value is 400 validation-error.",
  }),
  from: Timestamp.optional().openapi({ description: `Inclusive lower bound on createdAt. ${TIME_RULES}` }),
  to: Timestamp.optional().openapi({ description: `Inclusive upper bound on createdAt. ${TIME_RULES}` }),
});
export const HistoricalQuery = z.object({
  timestamp: Timestamp.openapi({ description: `The instant; in the future: 422 timestamp-in-future. ${TIME_RULES}` }),
});
export const UserQuery = z.object({ userId: UserId });

// Ids in paths: the handlers answer 404 (not 400) for one outside the pattern, since no resource has such an id.
const pathId = (name: string) => z.string().openapi({ param: { name, in: "path" }, pattern: RESOURCE_ID_PATTERN });
export const WalletIdParam = z.object({ walletId: pathId("walletId") });
export const TransactionParams = z.object({ walletId: pathId("walletId"), transactionId: pathId("transactionId") });
export const TransferIdParam = z.object({ transferId: pathId("transferId") });
