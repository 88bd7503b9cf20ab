import type { MigrationWalletStatus } from "@cellwallet/contract";
import { isDebit, type LedgerEntry } from "../../domain/ledger-entry.js";
import { fail, ok, type Result } from "../../domain/result.js";
import type { Transfer } from "../../domain/transfer.js";
import { finalRecord, ticketFor } from "../idempotency.js";
import type { IdempotencyRecord } from "../ledger-store.js";
import type { CellDeps } from "../operation-context.js";
import { mapLimit } from "./map-limit.js";
import type { MigrationItem } from "./migration-items.js";
import { currentStatus, locate } from "./wallet-status.js";

/**
 * Where an export stands: the last entry exported, and the records exported
 * while still open (a PENDING transfer, a 202 answer) whose current version a
 * later page must carry again, since settling them appends no entry of its own.
 */
interface ExportPosition {
  /** Last exported sequence (0: none yet; the wallet item comes first). */
  s: number;
  /** Open transfer ids. */
  t: string[];
  /** Open idempotency scope keys. */
  k: string[];
  /** Epoch ms: the wallet's idempotency records created before this (less a margin) were already exported. */
  r: number;
}

export interface ExportPage {
  status: MigrationWalletStatus;
  items: MigrationItem[];
  nextCursor?: string;
  tailCursor: string;
}

const PARALLEL_READS = 16;
/** How long a write may be in flight between its decision (createdAt) and its commit. */
const IN_FLIGHT_MARGIN_MS = 10_000;
/** Entries of the margin looked at to skip answers already carried (beyond it, they are simply sent again). */
const MAX_RECENT_ENTRIES = 5_000;

export function encodeCursor(position: ExportPosition): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/** A cursor this cell wrote, or undefined for anything else (answered 400). */
export function decodeCursor(text: string): ExportPosition | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<ExportPosition>;
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string" && x.length <= 256);
    if (!Number.isSafeInteger(value.s) || (value.s as number) < 0 || !strings(value.t) || !strings(value.k)) {
      return undefined;
    }
    const r = value.r ?? 0;
    if (!Number.isSafeInteger(r) || r < 0) return undefined;
    return { s: value.s as number, t: value.t as string[], k: value.k as string[], r };
  } catch {
    return undefined;
  }
}

/** The scope key of the idempotent request that produced an entry of the wallet's own operations. */
function scopeKeyOf(entry: LedgerEntry): string | undefined {
  // Deposits, withdrawals and transfers out were requested on this wallet; credits and refunds were not.
  if (!(isDebit(entry.type) || entry.type === "DEPOSIT")) return undefined;
  const { idempotencyKey: key, principal } = entry.context;
  if (key === undefined || principal === undefined) return undefined;
  return ticketFor(principal, key, { method: "", path: "", body: null }, 0).scopeKey;
}

/**
 * One page of a wallet's export, in any ownership state (the clone runs while the
 * user stays live; the tail is read after the freeze). Pages follow the chain:
 * the wallet item, then entries in sequence order with the transfer records and
 * idempotency answers they refer to; the last page adds the current records of
 * everything still open and every idempotency answer stored for the wallet
 * (refusals included). Importing a page twice changes nothing.
 */
export async function exportWallet(
  deps: CellDeps,
  userId: string,
  cursorText: string | undefined,
  limit: number,
): Promise<Result<ExportPage>> {
  const startedAt = Date.now();
  const position = cursorText === undefined ? { s: 0, t: [], k: [], r: 0 } : decodeCursor(cursorText);
  if (!position) return fail({ code: "validation-error", detail: "the export cursor is not one this cell wrote" });
  const { store } = deps;
  const { wallet } = await locate(store, userId);
  if (!wallet) {
    return ok({ status: await currentStatus(store, userId), items: [], tailCursor: encodeCursor(position) });
  }
  const items: MigrationItem[] = [];
  if (position.s === 0) {
    const { walletId, currency, createdAt } = wallet;
    items.push({ kind: "wallet", walletId, userId: wallet.userId, currency, createdAt });
  }
  const entries: LedgerEntry[] = [];
  for await (const entry of store.streamEntries(wallet.walletId, position.s)) {
    if (entries.length === limit) break;
    entries.push(entry);
  }
  const open = { transfers: new Set(position.t), keys: new Set(position.k) };
  const transfers = new Map<string, Transfer | undefined>();
  const records = new Map<string, IdempotencyRecord | undefined>();
  // The store round trips of a page run side by side; the items keep the chain's order.
  const fetchAll = async (transferIds: Iterable<string>, scopeKeys: Iterable<string>) => {
    const newTransfers = [...new Set(transferIds)].filter((id) => !transfers.has(id));
    const newKeys = [...new Set(scopeKeys)].filter((key) => !records.has(key));
    for (const id of newTransfers) transfers.set(id, undefined);
    for (const key of newKeys) records.set(key, undefined);
    await Promise.all([
      mapLimit(newTransfers, PARALLEL_READS, async (id) => transfers.set(id, await store.getTransfer(id))),
      // A copied answer is final: a provisional one (a cross-cell transfer still asking for its credit) is made
      // final as it stands first, so the request that wrote it cannot change it behind the copy.
      mapLimit(newKeys, PARALLEL_READS, async (key) => records.set(key, await finalRecord(store, key))),
    ]);
  };
  const emitted = new Set<string>();
  const emitTransfer = (id: string) => {
    const transfer = transfers.get(id);
    if (!transfer || emitted.has(`t:${id}`)) return;
    emitted.add(`t:${id}`);
    items.push({ kind: "transfer", transfer });
    if (transfer.status === "PENDING") open.transfers.add(id);
    else open.transfers.delete(id);
  };
  const emitRecord = (scopeKey: string) => {
    const record = records.get(scopeKey);
    // Older records carry no walletId; a record of another wallet under the same key is not this wallet's.
    if (!record || emitted.has(`k:${scopeKey}`)) return;
    if (record.walletId !== undefined && record.walletId !== wallet.walletId) return;
    emitted.add(`k:${scopeKey}`);
    items.push({ kind: "idempotency", record });
    if (record.status === 202) open.keys.add(scopeKey);
    else open.keys.delete(scopeKey);
  };
  const keyOf = new Map(entries.map((e) => [e.sequence, scopeKeyOf(e)] as const));
  await fetchAll(
    entries.flatMap((e) => (e.transferId !== undefined ? [e.transferId] : [])),
    [...keyOf.values()].filter((k): k is string => k !== undefined),
  );
  for (const entry of entries) {
    items.push({ kind: "entry", entry });
    if (entry.transferId !== undefined) emitTransfer(entry.transferId);
    const scopeKey = keyOf.get(entry.sequence);
    if (scopeKey !== undefined) emitRecord(scopeKey);
  }
  const last = entries.at(-1)?.sequence ?? position.s;
  const more = entries.length === limit;
  let recordsSince = position.r;
  if (!more) {
    // Answers without an entry of their own (refusals, a wallet creation) are found by walletId: those
    // created since the previous final page, less a margin for writes still in flight then.
    const since = position.r === 0 ? 0 : position.r - IN_FLIGHT_MARGIN_MS;
    const listed: string[] = [];
    for await (const key of store.listIdempotencyKeysOfWallet(wallet.walletId, since)) listed.push(key);
    // The answers of entries an earlier page carried travelled with them: skip those (a tail would otherwise
    // repeat every answer of the margin). An answer's entry is never older than the answer.
    const carried = new Set<string>();
    if (since > 0 && position.s > 0) {
      for (const entry of await store.listEntries(wallet.walletId, { fromMs: since, limit: MAX_RECENT_ENTRIES })) {
        const key = entry.sequence <= position.s ? scopeKeyOf(entry) : undefined;
        if (key !== undefined) carried.add(key);
      }
    }
    const byWallet = listed.filter((key) => !carried.has(key) && !records.has(key));
    await fetchAll([], byWallet);
    // Records and transfers still open when exported earlier: their current version.
    for (const key of open.keys) records.delete(key);
    for (const id of open.transfers) transfers.delete(id);
    await fetchAll([...open.transfers], [...open.keys]);
    for (const id of [...open.transfers]) emitTransfer(id);
    for (const key of [...open.keys, ...byWallet]) emitRecord(key);
    recordsSince = startedAt;
  }
  const next: ExportPosition = { s: last, t: [...open.transfers], k: [...open.keys], r: recordsSince };
  return ok({
    status: await currentStatus(store, userId),
    items,
    ...(more ? { nextCursor: encodeCursor(next) } : {}),
    tailCursor: encodeCursor(next),
  });
}
