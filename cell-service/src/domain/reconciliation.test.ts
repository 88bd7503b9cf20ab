import { describe, expect, it } from "vitest";
import { type LedgerEntry, type Posting, post } from "./ledger-entry.js";
import { CellReconciler } from "./reconciliation.js";
import type { Transfer } from "./transfer.js";
import { openWallet, type Wallet } from "./wallet.js";

const context = { principal: "operator" };

/** A wallet after the postings, and its entries. */
function walletWith(
  walletId: string,
  currency: string,
  postings: Array<[Posting["type"], bigint]>,
): { wallet: Wallet; entries: LedgerEntry[] } {
  let wallet = openWallet(walletId, `user-${walletId}`, currency, 0);
  const entries: LedgerEntry[] = [];
  for (const [type, amount] of postings) {
    const result = post(wallet, { transactionId: `${walletId}-${entries.length}`, type, amount, context }, 1_000);
    if (!result.ok) throw new Error("refused");
    wallet = result.value.wallet;
    entries.push(result.value.entry);
  }
  return { wallet, entries };
}

const transfer = (id: string, amount: bigint, status: Transfer["status"], extra: Partial<Transfer> = {}): Transfer => ({
  transferId: id,
  fromWalletId: "a",
  toWalletId: "b",
  amount,
  currency: "USD",
  status,
  createdAt: 1_000,
  ...extra,
});

function reconcile(
  wallets: Array<{ wallet: Wallet; entries: LedgerEntry[] }>,
  transfers: Array<Transfer | [Transfer, { from: boolean; to: boolean }]>,
  reconciler = new CellReconciler(),
): CellReconciler {
  for (const { wallet, entries } of wallets) {
    reconciler.addWallet(wallet);
    for (const entry of entries) reconciler.addEntry(entry);
  }
  for (const t of transfers) {
    if (Array.isArray(t)) reconciler.addTransfer(t[0], t[1]);
    else reconciler.addTransfer(t);
  }
  return reconciler;
}

describe("CellReconciler: a cell whose books balance", () => {
  it("balances deposits, withdrawals and a transfer within the cell", () => {
    const a = walletWith("a", "USD", [
      ["DEPOSIT", 1_000n],
      ["WITHDRAWAL", 100n],
      ["TRANSFER_OUT", 400n],
    ]);
    const b = walletWith("b", "USD", [["TRANSFER_IN", 400n]]);
    const { currencies, mismatches } = reconcile([a, b], [transfer("t1", 400n, "COMPLETED")]).result();
    expect(mismatches).toEqual([]);
    expect(currencies.USD).toMatchObject({
      balances: 900n,
      deposits: 1_000n,
      withdrawals: 100n,
      transfersOut: 400n,
      transfersIn: 400n,
      internalTransfers: 400n,
      crossIn: 0n,
    });
  });

  it("balances transfers to other cells, pending, completed and failed (refunded), and lists the pending one", () => {
    const a = walletWith("a", "USD", [
      ["DEPOSIT", 1_000n],
      ["TRANSFER_OUT", 300n],
      ["TRANSFER_OUT", 200n],
      ["TRANSFER_OUT", 100n],
      ["TRANSFER_REFUND", 100n],
    ]);
    const out = { destinationCellId: "cell-b" };
    const reconciler = reconcile(
      [a],
      [transfer("p", 300n, "PENDING", out), transfer("c", 200n, "COMPLETED", out), transfer("f", 100n, "FAILED", out)],
    );
    const { currencies, mismatches } = reconciler.result();
    expect(mismatches).toEqual([]);
    expect(currencies.USD).toMatchObject({
      balances: 500n,
      crossOutPending: 300n,
      crossOutCompleted: 200n,
      crossOutFailed: 100n,
      refunds: 100n,
    });
    expect(reconciler.pending).toEqual([
      { transferId: "p", destinationCellId: "cell-b", currency: "USD", amount: 300n },
    ]);
    expect(reconciler.pendingCount).toBe(1);
  });

  it("balances a credit from another cell against its credit record", () => {
    const b = walletWith("b", "USD", [["TRANSFER_IN", 250n]]);
    const { currencies, mismatches } = reconcile(
      [b],
      [transfer("x", 250n, "COMPLETED", { sourceCellId: "cell-a" })],
    ).result();
    expect(mismatches).toEqual([]);
    expect(currencies.USD).toMatchObject({ crossIn: 250n, transfersIn: 250n, internalTransfers: 0n });
  });

  it("keeps each currency's books apart, currencies in order", () => {
    const usd = walletWith("u", "USD", [["DEPOSIT", 5n]]);
    const eur = walletWith("e", "EUR", [["DEPOSIT", 7n]]);
    const { currencies, mismatches } = reconcile([usd, eur], []).result();
    expect(Object.keys(currencies)).toEqual(["EUR", "USD"]);
    expect([currencies.EUR?.balances, currencies.USD?.balances]).toEqual([7n, 5n]);
    expect(mismatches).toEqual([]);
  });
});

describe("CellReconciler: books that do not balance", () => {
  it("finds a balance that is not the sum of the entries (ledger)", () => {
    const a = walletWith("a", "USD", [["DEPOSIT", 1_000n]]);
    const { mismatches } = reconcile([{ ...a, wallet: { ...a.wallet, balance: 1_001n } }], []).result();
    expect(mismatches).toEqual([{ currency: "USD", check: "ledger", expected: 1_000n, actual: 1_001n }]);
  });

  it("finds a debit with no transfer record (outgoing)", () => {
    const a = walletWith("a", "USD", [
      ["DEPOSIT", 1_000n],
      ["TRANSFER_OUT", 40n],
    ]);
    const { mismatches } = reconcile([a], []).result();
    expect(mismatches).toEqual([{ currency: "USD", check: "outgoing", expected: 0n, actual: 40n }]);
  });

  it("finds a credit with no transfer record (incoming) and a refund of a transfer that did not fail (refunds)", () => {
    const b = walletWith("b", "USD", [
      ["TRANSFER_IN", 30n],
      ["TRANSFER_REFUND", 20n],
    ]);
    const { mismatches } = reconcile([b], []).result();
    expect(mismatches).toEqual([
      { currency: "USD", check: "incoming", expected: 0n, actual: 30n },
      { currency: "USD", check: "refunds", expected: 0n, actual: 20n },
    ]);
  });
});

describe("CellReconciler: wallets that moved to another cell", () => {
  const sameCell = transfer("t1", 400n, "COMPLETED");

  it("counts a same-cell transfer whose receiver moved away as sent out of this cell", () => {
    const a = walletWith("a", "USD", [
      ["DEPOSIT", 1_000n],
      ["TRANSFER_OUT", 400n],
    ]);
    const { currencies, mismatches } = reconcile([a], [[sameCell, { from: true, to: false }]]).result();
    expect(mismatches).toEqual([]);
    expect(currencies.USD).toMatchObject({ crossOutCompleted: 400n, internalTransfers: 0n });
  });

  it("counts it as received in the cell the receiver moved to, with its copy of the record", () => {
    const b = walletWith("b", "USD", [["TRANSFER_IN", 400n]]);
    const { currencies, mismatches } = reconcile([b], [[sameCell, { from: false, to: true }]]).result();
    expect(mismatches).toEqual([]);
    expect(currencies.USD).toMatchObject({ crossIn: 400n, internalTransfers: 0n });
  });

  it("counts nothing for a record neither of whose wallets this cell owns", () => {
    const { currencies } = reconcile([], [[sameCell, { from: false, to: false }]]).result();
    expect(currencies.USD).toMatchObject({ internalTransfers: 0n, crossIn: 0n, crossOutCompleted: 0n });
  });
});

describe("CellReconciler: the list of pending transfers", () => {
  it("lists at most the configured number but counts them all", () => {
    const a = walletWith("a", "USD", [
      ["DEPOSIT", 10n],
      ["TRANSFER_OUT", 1n],
      ["TRANSFER_OUT", 2n],
      ["TRANSFER_OUT", 3n],
    ]);
    const out = { destinationCellId: "cell-b" };
    const reconciler = reconcile(
      [a],
      [transfer("p1", 1n, "PENDING", out), transfer("p2", 2n, "PENDING", out), transfer("p3", 3n, "PENDING", out)],
      new CellReconciler(2),
    );
    expect(reconciler.pending.map((p) => p.transferId)).toEqual(["p1", "p2"]);
    expect(reconciler.pendingCount).toBe(3);
    expect(reconciler.result().currencies.USD?.crossOutPending).toBe(6n);
    expect(reconciler.result().mismatches).toEqual([]);
  });
});
