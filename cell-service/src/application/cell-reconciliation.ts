import { isOwned } from "../domain/ownership.js";
import { CellReconciler } from "../domain/reconciliation.js";
import type { AuditStore } from "./ledger-store.js";

/** Money as decimal strings of minor units: JSON-safe and exact. */
type Minor = string;

export interface CellReconciliationReport {
  cellId: string;
  valid: boolean;
  currencies: Record<string, Record<string, Minor>>;
  mismatches: { currency: string; check: string; expected: Minor; actual: Minor }[];
  /** Outgoing cross-cell transfers still PENDING here (listed up to 10,000; pendingCount counts all). */
  pendingOutgoing: { transferId: string; destinationCellId: string; currency: string; amount: Minor }[];
  pendingCount: number;
  /** Wallet copies left out because another cell owns them (moved away, importing, abandoned imports). */
  migrationCopies: number;
  startedAt: string;
  durationMs: number;
}

/**
 * Reconciles one cell from its store: the rows of the wallets it owns, every
 * entry of those (up to each row's version, so writes landing during the pass
 * are left out consistently) and every transfer record involving them. Operations in flight between the transfer pass and
 * the wallet pass can show as a transient mismatch; a persistent one is a finding.
 */
export async function reconcileCell(store: AuditStore, cellId: string): Promise<CellReconciliationReport> {
  const started = Date.now();
  const reconciler = new CellReconciler();
  // Only the wallets this cell owns count: a moved, importing or abandoned copy is counted by its owner.
  const owned = new Set<string>();
  let copies = 0;
  for await (const wallet of store.streamWallets()) {
    if (!isOwned(wallet.ownership.state)) {
      copies += 1;
      continue;
    }
    owned.add(wallet.walletId);
    reconciler.addWallet(wallet);
    for await (const entry of store.streamEntries(wallet.walletId)) {
      if (entry.sequence > wallet.version) break;
      reconciler.addEntry(entry);
    }
  }
  for await (const transfer of store.streamTransfers()) {
    const sides = { from: owned.has(transfer.fromWalletId), to: owned.has(transfer.toWalletId) };
    if (sides.from || sides.to) reconciler.addTransfer(transfer, sides);
  }
  const { currencies, mismatches } = reconciler.result();
  const asStrings = (totals: object) =>
    Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, String(v)])) as Record<string, Minor>;
  return {
    cellId,
    valid: mismatches.length === 0,
    currencies: Object.fromEntries(Object.entries(currencies).map(([c, t]) => [c, asStrings(t)])),
    mismatches: mismatches.map((m) => ({ ...m, expected: String(m.expected), actual: String(m.actual) })),
    pendingOutgoing: reconciler.pending.map((p) => ({ ...p, amount: String(p.amount) })),
    pendingCount: reconciler.pendingCount,
    migrationCopies: copies,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}
