import { ENTRY_TYPES, isCurrency, isValidUserId } from "@cellwallet/contract";
import { z } from "@hono/zod-openapi";

/**
 * Request and response schemas of the public API. They validate requests and
 * generate the OpenAPI document, so the two cannot drift apart.
 */

const ID = /^[A-Za-z0-9_-]{1,128}$/;

const Amount = z
  .custom<unknown>((value) => value !== undefined, { message: "amount is required" })
  .openapi({
    description:
      'Positive decimal with at most the currency\'s minor digits, preferably a string ("10.50"); JSON numbers are read losslessly from their literal text.',
    type: ["string", "number"],
    example: "10.50",
  });

// A lone UTF-16 surrogate (legal as a JSON escape) is not Unicode text: RFC 8785 cannot canonicalize it,
// so it could never be hashed into the chain. Refuse it here as a validation error.
const LONE_SURROGATE = /\p{Cs}/u;
const Reference = z
  .string()
  .max(128)
  .refine((s) => !LONE_SURROGATE.test(s), { message: "must be well-formed Unicode text" })
  .openapi({ description: "Free text for the client, at most 128 characters." });

const Currency = z
  .string()
  .refine(isCurrency, { message: "must be an ISO 4217 currency code such as USD" })
  .openapi({ example: "USD", description: "ISO 4217 code; default USD." });

const UserId = z
  .string()
  .refine(isValidUserId, { message: "must be 1..128 characters of A-Z a-z 0-9 . _ @ : -" })
  .openapi({ example: "alice" });

const WalletIdField = z.string().regex(ID, "must be a wallet id").openapi({ example: "01JD3F6V6Y0M6X8Y9Z0A1B2C3D" });

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
const DIGITS = /^[0-9]{1,4}$/;
export const ListQuery = z.object({
  limit: z
    .string()
    .regex(DIGITS, "must be an integer from 1 to 200")
    .refine((v) => Number(v) >= 1 && Number(v) <= 200, "must be an integer from 1 to 200")
    .optional()
    .openapi({ example: "50" }),
  cursor: z.string().optional().openapi({ description: "nextCursor of the previous page (URL-encoded)." }),
  from: Timestamp.optional().openapi({ description: "Inclusive lower bound on createdAt (RFC 3339)." }),
  to: Timestamp.optional().openapi({ description: "Inclusive upper bound on createdAt (RFC 3339)." }),
});
export const HistoricalQuery = z.object({ timestamp: Timestamp.openapi({ description: "RFC 3339, any offset." }) });
export const UserQuery = z.object({ userId: UserId });

export const WalletIdParam = z.object({ walletId: z.string().openapi({ param: { name: "walletId", in: "path" } }) });
export const TransactionParams = z.object({
  walletId: z.string().openapi({ param: { name: "walletId", in: "path" } }),
  transactionId: z.string().openapi({ param: { name: "transactionId", in: "path" } }),
});
export const TransferIdParam = z.object({
  transferId: z.string().openapi({ param: { name: "transferId", in: "path" } }),
});
