import { ENTRY_TYPES, JsonNumber } from "@cellwallet/contract";
import { z } from "zod";
import type { IdempotencyRecord } from "../../application/ledger-store.js";
import type { MigrationItem } from "../../application/migration/migration-items.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";

/**
 * Export items as JSON and back. Money travels as the decimal text of its minor
 * units (never a JS number); counters and epoch-ms times as JSON integers. The
 * decoder is strict: an import is checked member by member (400 otherwise).
 */

const ID = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/);
const HASH = z.string().regex(/^[0-9a-f]{64}$/);
const MINOR = z.string().regex(/^(0|[1-9][0-9]{0,37})$/);
const CELL = z.string().regex(/^[a-z0-9-]{1,40}$/);
const CURRENCY = z.string().regex(/^[A-Z]{3}$/);
/** Integers arrive as lossless JsonNumber from the body parser. */
const INT = z.preprocess(
  (v) => (v instanceof JsonNumber ? Number(v.text) : v),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
);
const TEXT = z.string().max(1024);

const Context = z.strictObject({
  principal: TEXT.optional(),
  scopes: z.array(z.string().max(128)).max(32).optional(),
  clientIp: TEXT.optional(),
  userAgent: TEXT.optional(),
  requestId: TEXT.optional(),
  idempotencyKey: z.string().max(255).optional(),
});

const WalletItem = z.strictObject({
  kind: z.literal("wallet"),
  walletId: ID,
  userId: z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/),
  currency: CURRENCY,
  createdAt: INT,
});

const EntryItem = z.strictObject({
  kind: z.literal("entry"),
  entry: z.strictObject({
    walletId: ID,
    sequence: INT.refine((n) => n >= 1, "sequences start at 1"),
    transactionId: ID,
    type: z.enum(ENTRY_TYPES as [string, ...string[]]),
    amount: MINOR,
    currency: CURRENCY,
    balanceAfter: MINOR,
    createdAt: INT,
    contextDigest: HASH,
    prevHash: HASH,
    hash: HASH,
    reference: z.string().max(128).optional(),
    transferId: ID.optional(),
    counterpartyWalletId: ID.optional(),
    context: Context,
  }),
});

const TransferItem = z.strictObject({
  kind: z.literal("transfer"),
  transfer: z.strictObject({
    transferId: ID,
    fromWalletId: ID,
    toWalletId: ID,
    fromUserId: z.string().max(128).optional(),
    toUserId: z.string().max(128).optional(),
    amount: MINOR,
    currency: CURRENCY,
    status: z.enum(["PENDING", "COMPLETED", "FAILED"]),
    createdAt: INT,
    completedAt: INT.optional(),
    reference: z.string().max(128).optional(),
    destinationCellId: CELL.or(z.literal("unresolved")).optional(),
    sourceCellId: CELL.optional(),
  }),
});

const IdempotencyItem = z.strictObject({
  kind: z.literal("idempotency"),
  record: z.strictObject({
    scopeKey: HASH,
    fingerprint: HASH,
    status: INT.refine((n) => n >= 100 && n <= 599, "an HTTP status"),
    contentType: z.string().max(128),
    location: z.string().max(512).optional(),
    body: z.string().max(64 * 1024),
    createdAt: INT,
    expiresAt: INT,
    walletId: ID.optional(),
  }),
});

export const MigrationItemSchema = z.discriminatedUnion("kind", [WalletItem, EntryItem, TransferItem, IdempotencyItem]);

/** Drops absent optional members (exactOptionalPropertyTypes: absent, never undefined). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function itemFromJson(parsed: z.infer<typeof MigrationItemSchema>): MigrationItem {
  switch (parsed.kind) {
    case "wallet":
      return parsed;
    case "entry": {
      const e = parsed.entry;
      const entry = defined({
        ...e,
        type: e.type as LedgerEntry["type"],
        amount: BigInt(e.amount),
        balanceAfter: BigInt(e.balanceAfter),
        context: defined(e.context),
      }) as LedgerEntry;
      return { kind: "entry", entry };
    }
    case "transfer": {
      const transfer = defined({ ...parsed.transfer, amount: BigInt(parsed.transfer.amount) }) as Transfer;
      return { kind: "transfer", transfer };
    }
    case "idempotency":
      return { kind: "idempotency", record: defined(parsed.record) as IdempotencyRecord };
  }
}

export function itemToJson(item: MigrationItem): unknown {
  switch (item.kind) {
    case "wallet":
      return item;
    case "entry":
      return {
        kind: "entry",
        entry: { ...item.entry, amount: String(item.entry.amount), balanceAfter: String(item.entry.balanceAfter) },
      };
    case "transfer":
      return { kind: "transfer", transfer: { ...item.transfer, amount: String(item.transfer.amount) } };
    case "idempotency":
      return item;
  }
}
