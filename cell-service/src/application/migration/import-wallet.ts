import { type ImportRequest, type MigrationWalletStatus, problem } from "@cellwallet/contract";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import { extendChain, reconcileTransfer, sameEntry } from "../../domain/migration.js";
import { fail, ok, type Result } from "../../domain/result.js";
import { openWallet, type Wallet } from "../../domain/wallet.js";
import type { IdempotencyRecord } from "../ledger-store.js";
import type { CellDeps } from "../operation-context.js";
import { mapLimit } from "./map-limit.js";
import type { MigrationItem } from "./migration-items.js";
import { currentStatus, locate } from "./wallet-status.js";

export interface ImportOutcome {
  status: MigrationWalletStatus;
  stored: number;
  unchanged: number;
  skippedIdempotency: number;
}

/** Entries per atomic append (DynamoDB transactions hold at most 100 items: these plus the wallet row). */
const ENTRY_BATCH = 50;
const PARALLEL_WRITES = 16;

const conflict = <T>(detail: string): Result<T> => fail(problem("migration-conflict", detail));

/**
 * Target: stores exported items into an `importing` copy at the new epoch.
 * Entries must continue the copy's chain exactly (an entry already stored must
 * be the same entry); transfer and idempotency records are stored or brought up
 * to date. Importing the same page again changes nothing; an item that
 * contradicts a stored one is a 409 and nothing of that item is written.
 */
export async function importWallet(
  deps: CellDeps,
  userId: string,
  request: Omit<ImportRequest, "items"> & { items: MigrationItem[] },
): Promise<Result<ImportOutcome>> {
  const counts = { stored: 0, unchanged: 0, skippedIdempotency: 0 };
  const walletItem = request.items.find((i) => i.kind === "wallet");
  const others = request.items.filter((i) => i.kind !== "wallet");
  if (walletItem && walletItem.userId !== userId) {
    return fail(problem("validation-error", `the wallet item belongs to user ${walletItem.userId}, not ${userId}`));
  }

  const copy = await ensureCopy(deps, userId, request, walletItem, counts);
  if (!copy.ok) return copy;
  const wallet = copy.value;
  if (!wallet) {
    if (others.length > 0) return conflict(`user ${userId} has no importing copy here: import the wallet item first`);
    return ok({ status: await currentStatus(deps.store, userId), ...counts });
  }

  const entries = others.flatMap((i) => (i.kind === "entry" ? [i.entry] : [])).sort((a, b) => a.sequence - b.sequence);
  const appended = await appendEntries(deps, wallet, request.migrationId, entries, counts);
  if (!appended.ok) return appended;

  const transfers = others.flatMap((i) => (i.kind === "transfer" ? [i.transfer] : []));
  const stranger = transfers.find((t) => t.fromWalletId !== wallet.walletId && t.toWalletId !== wallet.walletId);
  if (stranger) return fail(problem("validation-error", `transfer ${stranger.transferId} does not involve the wallet`));
  // Records are independent of each other: their round trips run side by side.
  const outcomes = await mapLimit(transfers, PARALLEL_WRITES, (t) => importTransfer(deps, t, counts));
  const refused = outcomes.find((o) => !o.ok);
  if (refused) return refused;
  const records = others.flatMap((i) => (i.kind === "idempotency" ? [i.record] : []));
  await mapLimit(records, PARALLEL_WRITES, (r) => importRecord(deps, { ...r, walletId: wallet.walletId }, counts));
  return ok({ status: await currentStatus(deps.store, userId), ...counts });
}

/** The importing copy this request writes into, created or taken over (abandoned/moved) as needed. */
async function ensureCopy(
  deps: CellDeps,
  userId: string,
  request: Omit<ImportRequest, "items">,
  walletItem: Extract<MigrationItem, { kind: "wallet" }> | undefined,
  counts: { stored: number; unchanged: number },
): Promise<Result<Wallet | undefined>> {
  const importing = {
    state: "importing" as const,
    epoch: request.epoch,
    migrationId: request.migrationId,
    peerCellId: request.sourceCellId,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const { wallet } = await locate(deps.store, userId);
    if (!wallet) {
      if (!walletItem) return ok(undefined);
      const fresh = openWallet(walletItem.walletId, userId, walletItem.currency, walletItem.createdAt);
      const created = await deps.store.createImportedWallet({ ...fresh, ownership: importing });
      if (created === "created") counts.stored += 1;
      continue; // read it back (or whoever created it first)
    }
    if (walletItem && (wallet.walletId !== walletItem.walletId || wallet.currency !== walletItem.currency)) {
      return conflict(`user ${userId} already has wallet ${wallet.walletId} (${wallet.currency}) here`);
    }
    const o = wallet.ownership;
    if (o.state === "importing" && o.migrationId === request.migrationId) {
      if (walletItem && counts.stored === 0) counts.unchanged += 1;
      return ok(wallet);
    }
    if (o.state === "abandoned" || o.state === "moved") {
      // An earlier copy of this wallet (a rolled-back import, or a move away): the chain continues from it.
      await deps.store.setWalletOwnership(wallet.walletId, { state: o.state }, importing);
      continue;
    }
    return conflict(
      `cannot import for migration ${request.migrationId}: wallet ${wallet.walletId} is ${o.state} here` +
        (o.migrationId ? ` (migration ${o.migrationId})` : ""),
    );
  }
  return conflict(`the copy of user ${userId} kept changing during the import; retry`);
}

async function appendEntries(
  deps: CellDeps,
  start: Wallet,
  migrationId: string,
  entries: LedgerEntry[],
  counts: { stored: number; unchanged: number },
): Promise<Result<void>> {
  let base = start;
  let head = start;
  let batch: LedgerEntry[] = [];
  const flush = async (): Promise<Result<void>> => {
    if (batch.length === 0) return ok(undefined);
    const done = await deps.store.appendImportedEntries({
      walletId: base.walletId,
      expectedVersion: base.version,
      migrationId,
      entries: batch,
      after: head,
    });
    if (!done) return conflict(`the copy of wallet ${base.walletId} changed during the import (another import?)`);
    counts.stored += batch.length;
    batch = [];
    base = head;
    return ok(undefined);
  };
  for (const entry of entries) {
    if (entry.sequence <= start.version) {
      const stored = await deps.store.getEntry(entry.walletId, entry.sequence);
      if (entry.walletId !== start.walletId || !stored || !sameEntry(stored, entry)) {
        return conflict(`entry ${entry.sequence} differs from the one already copied`);
      }
      counts.unchanged += 1;
      continue;
    }
    const extended = extendChain(head, entry);
    if (!extended.ok) return extended;
    head = extended.value;
    batch.push(entry);
    if (batch.length === ENTRY_BATCH) {
      const flushed = await flush();
      if (!flushed.ok) return flushed;
    }
  }
  return flush();
}

async function importTransfer(
  deps: CellDeps,
  copied: Extract<MigrationItem, { kind: "transfer" }>["transfer"],
  counts: { stored: number; unchanged: number },
): Promise<Result<void>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await deps.store.getTransfer(copied.transferId);
    if (!stored) {
      if (await deps.store.putImportedTransfer(copied, undefined)) {
        counts.stored += 1;
        return ok(undefined);
      }
      continue;
    }
    const verdict = reconcileTransfer(stored, copied);
    if (verdict.kind === "conflict") return conflict(verdict.detail);
    if (verdict.kind === "unchanged") {
      counts.unchanged += 1;
      return ok(undefined);
    }
    if (await deps.store.putImportedTransfer(verdict.transfer, stored)) {
      counts.stored += 1;
      return ok(undefined);
    }
  }
  return conflict(`transfer ${copied.transferId} kept changing during the import; retry`);
}

/**
 * A stored answer for the same key: replaced by the source's (it is newer: a 202
 * completed since); a different request's answer under the same key (the same
 * principal used the key in both cells) stays, and the copy is skipped: a retry
 * then answers 422 idempotency-key-reused, never a second application.
 */
async function importRecord(
  deps: CellDeps,
  copied: IdempotencyRecord,
  counts: { stored: number; unchanged: number; skippedIdempotency: number },
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await deps.store.getIdempotency(copied.scopeKey);
    if (stored && stored.fingerprint !== copied.fingerprint) {
      counts.skippedIdempotency += 1;
      return;
    }
    if (
      stored &&
      stored.status === copied.status &&
      stored.body === copied.body &&
      stored.walletId === copied.walletId
    ) {
      counts.unchanged += 1;
      return;
    }
    // Never turn a final answer back into a 202.
    if (stored && stored.status !== 202 && copied.status === 202) {
      counts.unchanged += 1;
      return;
    }
    if (await deps.store.putImportedIdempotency(copied, stored)) {
      counts.stored += 1;
      return;
    }
  }
  counts.skippedIdempotency += 1;
}
