import { formatMinor, type MigrationWalletStatus } from "@cellwallet/contract";
import type { UserFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import type { MigrationStore, MoneyPathStore } from "../ledger-store.js";
import { mapLimit } from "./map-limit.js";

/** What this cell holds for a user: their wallet copy, or a user-level fence when they have none here. */
export interface Holding {
  userId: string;
  wallet?: Wallet;
  fence?: UserFence;
}

export async function locate(store: MoneyPathStore & MigrationStore, userId: string): Promise<Holding> {
  const walletId = await store.getWalletIdByUser(userId);
  const wallet = walletId ? await store.getWallet(walletId) : undefined;
  if (wallet) return { userId, wallet };
  const fence = await store.getUserFence(userId);
  return fence ? { userId, fence } : { userId };
}

/** How many recent entries are checked for pending transfers the (lagging) pending index may not show yet. */
const RECENT_ENTRIES = 50;

/**
 * The wallet's outgoing cross-cell transfers still PENDING: the store's pending
 * listing, plus the transfers of its most recent debits (the listing may lag on
 * DynamoDB), each confirmed by a consistent read.
 */
export async function pendingOutgoing(store: MoneyPathStore & MigrationStore, wallet: Wallet): Promise<Transfer[]> {
  const found = new Map<string, Transfer>();
  for (const t of await store.listPendingTransfersFrom(wallet.walletId, 1000)) found.set(t.transferId, t);
  const recent = await store.listEntries(wallet.walletId, { limit: RECENT_ENTRIES });
  const debits = recent.flatMap((e) =>
    e.type === "TRANSFER_OUT" && e.transferId !== undefined && !found.has(e.transferId) ? [e.transferId] : [],
  );
  for (const t of await mapLimit(debits, 16, (id) => store.getTransfer(id))) {
    if (t?.status === "PENDING" && t.destinationCellId !== undefined && t.fromWalletId === wallet.walletId) {
      found.set(t.transferId, t);
    }
  }
  return [...found.values()].sort((a, b) => a.createdAt - b.createdAt);
}

export function statusOf(holding: Holding, pendingTransfers?: number): MigrationWalletStatus {
  const { wallet, fence, userId } = holding;
  if (wallet) {
    const { state, epoch, peerCellId } = wallet.ownership;
    const status: MigrationWalletStatus = {
      userId,
      // An abandoned import is no copy at all for the control plane (its prefix is reused by a later import).
      state: state === "abandoned" ? "absent" : state,
      walletId: wallet.walletId,
      epoch,
      currency: wallet.currency,
      balance: formatMinor(wallet.balance, wallet.currency),
      version: wallet.version,
      headHash: wallet.headHash,
    };
    if (pendingTransfers !== undefined) status.pendingTransfers = pendingTransfers;
    if (state === "moved" && peerCellId !== undefined) status.movedTo = peerCellId;
    return status;
  }
  if (fence) {
    return {
      userId,
      state: fence.state,
      epoch: fence.epoch,
      ...(fence.state === "moved" ? { movedTo: fence.targetCellId } : {}),
    };
  }
  return { userId, state: "absent" };
}

/**
 * The status as the control plane reads it; `withPending` adds the pending outgoing transfers of a wallet this
 * cell owns (a few reads more: only the status, freeze and settle answers carry it).
 */
export async function currentStatus(
  store: MoneyPathStore & MigrationStore,
  userId: string,
  withPending = false,
): Promise<MigrationWalletStatus> {
  const holding = await locate(store, userId);
  const owned = withPending && holding.wallet && ["active", "frozen"].includes(holding.wallet.ownership.state);
  const pending = owned && holding.wallet ? (await pendingOutgoing(store, holding.wallet)).length : undefined;
  return statusOf(holding, pending);
}
