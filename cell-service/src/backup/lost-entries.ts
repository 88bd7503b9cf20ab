import { SqliteLedgerStore } from "../adapters/sqlite/sqlite-ledger-store.js";
import type { LostEntry } from "./loss-report.js";

/**
 * The entries of each wallet after `afterVersion` up to `upToVersion`, read from a ledger file that still holds
 * them (the one a restore replaced): the loss report's detail, so that a lost cross-cell transfer can be followed
 * by its transfer id to the other cell's side.
 */
export async function readLostEntries(
  ledgerPath: string,
  wallets: readonly { walletId: string; afterVersion: number; upToVersion: number }[],
): Promise<Map<string, LostEntry[]>> {
  const store = new SqliteLedgerStore({ path: ledgerPath });
  const lost = new Map<string, LostEntry[]>();
  try {
    for (const w of wallets) {
      const entries: LostEntry[] = [];
      for await (const e of store.streamEntries(w.walletId, w.afterVersion)) {
        if (e.sequence > w.upToVersion) break;
        entries.push({
          sequence: e.sequence,
          type: e.type,
          amount: String(e.amount),
          createdAt: new Date(e.createdAt).toISOString(),
          ...(e.transferId === undefined ? {} : { transferId: e.transferId }),
          ...(e.counterpartyWalletId === undefined ? {} : { counterpartyWalletId: e.counterpartyWalletId }),
        });
      }
      lost.set(w.walletId, entries);
    }
  } finally {
    await store.close();
  }
  return lost;
}
