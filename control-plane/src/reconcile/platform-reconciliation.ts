/**
 * Platform-wide reconciliation from the cells' own reports: pure arithmetic, no I/O.
 * Per currency, in minor units:
 *
 *   platform:   Σ balances = Σ deposits − Σ withdrawals − in transit
 *   cross-cell: Σ credited incoming = Σ completed outgoing + Σ pending outgoing already credited
 *
 * where "in transit" = outgoing cross-cell transfers still PENDING at the source
 * and not credited at the destination (debited, not yet anywhere else).
 */

/** What a cell answers on GET /api/v1/cell/reconciliation (amounts: minor-unit decimal strings). */
export interface CellReconciliation {
  cellId: string;
  valid: boolean;
  currencies: Record<string, Record<string, string>>;
  mismatches: { currency: string; check: string; expected: string; actual: string }[];
  pendingOutgoing: { transferId: string; destinationCellId: string; currency: string; amount: string }[];
  pendingCount: number;
}

export interface PlatformCurrency {
  balances: string;
  deposits: string;
  withdrawals: string;
  inTransit: string;
  creditedPending: string;
  crossOutCompleted: string;
  crossIn: string;
}

export interface PlatformReconciliation {
  valid: boolean;
  currencies: Record<string, PlatformCurrency>;
  mismatches: { scope: string; currency: string; check: string; expected: string; actual: string }[];
}

/**
 * @param credited for each pending outgoing transfer id: whether its destination cell has credited it.
 *   A pending transfer absent from the map (its destination could not be asked) counts as in transit.
 * @param complete false when some cell's report is missing or truncated (pendingCount > listed): the
 *   platform identities are then not checked, only the cells' own.
 */
export function reconcilePlatform(
  cells: CellReconciliation[],
  credited: ReadonlyMap<string, boolean>,
  complete: boolean,
): PlatformReconciliation {
  const sums = new Map<string, Record<keyof PlatformCurrency, bigint>>();
  const of = (currency: string) => {
    let s = sums.get(currency);
    if (!s) {
      s = {
        balances: 0n,
        deposits: 0n,
        withdrawals: 0n,
        inTransit: 0n,
        creditedPending: 0n,
        crossOutCompleted: 0n,
        crossIn: 0n,
      };
      sums.set(currency, s);
    }
    return s;
  };
  const mismatches: PlatformReconciliation["mismatches"] = [];
  for (const cell of cells) {
    for (const m of cell.mismatches) mismatches.push({ scope: cell.cellId, ...m });
    for (const [currency, t] of Object.entries(cell.currencies)) {
      const s = of(currency);
      s.balances += BigInt(t.balances ?? "0");
      s.deposits += BigInt(t.deposits ?? "0");
      s.withdrawals += BigInt(t.withdrawals ?? "0");
      s.crossOutCompleted += BigInt(t.crossOutCompleted ?? "0");
      s.crossIn += BigInt(t.crossIn ?? "0");
    }
    for (const p of cell.pendingOutgoing) {
      const s = of(p.currency);
      if (credited.get(p.transferId) === true) s.creditedPending += BigInt(p.amount);
      else s.inTransit += BigInt(p.amount);
    }
  }
  const currencies: Record<string, PlatformCurrency> = {};
  for (const currency of [...sums.keys()].sort()) {
    const s = sums.get(currency) as Record<keyof PlatformCurrency, bigint>;
    currencies[currency] = Object.fromEntries(
      Object.entries(s).map(([k, v]) => [k, String(v)]),
    ) as unknown as PlatformCurrency;
    if (!complete) continue;
    const expectBalances = s.deposits - s.withdrawals - s.inTransit;
    if (expectBalances !== s.balances) {
      mismatches.push({
        scope: "platform",
        currency,
        check: "platform",
        expected: String(expectBalances),
        actual: String(s.balances),
      });
    }
    const expectCrossIn = s.crossOutCompleted + s.creditedPending;
    if (expectCrossIn !== s.crossIn) {
      mismatches.push({
        scope: "platform",
        currency,
        check: "cross-cell",
        expected: String(expectCrossIn),
        actual: String(s.crossIn),
      });
    }
  }
  return { valid: mismatches.length === 0, currencies, mismatches };
}
