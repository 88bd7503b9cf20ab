import { formatMinor, formatTimestamp } from "@cellwallet/contract";
import type { Transfer } from "../domain/transfer.js";
import type { Wallet } from "../domain/wallet.js";

export const API_BASE = "/api/v1";

export function walletView(w: Wallet) {
  return {
    walletId: w.walletId,
    userId: w.userId,
    currency: w.currency,
    balance: formatMinor(w.balance, w.currency),
    version: w.version,
    createdAt: formatTimestamp(w.createdAt),
    updatedAt: formatTimestamp(w.updatedAt),
  };
}

export function transferView(t: Transfer) {
  return {
    transferId: t.transferId,
    fromWalletId: t.fromWalletId,
    toWalletId: t.toWalletId,
    amount: formatMinor(t.amount, t.currency),
    currency: t.currency,
    status: t.status,
    createdAt: formatTimestamp(t.createdAt),
    ...(t.completedAt !== undefined ? { completedAt: formatTimestamp(t.completedAt) } : {}),
    ...(t.reference !== undefined ? { reference: t.reference } : {}),
  };
}

export const walletLocation = (walletId: string) => `${API_BASE}/wallets/${encodeURIComponent(walletId)}`;
export const transferLocation = (transferId: string) => `${API_BASE}/transfers/${encodeURIComponent(transferId)}`;
export const transactionLocation = (walletId: string, transactionId: string) =>
  `${walletLocation(walletId)}/transactions/${encodeURIComponent(transactionId)}`;
