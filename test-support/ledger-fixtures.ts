import { ulid } from "ulid";
import type { LedgerStore } from "../cell-service/src/application/ledger-store.js";
import { type LedgerEntry, post } from "../cell-service/src/domain/ledger-entry.js";
import type { Transfer } from "../cell-service/src/domain/transfer.js";
import { openWallet, type Wallet } from "../cell-service/src/domain/wallet.js";

/**
 * Writes ledger data through the store port exactly as the use cases do
 * (domain post() + store.commit), without the HTTP stack: fast fixtures for
 * verification tests and benchmarks.
 */
const context = { principal: "fixture", scopes: ["wallet:operator"], requestId: "fixture" };

export async function createWallet(store: LedgerStore, userId = `u-${ulid()}`): Promise<Wallet> {
  const wallet = openWallet(ulid(), userId, "USD", Date.now());
  const outcome = await store.commit({
    walletIds: [],
    decide: () => ({ changes: { newWallet: wallet }, result: null }),
  });
  if (!outcome.ok) throw new Error(`wallet not created: ${outcome.reason}`);
  return wallet;
}

/** Appends one entry (deposit, or withdrawal when amount < 0) and returns it. */
export async function postEntry(store: LedgerStore, walletId: string, amount: bigint): Promise<LedgerEntry> {
  const outcome = await store.commit({
    walletIds: [walletId],
    decide: ({ wallets, now }) => {
      const current = wallets.get(walletId);
      if (!current) throw new Error(`no wallet ${walletId}`);
      const posted = post(
        current,
        {
          transactionId: ulid(),
          type: amount < 0n ? "WITHDRAWAL" : "DEPOSIT",
          amount: amount < 0n ? -amount : amount,
          context,
        },
        now,
      );
      if (!posted.ok) throw new Error(`refused: ${posted.problem.code}`);
      const debit = amount < 0n ? { debit: -amount } : {};
      return {
        changes: {
          walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: current.version, ...debit }],
          entries: [posted.value.entry],
        },
        result: posted.value.entry,
      };
    },
  });
  if (!outcome.ok) throw new Error(`not committed: ${outcome.reason}`);
  return outcome.result;
}

/** A new wallet with one entry per amount, in order. */
export async function seedWallet(store: LedgerStore, amounts: bigint[]): Promise<Wallet> {
  const wallet = await createWallet(store);
  for (const amount of amounts) await postEntry(store, wallet.walletId, amount);
  const stored = await store.getWallet(wallet.walletId);
  if (!stored) throw new Error("wallet vanished");
  return stored;
}

type EntryKind = "TRANSFER_OUT" | "TRANSFER_IN" | "TRANSFER_REFUND";

/** Posts one transfer entry and writes/updates the transfer record in the same commit. */
async function transferStep(
  store: LedgerStore,
  walletId: string,
  type: EntryKind,
  transfer: Transfer,
  expectedStatus?: Transfer["status"],
): Promise<void> {
  const outcome = await store.commit({
    walletIds: [walletId],
    transferIds: [transfer.transferId],
    decide: ({ wallets, now }) => {
      const current = wallets.get(walletId);
      if (!current) throw new Error(`no wallet ${walletId}`);
      const posted = post(
        current,
        { transactionId: ulid(), type, amount: transfer.amount, transferId: transfer.transferId, context },
        now,
      );
      if (!posted.ok) throw new Error(`refused: ${posted.problem.code}`);
      const debit = type === "TRANSFER_OUT" ? { debit: transfer.amount } : {};
      return {
        changes: {
          walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: current.version, ...debit }],
          entries: [posted.value.entry],
          transfers: [expectedStatus === undefined ? { transfer } : { transfer, expectedStatus }],
        },
        result: null,
      };
    },
  });
  if (!outcome.ok) throw new Error(`not committed: ${outcome.reason}`);
}

/**
 * The source cell's side of a cross-cell transfer: debit + PENDING record; then
 * optionally settled COMPLETED (record only) or FAILED (refund entry + record).
 */
export async function crossCellOut(
  store: LedgerStore,
  from: Wallet,
  to: { walletId: string; cellId: string },
  amount: bigint,
  settle?: "COMPLETED" | "FAILED",
): Promise<Transfer> {
  const transfer: Transfer = {
    transferId: `${ulid()}-${to.cellId}`,
    fromWalletId: from.walletId,
    toWalletId: to.walletId,
    fromUserId: from.userId,
    amount,
    currency: from.currency,
    status: "PENDING",
    createdAt: Date.now(),
    destinationCellId: to.cellId,
  };
  await transferStep(store, from.walletId, "TRANSFER_OUT", transfer);
  if (settle === "COMPLETED") {
    const done: Transfer = { ...transfer, status: "COMPLETED", completedAt: Date.now() };
    const outcome = await store.commit({
      walletIds: [],
      transferIds: [transfer.transferId],
      decide: () => ({ changes: { transfers: [{ transfer: done, expectedStatus: "PENDING" }] }, result: null }),
    });
    if (!outcome.ok) throw new Error("not settled");
    return done;
  }
  if (settle === "FAILED") {
    const failed: Transfer = { ...transfer, status: "FAILED", completedAt: Date.now() };
    await transferStep(store, from.walletId, "TRANSFER_REFUND", failed, "PENDING");
    return failed;
  }
  return transfer;
}

/** The destination cell's side: credit + COMPLETED record naming the source cell. */
export async function crossCellIn(store: LedgerStore, transfer: Transfer, sourceCellId: string): Promise<void> {
  const receiver = await store.getWallet(transfer.toWalletId);
  if (!receiver) throw new Error(`no wallet ${transfer.toWalletId}`);
  const incoming: Transfer = {
    toUserId: receiver.userId,
    transferId: transfer.transferId,
    fromWalletId: transfer.fromWalletId,
    toWalletId: transfer.toWalletId,
    amount: transfer.amount,
    currency: transfer.currency,
    status: "COMPLETED",
    createdAt: Date.now(),
    completedAt: Date.now(),
    sourceCellId,
  };
  await transferStep(store, transfer.toWalletId, "TRANSFER_IN", incoming);
}
