import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADAPTERS, openTestStore } from "../../../test-support/stores.js";
import type { AuditStore, LedgerStore, MoneyPathStore, StoreLifecycle } from "../../src/application/ledger-store.js";
import { transferWithinCell } from "../../src/domain/transfer.js";
import { openWallet, type Wallet } from "../../src/domain/wallet.js";
import { ctx, deposit, expectGapFreeChain, id, moneyPathHelpers, record } from "./contract-fixtures.js";

/**
 * The money path's contract (MoneyPathStore: the atomic commit and its reads), which both storage adapters must
 * honour: every behaviour the use cases rely on is pinned here and run against SQLite and DynamoDB (moto).
 */
describe.each(ADAPTERS)("MoneyPathStore contract on %s", (adapter) => {
  // streamEntries (the audit port) only to check what a commit wrote.
  let store: MoneyPathStore & StoreLifecycle & Pick<AuditStore, "streamEntries">;
  const { newWallet, depositVia, depositsAt } = moneyPathHelpers(() => store);

  beforeAll(async () => {
    store = (await openTestStore(adapter, inject("motoEndpoint"))).store;
  });
  afterAll(async () => {
    await store.close();
  });

  it("creates a wallet and finds it by id and by user", async () => {
    const w = await newWallet();
    expect(await store.getWallet(w.walletId)).toEqual(w);
    expect(await store.getWalletIdByUser(w.userId)).toBe(w.walletId);
    expect(await store.getWallet("NOPE")).toBeUndefined();
    expect(await store.getWalletIdByUser("nobody")).toBeUndefined();
  });

  it("refuses a second wallet for the same user and writes nothing of it", async () => {
    const first = await newWallet();
    const second = openWallet(id("W"), first.userId, "USD", Date.now());
    const outcome = await store.commit({
      walletIds: [],
      decide: () => ({ changes: { newWallet: second, idempotency: record(id("K")) }, result: null }),
    });
    expect(outcome).toEqual({ ok: false, reason: "user-has-wallet" });
    expect(await store.getWallet(second.walletId)).toBeUndefined();
    expect(await store.getWalletIdByUser(first.userId)).toBe(first.walletId);
  });

  it("gives decide the current wallets (absent ones missing) and commits its changes atomically", async () => {
    const w = await newWallet();
    let seen: string[] = [];
    const outcome = await store.commit({
      walletIds: [w.walletId, "MISSING"],
      decide: ({ wallets, now }) => {
        seen = [...wallets.keys()];
        const current = wallets.get(w.walletId) as Wallet;
        const { wallet, entry } = deposit(current, 1234n, now);
        return { changes: { walletUpdates: [{ wallet, expectedVersion: 0 }], entries: [entry] }, result: entry };
      },
    });
    expect(seen).toEqual([w.walletId]);
    expect(outcome.ok).toBe(true);
    const after = await store.getWallet(w.walletId);
    expect(after?.balance).toBe(1234n);
    expect(after?.version).toBe(1);
    if (!outcome.ok) throw new Error("unreachable");
    expect(after?.headHash).toBe(outcome.result.hash);
    expect(await store.getEntryByTransactionId(w.walletId, outcome.result.transactionId)).toEqual(outcome.result);
  });

  it("refuses an operation whose idempotency record exists, and applies none of it", async () => {
    const w = await newWallet();
    const key = id("K");
    expect((await depositVia(w.walletId, 100n, { idempotency: record(key, "first") })).ok).toBe(true);
    const second = await depositVia(w.walletId, 100n, { idempotency: record(key, "second") });
    expect(second).toEqual({ ok: false, reason: "idempotency-exists" });
    expect((await store.getWallet(w.walletId))?.balance).toBe(100n);
    expect((await store.getIdempotency(key))?.body).toBe("first");
  });

  it("stores an idempotency record on its own (a refused operation's outcome)", async () => {
    const key = id("K");
    const outcome = await store.commit({
      walletIds: [],
      decide: () => ({ changes: { idempotency: record(key, "422") }, result: 1 }),
    });
    expect(outcome).toEqual({ ok: true, result: 1 });
    const stored = await store.getIdempotency(key);
    expect(stored).toMatchObject({ scopeKey: key, body: "422", status: 201, contentType: "application/json" });
  });

  it("applies parallel commits on one wallet exactly once each, with gap-free sequences", async () => {
    const w = await newWallet();
    const n = adapter === "sqlite" ? 40 : 12;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => depositVia(w.walletId, BigInt(i + 1))));
    expect(results.every((r) => r.ok)).toBe(true);
    const after = await store.getWallet(w.walletId);
    expect(after?.version).toBe(n);
    expect(after?.balance).toBe(BigInt((n * (n + 1)) / 2));
    await expectGapFreeChain(store, w.walletId, n);
  });

  it("commits a transfer: both wallets, both entries and the transfer record, or nothing", async () => {
    const a = await newWallet();
    const b = await newWallet();
    await depositVia(a.walletId, 500n);
    const transferId = id("T");
    const outcome = await store.commit({
      walletIds: [a.walletId, b.walletId],
      decide: ({ wallets, now }) => {
        const from = wallets.get(a.walletId) as Wallet;
        const to = wallets.get(b.walletId) as Wallet;
        const moved = transferWithinCell(
          from,
          to,
          { transferId, outTransactionId: id("TX"), inTransactionId: id("TX"), amount: 200n, context: ctx },
          now,
        );
        if (!moved.ok) throw new Error("refused");
        return {
          changes: {
            walletUpdates: [
              { wallet: moved.value.from, expectedVersion: from.version, debit: 200n },
              { wallet: moved.value.to, expectedVersion: to.version },
            ],
            entries: moved.value.entries,
            transfers: [{ transfer: moved.value.transfer }],
          },
          result: moved.value.transfer,
        };
      },
    });
    expect(outcome.ok).toBe(true);
    expect((await store.getWallet(a.walletId))?.balance).toBe(300n);
    expect((await store.getWallet(b.walletId))?.balance).toBe(200n);
    const stored = await store.getTransfer(transferId);
    expect(stored).toMatchObject({
      transferId,
      status: "COMPLETED",
      amount: 200n,
      fromUserId: a.userId,
      toUserId: b.userId,
    });
    expect(await store.getTransfer("NO-SUCH")).toBeUndefined();
  });

  it("changes a transfer's status only from the expected status", async () => {
    const a = await newWallet();
    const transfer = {
      transferId: id("T"),
      fromWalletId: a.walletId,
      toWalletId: "ELSEWHERE",
      fromUserId: a.userId,
      amount: 5n,
      currency: "USD",
      status: "PENDING" as const,
      createdAt: Date.now(),
      destinationCellId: "cell-2",
    };
    expect(
      (await store.commit({ walletIds: [], decide: () => ({ changes: { transfers: [{ transfer }] }, result: 0 }) })).ok,
    ).toBe(true);
    const completed = { ...transfer, status: "COMPLETED" as const, completedAt: Date.now(), toUserId: "bob" };
    const moved = await store.commit({
      walletIds: [],
      decide: () => ({ changes: { transfers: [{ transfer: completed, expectedStatus: "PENDING" }] }, result: 0 }),
    });
    expect(moved.ok).toBe(true);
    expect(await store.getTransfer(transfer.transferId)).toMatchObject({
      status: "COMPLETED",
      toUserId: "bob",
      destinationCellId: "cell-2",
    });
    // A second completion from PENDING must not apply: the status is no longer PENDING.
    await expect(
      store.commit({
        walletIds: [],
        decide: () => ({
          changes: { transfers: [{ transfer: { ...completed, status: "FAILED" }, expectedStatus: "PENDING" }] },
          result: 0,
        }),
      }),
    ).rejects.toThrow();
    expect((await store.getTransfer(transfer.transferId))?.status).toBe("COMPLETED");
  });

  describe("reading history", () => {
    let wallet: Wallet;
    const base = Date.UTC(2026, 0, 1, 12, 0, 0, 0);

    beforeAll(async () => {
      wallet = await newWallet();
      // Fixed times: three entries share base+10 (same millisecond).
      await depositsAt(wallet, [base, base + 10, base + 10, base + 10, base + 20, base + 35]);
    });

    it("finds the latest entry at or before an instant in one lookup", async () => {
      const at = async (ms: number) => (await store.getLatestEntryAtOrBefore(wallet.walletId, ms))?.sequence ?? 0;
      expect(await at(base - 1)).toBe(0);
      expect(await at(base)).toBe(1);
      expect(await at(base + 9)).toBe(1);
      expect(await at(base + 10)).toBe(4); // highest sequence within the same millisecond
      expect(await at(base + 19)).toBe(4);
      expect(await at(base + 20)).toBe(5);
      expect(await at(base + 10_000)).toBe(6);
    });

    it("lists newest first, bounded by time and by a cursor position, without gaps", async () => {
      const list = async (page: Parameters<LedgerStore["listEntries"]>[1]) =>
        (await store.listEntries(wallet.walletId, page)).map((e) => e.sequence);
      expect(await list({ limit: 10 })).toEqual([6, 5, 4, 3, 2, 1]);
      expect(await list({ limit: 2 })).toEqual([6, 5]);
      expect(await list({ limit: 10, fromMs: base + 10, toMs: base + 20 })).toEqual([5, 4, 3, 2]);
      expect(await list({ limit: 10, before: { createdAt: base + 10, sequence: 3 } })).toEqual([2, 1]);
      expect(await list({ limit: 2, before: { createdAt: base + 20, sequence: 5 } })).toEqual([4, 3]);
      expect(await list({ limit: 10, fromMs: base + 36 })).toEqual([]);
    });
  });

  it("answers ping while reachable", async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
