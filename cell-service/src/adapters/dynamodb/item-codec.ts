import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type AuditContext, ENTRY_TYPES, type EntryType } from "@cellwallet/contract";
import type { IdempotencyRecord } from "../../application/ledger-store.js";
import type { WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Ownership, OwnershipState, UserFence } from "../../domain/ownership.js";
import type { Transfer, TransferStatus } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { PENDING_SHARDS } from "./table-definitions.js";

/**
 * Domain <-> DynamoDB item marshalling. Money travels as the decimal text of a
 * bigint in both directions, never through a JS number. Decoding is strict: an
 * item that does not look like what we write is corruption, not something to
 * guess around.
 */

export type Item = Record<string, AttributeValue>;

/** DynamoDB numbers keep 38 significant digits; beyond that a write would be refused or rounded. */
const MAX_NUMBER_DIGITS = 38;
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
/** Upper bounds of the fixed-width time and sequence parts of the byTime sort key. */
export const MAX_TIME_MS = 999_999_999_999_999;
export const MAX_SEQUENCE = 999_999_999_999;

const s = (value: string): AttributeValue => ({ S: value });

function n(value: number): AttributeValue {
  if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
  return { N: String(value) };
}

function nb(value: bigint): AttributeValue {
  const text = value.toString();
  if (text.replace("-", "").length > MAX_NUMBER_DIGITS) throw new Error(`amount ${text} exceeds DynamoDB's precision`);
  return { N: text };
}

/** Encoders for expression values, with the same range checks as the items. */
export { n as integerValue, nb as bigintValue, s as stringValue };

function corrupt(attribute: string, item: Item): Error {
  const keys = Object.keys(item).sort().join(",");
  return new Error(`malformed DynamoDB item: attribute ${attribute} (item has ${keys})`);
}

function str(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw corrupt(name, item);
  return value;
}

function optStr(item: Item, name: string): string | undefined {
  return item[name] === undefined ? undefined : str(item, name);
}

function intText(item: Item, name: string): string {
  const value = item[name]?.N;
  if (value === undefined || !INTEGER_TEXT.test(value)) throw corrupt(name, item);
  return value;
}

function int(item: Item, name: string): number {
  const value = Number(intText(item, name));
  if (!Number.isSafeInteger(value)) throw corrupt(name, item);
  return value;
}

function optInt(item: Item, name: string): number | undefined {
  return item[name] === undefined ? undefined : int(item, name);
}

function big(item: Item, name: string): bigint {
  return BigInt(intText(item, name));
}

function oneOf<T extends string>(item: Item, name: string, allowed: readonly T[]): T {
  const value = str(item, name);
  if (!(allowed as readonly string[]).includes(value)) throw corrupt(name, item);
  return value as T;
}

/** Adds the optional string attributes that are present; absent ones stay absent (not NULL, not ""). */
function putOptional(item: Item, values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) if (value !== undefined) item[name] = s(value);
}

// Fixed-width keys so that string order is numeric order.
export function pad15(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) throw new Error(`time out of range: ${ms}`);
  return String(ms).padStart(15, "0");
}

function pad12(sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence > MAX_SEQUENCE) {
    throw new Error(`sequence out of range: ${sequence}`);
  }
  return String(sequence).padStart(12, "0");
}

/** Sort key of the byTime index: createdAt, then sequence, both zero-padded. */
export function timeKey(createdAt: number, sequence: number): string {
  return `${pad15(createdAt)}#${pad12(sequence)}`;
}

export const walletKey = (walletId: string): Item => ({ walletId: s(walletId) });
export const ownerKey = (userId: string): Item => ({ userId: s(userId) });
export const entryKey = (walletId: string, sequence: number): Item => ({
  walletId: s(walletId),
  sequence: n(sequence),
});
export const transferKey = (transferId: string): Item => ({ transferId: s(transferId) });
export const idempotencyKey = (scopeKey: string): Item => ({ scopeKey: s(scopeKey) });

const OWNERSHIP_STATES: readonly OwnershipState[] = ["active", "frozen", "moved", "importing", "abandoned"];

/** Ownership attributes of a wallet item; items written before migrations have none: active at epoch 1. */
export function ownershipToItem(o: Ownership): Item {
  const item: Item = { ownState: s(o.state), ownEpoch: n(o.epoch) };
  putOptional(item, { ownMigration: o.migrationId, ownPeer: o.peerCellId });
  return item;
}

function ownershipFromItem(item: Item): Ownership {
  if (item.ownState === undefined) return { state: "active", epoch: 1 };
  const ownership: Ownership = { state: oneOf(item, "ownState", OWNERSHIP_STATES), epoch: int(item, "ownEpoch") };
  const migrationId = optStr(item, "ownMigration");
  const peer = optStr(item, "ownPeer");
  if (migrationId !== undefined) ownership.migrationId = migrationId;
  if (peer !== undefined) ownership.peerCellId = peer;
  return ownership;
}

/** A user fence lives in the owners table, as an owner item without walletId: create-wallet's condition stops. */
export function userFenceToItem(f: UserFence): Item {
  return {
    userId: s(f.userId),
    fenceState: s(f.state),
    fenceEpoch: n(f.epoch),
    fenceMigration: s(f.migrationId),
    fenceTarget: s(f.targetCellId),
  };
}

export function userFenceFromOwnerItem(item: Item): UserFence | undefined {
  if (item.fenceState === undefined) return undefined;
  return {
    userId: str(item, "userId"),
    state: oneOf(item, "fenceState", ["frozen", "moved"] as const),
    epoch: int(item, "fenceEpoch"),
    migrationId: str(item, "fenceMigration"),
    targetCellId: str(item, "fenceTarget"),
  };
}

export function walletToItem(wallet: Wallet): Item {
  return {
    ...ownershipToItem(wallet.ownership),
    walletId: s(wallet.walletId),
    userId: s(wallet.userId),
    currency: s(wallet.currency),
    balance: nb(wallet.balance),
    version: n(wallet.version),
    headHash: s(wallet.headHash),
    lastEntryAt: n(wallet.lastEntryAt),
    createdAt: n(wallet.createdAt),
    updatedAt: n(wallet.updatedAt),
  };
}

export function walletFromItem(item: Item): Wallet {
  return {
    walletId: str(item, "walletId"),
    userId: str(item, "userId"),
    currency: str(item, "currency"),
    balance: big(item, "balance"),
    version: int(item, "version"),
    headHash: str(item, "headHash"),
    lastEntryAt: int(item, "lastEntryAt"),
    createdAt: int(item, "createdAt"),
    updatedAt: int(item, "updatedAt"),
    ownership: ownershipFromItem(item),
  };
}

export function ownerToItem(userId: string, walletId: string): Item {
  return { userId: s(userId), walletId: s(walletId) };
}

/** The owner's wallet id; undefined for a user fence (an owner item without a wallet). */
export function walletIdFromOwnerItem(item: Item): string | undefined {
  return item.fenceState !== undefined && item.walletId === undefined ? undefined : str(item, "walletId");
}

export function entryToItem(entry: LedgerEntry): Item {
  const item: Item = {
    walletId: s(entry.walletId),
    sequence: n(entry.sequence),
    timeKey: s(timeKey(entry.createdAt, entry.sequence)),
    transactionId: s(entry.transactionId),
    type: s(entry.type),
    amount: nb(entry.amount),
    currency: s(entry.currency),
    balanceAfter: nb(entry.balanceAfter),
    createdAt: n(entry.createdAt),
    contextDigest: s(entry.contextDigest),
    prevHash: s(entry.prevHash),
    hash: s(entry.hash),
    context: s(JSON.stringify(entry.context)),
  };
  putOptional(item, {
    reference: entry.reference,
    transferId: entry.transferId,
    counterpartyWalletId: entry.counterpartyWalletId,
  });
  return item;
}

function contextFromItem(item: Item): AuditContext {
  let parsed: unknown;
  try {
    parsed = JSON.parse(str(item, "context"));
  } catch {
    throw corrupt("context", item);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw corrupt("context", item);
  return parsed as AuditContext;
}

export function entryFromItem(item: Item): LedgerEntry {
  const entry: LedgerEntry = {
    walletId: str(item, "walletId"),
    sequence: int(item, "sequence"),
    transactionId: str(item, "transactionId"),
    type: oneOf<EntryType>(item, "type", ENTRY_TYPES),
    amount: big(item, "amount"),
    currency: str(item, "currency"),
    balanceAfter: big(item, "balanceAfter"),
    createdAt: int(item, "createdAt"),
    contextDigest: str(item, "contextDigest"),
    prevHash: str(item, "prevHash"),
    hash: str(item, "hash"),
    context: contextFromItem(item),
  };
  const reference = optStr(item, "reference");
  const transferId = optStr(item, "transferId");
  const counterpartyWalletId = optStr(item, "counterpartyWalletId");
  if (reference !== undefined) entry.reference = reference;
  if (transferId !== undefined) entry.transferId = transferId;
  if (counterpartyWalletId !== undefined) entry.counterpartyWalletId = counterpartyWalletId;
  return entry;
}

/** A stable shard of the pending-transfers index for a transfer id. */
export function pendingShard(transferId: string): string {
  let h = 0;
  for (let i = 0; i < transferId.length; i++) h = (h * 31 + transferId.charCodeAt(i)) >>> 0;
  return String(h % PENDING_SHARDS);
}

const TRANSFER_STATUSES: readonly TransferStatus[] = ["PENDING", "COMPLETED", "FAILED"];

export function transferToItem(transfer: Transfer): Item {
  const item: Item = {
    transferId: s(transfer.transferId),
    fromWalletId: s(transfer.fromWalletId),
    toWalletId: s(transfer.toWalletId),
    amount: nb(transfer.amount),
    currency: s(transfer.currency),
    status: s(transfer.status),
    createdAt: n(transfer.createdAt),
  };
  if (transfer.completedAt !== undefined) item.completedAt = n(transfer.completedAt);
  putOptional(item, {
    fromUserId: transfer.fromUserId,
    toUserId: transfer.toUserId,
    reference: transfer.reference,
    destinationCellId: transfer.destinationCellId,
    sourceCellId: transfer.sourceCellId,
  });
  // Sparse index key: present only while an outgoing cross-cell transfer waits for its credit.
  if (transfer.status === "PENDING" && transfer.destinationCellId !== undefined) {
    item.pendingShard = s(pendingShard(transfer.transferId));
  }
  return item;
}

export function transferFromItem(item: Item): Transfer {
  const transfer: Transfer = {
    transferId: str(item, "transferId"),
    fromWalletId: str(item, "fromWalletId"),
    toWalletId: str(item, "toWalletId"),
    amount: big(item, "amount"),
    currency: str(item, "currency"),
    status: oneOf(item, "status", TRANSFER_STATUSES),
    createdAt: int(item, "createdAt"),
  };
  const fromUserId = optStr(item, "fromUserId");
  const sourceCellId = optStr(item, "sourceCellId");
  if (fromUserId !== undefined) transfer.fromUserId = fromUserId;
  if (sourceCellId !== undefined) transfer.sourceCellId = sourceCellId;
  const toUserId = optStr(item, "toUserId");
  const completedAt = optInt(item, "completedAt");
  const reference = optStr(item, "reference");
  const destinationCellId = optStr(item, "destinationCellId");
  if (toUserId !== undefined) transfer.toUserId = toUserId;
  if (completedAt !== undefined) transfer.completedAt = completedAt;
  if (reference !== undefined) transfer.reference = reference;
  if (destinationCellId !== undefined) transfer.destinationCellId = destinationCellId;
  return transfer;
}

export function idempotencyToItem(record: IdempotencyRecord): Item {
  const item: Item = {
    scopeKey: s(record.scopeKey),
    fingerprint: s(record.fingerprint),
    status: n(record.status),
    contentType: s(record.contentType),
    body: s(record.body),
    createdAt: n(record.createdAt),
    expiresAt: n(record.expiresAt),
    // DynamoDB TTL wants epoch seconds; rounding up never expires a record early.
    ttl: n(Math.ceil(record.expiresAt / 1000)),
  };
  putOptional(item, { location: record.location, walletId: record.walletId });
  if (record.provisional) item.provisional = { BOOL: true };
  return item;
}

export function idempotencyFromItem(item: Item): IdempotencyRecord {
  const record: IdempotencyRecord = {
    scopeKey: str(item, "scopeKey"),
    fingerprint: str(item, "fingerprint"),
    status: int(item, "status"),
    contentType: str(item, "contentType"),
    body: str(item, "body"),
    createdAt: int(item, "createdAt"),
    expiresAt: int(item, "expiresAt"),
  };
  const location = optStr(item, "location");
  const walletId = optStr(item, "walletId");
  if (location !== undefined) record.location = location;
  if (walletId !== undefined) record.walletId = walletId;
  if (item.provisional?.BOOL === true) record.provisional = true;
  return record;
}

export function headFromItem(item: Item): WalletHead {
  return {
    walletId: str(item, "walletId"),
    currency: str(item, "currency"),
    balance: big(item, "balance"),
    version: int(item, "version"),
    headHash: str(item, "headHash"),
  };
}

/** A required string attribute (corruption when absent). */
export function stringOf(item: Item, name: string): string {
  return str(item, name);
}
