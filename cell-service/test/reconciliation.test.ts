/**
 * Issue 5: per-cell reconciliation on both adapters — balances against
 * deposits, withdrawals, within-cell and cross-cell transfers (pending,
 * completed, failed and refunded, incoming) — and a planted mismatch.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createWallet, crossCellIn, crossCellOut, postEntry, seedWallet } from "../../test-support/ledger-fixtures.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";
import { reconcileCell } from "../src/application/cell-reconciliation.js";
import type { LedgerStore } from "../src/application/ledger-store.js";
import { post } from "../src/domain/ledger-entry.js";

const motoEndpoint = inject("motoEndpoint");

describe.each(ADAPTERS)("cell reconciliation on %s", (adapter) => {
  let testStore: TestStore;
  let store: LedgerStore;

  beforeAll(async () => {
    testStore = await openTestStore(adapter, motoEndpoint);
    store = testStore.store;
  });
  afterAll(async () => {
    await store.close();
  });

  it("every identity holds for deposits, withdrawals and every kind of transfer; a planted balance is a mismatch", async () => {
    const alice = await seedWallet(store, [10_000n, -1_500n]);
    const bob = await seedWallet(store, [2_000n]);
    await internalTransfer(store, alice.walletId, bob.walletId, 700n);
    const other = { walletId: "REMOTEWALLET", cellId: "cell-other" };
    const pending = await crossCellOut(store, alice, other, 300n);
    await crossCellOut(store, alice, other, 200n, "COMPLETED");
    await crossCellOut(store, alice, other, 50n, "FAILED");
    const carol = await createWallet(store);
    await crossCellIn(
      store,
      { ...pending, transferId: "INCOMING1-this", toWalletId: carol.walletId, amount: 425n },
      "cell-other",
    );
    await postEntry(store, carol.walletId, -25n);

    const report = await reconcileCell(store, testStore.cellId);
    expect(report.mismatches).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.currencies.USD).toEqual({
      balances: String(10_000 - 1_500 + 2_000 - 300 - 200 + 425 - 25),
      deposits: "12000",
      withdrawals: "1525",
      transfersOut: String(700 + 300 + 200 + 50),
      transfersIn: String(700 + 425),
      refunds: "50",
      internalTransfers: "700",
      crossOutPending: "300",
      crossOutCompleted: "200",
      crossOutFailed: "50",
      crossIn: "425",
    });
    expect(report.pendingOutgoing).toEqual([
      { transferId: pending.transferId, destinationCellId: "cell-other", currency: "USD", amount: "300" },
    ]);

    const attacker = openTamperer(testStore, motoEndpoint);
    await attacker.changeWalletBalance(bob.walletId, 1_000n);
    await attacker.close();
    const planted = await reconcileCell(store, testStore.cellId);
    expect(planted.valid).toBe(false);
    expect(planted.mismatches).toEqual([
      { currency: "USD", check: "ledger", expected: report.currencies.USD?.balances, actual: String(10_400 + 1_000) },
    ]);
  });
});

async function internalTransfer(store: LedgerStore, fromId: string, toId: string, amount: bigint): Promise<void> {
  const transferId = `INTERNAL${Date.now()}`;
  const outcome = await store.commit({
    walletIds: [fromId, toId],
    decide: ({ wallets, now }) => {
      const from = wallets.get(fromId);
      const to = wallets.get(toId);
      if (!from || !to) throw new Error("wallets missing");
      const context = { principal: "t" };
      const out = post(
        from,
        { transactionId: `${transferId}o`, type: "TRANSFER_OUT", amount, transferId, context },
        now,
      );
      const inn = post(to, { transactionId: `${transferId}i`, type: "TRANSFER_IN", amount, transferId, context }, now);
      if (!out.ok || !inn.ok) throw new Error("refused");
      return {
        changes: {
          walletUpdates: [
            { wallet: out.value.wallet, expectedVersion: from.version, debit: amount },
            { wallet: inn.value.wallet, expectedVersion: to.version },
          ],
          entries: [out.value.entry, inn.value.entry],
          transfers: [
            {
              transfer: {
                transferId,
                fromWalletId: fromId,
                toWalletId: toId,
                amount,
                currency: "USD",
                status: "COMPLETED",
                createdAt: now,
                completedAt: now,
              },
            },
          ],
        },
        result: null,
      };
    },
  });
  if (!outcome.ok) throw new Error(outcome.reason);
}
