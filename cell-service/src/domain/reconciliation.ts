import type { LedgerEntry } from "./ledger-entry.js";
import type { Transfer } from "./transfer.js";
import type { Wallet } from "./wallet.js";

/**
 * Reconciliation of one cell, as pure arithmetic over what the store holds.
 * Per currency, in minor units:
 *
 *   ledger:    Σ balances            = deposits − withdrawals − transfers out + transfers in + refunds
 *   outgoing:  Σ TRANSFER_OUT        = within-cell transfers + cross-cell out (PENDING + COMPLETED + FAILED)
 *   incoming:  Σ TRANSFER_IN         = within-cell transfers + cross-cell in (credited here)
 *   refunds:   Σ TRANSFER_REFUND     = cross-cell out FAILED
 *
 * Cross-cell transfers still PENDING here are listed so the platform-wide
 * reconciliation can tell money in transit from money already credited.
 */
export interface CurrencyTotals {
  balances: bigint;
  deposits: bigint;
  withdrawals: bigint;
  transfersOut: bigint;
  transfersIn: bigint;
  refunds: bigint;
  internalTransfers: bigint;
  crossOutPending: bigint;
  crossOutCompleted: bigint;
  crossOutFailed: bigint;
  crossIn: bigint;
}

export interface Mismatch {
  currency: string;
  check: "ledger" | "outgoing" | "incoming" | "refunds";
  expected: bigint;
  actual: bigint;
}

export interface PendingOutgoing {
  transferId: string;
  destinationCellId: string;
  currency: string;
  amount: bigint;
}

const zero = (): CurrencyTotals => ({
  balances: 0n,
  deposits: 0n,
  withdrawals: 0n,
  transfersOut: 0n,
  transfersIn: 0n,
  refunds: 0n,
  internalTransfers: 0n,
  crossOutPending: 0n,
  crossOutCompleted: 0n,
  crossOutFailed: 0n,
  crossIn: 0n,
});

export class CellReconciler {
  private readonly totals = new Map<string, CurrencyTotals>();
  readonly pending: PendingOutgoing[] = [];
  pendingCount = 0;

  constructor(private readonly maxPendingListed = 10_000) {}

  private of(currency: string): CurrencyTotals {
    let t = this.totals.get(currency);
    if (!t) {
      t = zero();
      this.totals.set(currency, t);
    }
    return t;
  }

  addWallet(wallet: Wallet): void {
    this.of(wallet.currency).balances += wallet.balance;
  }

  addEntry(entry: LedgerEntry): void {
    const t = this.of(entry.currency);
    if (entry.type === "DEPOSIT") t.deposits += entry.amount;
    else if (entry.type === "WITHDRAWAL") t.withdrawals += entry.amount;
    else if (entry.type === "TRANSFER_OUT") t.transfersOut += entry.amount;
    else if (entry.type === "TRANSFER_IN") t.transfersIn += entry.amount;
    else t.refunds += entry.amount;
  }

  /**
   * Counts a transfer record on the sides whose wallet this cell owns (`owned`): a wallet that moved
   * away is counted in its new cell, with its copy of the record. Without `owned`, the record's own
   * roles say it (an outgoing record: the sender is here; a credit record: the receiver is here).
   */
  addTransfer(transfer: Transfer, owned: { from: boolean; to: boolean } = rolesOf(transfer)): void {
    const t = this.of(transfer.currency);
    // A credit record stands for the receiving side only, an outgoing record for the sending side only; the
    // two are merged into one record when both wallets end up in one cell (both cell ids set then).
    const roles = rolesOf(transfer);
    if (owned.from && roles.from) this.addSent(t, transfer, owned.to);
    if (owned.to && roles.to) {
      // Credited here (or copied in with the receiver), or a same-cell transfer whose sender moved away.
      if (transfer.sourceCellId !== undefined) t.crossIn += transfer.amount;
      else if (transfer.destinationCellId === undefined && !owned.from && transfer.status === "COMPLETED") {
        t.crossIn += transfer.amount;
      }
    }
  }

  private addSent(t: CurrencyTotals, transfer: Transfer, receiverHere: boolean): void {
    if (transfer.destinationCellId !== undefined) {
      if (transfer.status === "PENDING") {
        t.crossOutPending += transfer.amount;
        this.pendingCount += 1;
        if (this.pending.length < this.maxPendingListed) {
          this.pending.push({
            transferId: transfer.transferId,
            destinationCellId: transfer.destinationCellId,
            currency: transfer.currency,
            amount: transfer.amount,
          });
        }
      } else if (transfer.status === "COMPLETED") t.crossOutCompleted += transfer.amount;
      else t.crossOutFailed += transfer.amount;
    } else if (transfer.status === "COMPLETED") {
      // A same-cell transfer: internal while both wallets are here, else sent to the cell the receiver moved to.
      if (receiverHere) t.internalTransfers += transfer.amount;
      else t.crossOutCompleted += transfer.amount;
    }
  }

  result(): { currencies: Record<string, CurrencyTotals>; mismatches: Mismatch[] } {
    const currencies: Record<string, CurrencyTotals> = {};
    const mismatches: Mismatch[] = [];
    for (const currency of [...this.totals.keys()].sort()) {
      const t = this.totals.get(currency) as CurrencyTotals;
      currencies[currency] = t;
      const check = (name: Mismatch["check"], expected: bigint, actual: bigint) => {
        if (expected !== actual) mismatches.push({ currency, check: name, expected, actual });
      };
      check("ledger", t.deposits - t.withdrawals - t.transfersOut + t.transfersIn + t.refunds, t.balances);
      check(
        "outgoing",
        t.internalTransfers + t.crossOutPending + t.crossOutCompleted + t.crossOutFailed,
        t.transfersOut,
      );
      check("incoming", t.internalTransfers + t.crossIn, t.transfersIn);
      check("refunds", t.crossOutFailed, t.refunds);
    }
    return { currencies, mismatches };
  }
}

/** Which sides of a transfer a record stands for when ownership is not known (no migration involved). */
function rolesOf(transfer: Transfer): { from: boolean; to: boolean } {
  if (transfer.destinationCellId !== undefined && transfer.sourceCellId === undefined) return { from: true, to: false };
  if (transfer.sourceCellId !== undefined && transfer.destinationCellId === undefined) return { from: false, to: true };
  return { from: true, to: true };
}
