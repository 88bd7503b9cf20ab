import type { MigrationWalletStatus } from "@cellwallet/contract";
import { isDebit, type LedgerEntry } from "../../domain/ledger-entry.js";
import { fail, ok, type Result } from "../../domain/result.js";
import { ticketFor } from "../idempotency.js";
import type { CellDeps } from "../operation-context.js";
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
}

export interface ExportPage {
  status: MigrationWalletStatus;
  items: MigrationItem[];
  nextCursor?: string;
  tailCursor: string;
}

export const DEFAULT_EXPORT_LIMIT = 200;
export const MAX_EXPORT_LIMIT = 1000;

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
    return { s: value.s as number, t: value.t as string[], k: value.k as string[] };
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
  const position = cursorText === undefined ? { s: 0, t: [], k: [] } : decodeCursor(cursorText);
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
  const exportedTransfers = new Set<string>();
  const exportedKeys = new Set<string>();
  const addTransfer = async (transferId: string) => {
    if (exportedTransfers.has(transferId)) return;
    exportedTransfers.add(transferId);
    const transfer = await store.getTransfer(transferId);
    if (!transfer) return;
    items.push({ kind: "transfer", transfer });
    if (transfer.status === "PENDING") open.transfers.add(transferId);
    else open.transfers.delete(transferId);
  };
  const addRecord = async (scopeKey: string) => {
    if (exportedKeys.has(scopeKey)) return;
    exportedKeys.add(scopeKey);
    const record = await store.getIdempotency(scopeKey);
    // Older records carry no walletId; a record of another wallet under the same key is not this wallet's.
    if (!record || (record.walletId !== undefined && record.walletId !== wallet.walletId)) return;
    items.push({ kind: "idempotency", record });
    if (record.status === 202) open.keys.add(scopeKey);
    else open.keys.delete(scopeKey);
  };
  for (const entry of entries) {
    items.push({ kind: "entry", entry });
    if (entry.transferId !== undefined) await addTransfer(entry.transferId);
    const scopeKey = scopeKeyOf(entry);
    if (scopeKey !== undefined) await addRecord(scopeKey);
  }
  const last = entries.at(-1)?.sequence ?? position.s;
  const more = entries.length === limit;
  if (!more) {
    for (const transferId of [...open.transfers]) await addTransfer(transferId);
    for (const scopeKey of [...open.keys]) await addRecord(scopeKey);
    for await (const record of store.streamIdempotencyOfWallet(wallet.walletId)) await addRecord(record.scopeKey);
  }
  const next: ExportPosition = { s: last, t: [...open.transfers], k: [...open.keys] };
  return ok({
    status: await currentStatus(store, userId),
    items,
    ...(more ? { nextCursor: encodeCursor(next) } : {}),
    tailCursor: encodeCursor(next),
  });
}
