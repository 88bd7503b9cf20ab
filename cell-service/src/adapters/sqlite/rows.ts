import type { AuditContext, EntryType } from "@cellwallet/contract";
import type { IdempotencyRecord } from "../../application/ledger-store.js";
import type { WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Ownership, OwnershipState, UserFence } from "../../domain/ownership.js";
import type { Transfer, TransferStatus } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";

// Statements run with safeIntegers(true): every INTEGER arrives as a bigint, so
// money never passes through a JS number. Counters and times are narrowed here.
type Row = Record<string, unknown>;

const big = (v: unknown): bigint => {
  if (typeof v !== "bigint") throw new Error(`expected an integer column, got ${typeof v}`);
  return v;
};
const num = (v: unknown): number => Number(big(v));
const str = (v: unknown): string => {
  if (typeof v !== "string") throw new Error(`expected a text column, got ${typeof v}`);
  return v;
};
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : str(v));

export function walletFromRow(r: Row): Wallet {
  return {
    walletId: str(r.wallet_id),
    userId: str(r.user_id),
    currency: str(r.currency),
    balance: big(r.balance),
    version: num(r.version),
    headHash: str(r.head_hash),
    lastEntryAt: num(r.last_entry_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    ownership: ownershipFromRow(r),
  };
}

function ownershipFromRow(r: Row): Ownership {
  const ownership: Ownership = { state: str(r.state) as OwnershipState, epoch: num(r.epoch) };
  const migrationId = optStr(r.migration_id);
  const peer = optStr(r.peer_cell_id);
  if (migrationId !== undefined) ownership.migrationId = migrationId;
  if (peer !== undefined) ownership.peerCellId = peer;
  return ownership;
}

export function ownershipParams(o: Ownership) {
  return { state: o.state, epoch: o.epoch, migration_id: o.migrationId ?? null, peer_cell_id: o.peerCellId ?? null };
}

export function userFenceFromRow(r: Row): UserFence {
  return {
    userId: str(r.user_id),
    state: str(r.state) as UserFence["state"],
    epoch: num(r.epoch),
    migrationId: str(r.migration_id),
    targetCellId: str(r.target_cell_id),
  };
}

export function userFenceParams(f: UserFence) {
  return {
    user_id: f.userId,
    state: f.state,
    epoch: f.epoch,
    migration_id: f.migrationId,
    target_cell_id: f.targetCellId,
  };
}

export function walletParams(w: Wallet) {
  return {
    wallet_id: w.walletId,
    user_id: w.userId,
    currency: w.currency,
    balance: w.balance,
    version: w.version,
    head_hash: w.headHash,
    last_entry_at: w.lastEntryAt,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
    ...ownershipParams(w.ownership),
  };
}

export function entryFromRow(r: Row): LedgerEntry {
  const entry: LedgerEntry = {
    walletId: str(r.wallet_id),
    sequence: num(r.sequence),
    transactionId: str(r.transaction_id),
    type: str(r.type) as EntryType,
    amount: big(r.amount),
    currency: str(r.currency),
    balanceAfter: big(r.balance_after),
    createdAt: num(r.created_at),
    contextDigest: str(r.context_digest),
    prevHash: str(r.prev_hash),
    hash: str(r.hash),
    context: JSON.parse(str(r.context)) as AuditContext,
  };
  const reference = optStr(r.reference);
  const transferId = optStr(r.transfer_id);
  const counterparty = optStr(r.counterparty_wallet_id);
  if (reference !== undefined) entry.reference = reference;
  if (transferId !== undefined) entry.transferId = transferId;
  if (counterparty !== undefined) entry.counterpartyWalletId = counterparty;
  return entry;
}

export function entryParams(e: LedgerEntry) {
  return {
    wallet_id: e.walletId,
    sequence: e.sequence,
    transaction_id: e.transactionId,
    type: e.type,
    amount: e.amount,
    currency: e.currency,
    balance_after: e.balanceAfter,
    created_at: e.createdAt,
    context_digest: e.contextDigest,
    prev_hash: e.prevHash,
    hash: e.hash,
    reference: e.reference ?? null,
    transfer_id: e.transferId ?? null,
    counterparty_wallet_id: e.counterpartyWalletId ?? null,
    context: JSON.stringify(e.context),
  };
}

export function transferFromRow(r: Row): Transfer {
  const t: Transfer = {
    transferId: str(r.transfer_id),
    fromWalletId: str(r.from_wallet_id),
    toWalletId: str(r.to_wallet_id),
    amount: big(r.amount),
    currency: str(r.currency),
    status: str(r.status) as TransferStatus,
    createdAt: num(r.created_at),
  };
  const fromUserId = optStr(r.from_user_id);
  const toUserId = optStr(r.to_user_id);
  const source = optStr(r.source_cell_id);
  if (fromUserId !== undefined) t.fromUserId = fromUserId;
  if (source !== undefined) t.sourceCellId = source;
  const reference = optStr(r.reference);
  const destination = optStr(r.destination_cell_id);
  if (toUserId !== undefined) t.toUserId = toUserId;
  if (r.completed_at !== null && r.completed_at !== undefined) t.completedAt = num(r.completed_at);
  if (reference !== undefined) t.reference = reference;
  if (destination !== undefined) t.destinationCellId = destination;
  return t;
}

export function transferParams(t: Transfer) {
  return {
    transfer_id: t.transferId,
    from_wallet_id: t.fromWalletId,
    to_wallet_id: t.toWalletId,
    from_user_id: t.fromUserId ?? null,
    to_user_id: t.toUserId ?? null,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    created_at: t.createdAt,
    completed_at: t.completedAt ?? null,
    reference: t.reference ?? null,
    destination_cell_id: t.destinationCellId ?? null,
    source_cell_id: t.sourceCellId ?? null,
  };
}

export function idempotencyFromRow(r: Row): IdempotencyRecord {
  const record: IdempotencyRecord = {
    scopeKey: str(r.scope_key),
    fingerprint: str(r.fingerprint),
    status: num(r.status),
    contentType: str(r.content_type),
    body: str(r.body),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
  };
  const location = optStr(r.location);
  const walletId = optStr(r.wallet_id);
  if (location !== undefined) record.location = location;
  if (walletId !== undefined) record.walletId = walletId;
  if (r.provisional === 1 || r.provisional === 1n) record.provisional = true;
  return record;
}

export function idempotencyParams(r: IdempotencyRecord) {
  return {
    scope_key: r.scopeKey,
    fingerprint: r.fingerprint,
    status: r.status,
    content_type: r.contentType,
    location: r.location ?? null,
    body: r.body,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    wallet_id: r.walletId ?? null,
    provisional: r.provisional ? 1 : 0,
  };
}

export function headFromRow(r: Row): WalletHead {
  return {
    walletId: str(r.wallet_id),
    currency: str(r.currency),
    balance: big(r.balance),
    version: num(r.version),
    headHash: str(r.head_hash),
  };
}
