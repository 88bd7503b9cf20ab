import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADAPTERS, openTestStore } from "../../../test-support/stores.js";
import type { CommitOutcome, LedgerStore } from "../../src/application/ledger-store.js";
import { type LedgerEntry, post } from "../../src/domain/ledger-entry.js";
import { openWallet, type Wallet } from "../../src/domain/wallet.js";

/**
 * Ownership and fences in both stores: only an active wallet accepts writes, and
 * the check is part of the atomic write, so a write racing a freeze either
 * committed before it or was refused.
 */
let seq = 0;
const id = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(seq++).toString(36).padStart(4, "0")}`.toUpperCase();
const ctx = { principal: "tester", scopes: ["wallet"], requestId: "r-1" };

describe.each(ADAPTERS)("wallet ownership on %s", (adapter) => {
  let store: LedgerStore;

  beforeAll(async () => {
    store = (await openTestStore(adapter, inject("motoEndpoint"))).store;
  });
  afterAll(async () => {
    await store.close();
  });

  async function newWallet(userId = id("U")): Promise<Wallet> {
    const wallet = openWallet(id("W"), userId, "USD", Date.now());
    const outcome = await store.commit({
      walletIds: [],
      decide: () => ({ changes: { newWallet: wallet }, result: 0 }),
    });
    expect(outcome.ok).toBe(true);
    return wallet;
  }

  function deposit(walletId: string, amount: bigint, allowFrozen = false): Promise<CommitOutcome<LedgerEntry>> {
    return store.commit({
      walletIds: [walletId],
      ...(allowFrozen ? { allowFrozen } : {}),
      decide: ({ wallets, now }) => {
        const w = wallets.get(walletId);
        if (!w) throw new Error("wallet missing");
        const posted = post(w, { transactionId: id("TX"), type: "DEPOSIT", amount, context: ctx }, now);
        if (!posted.ok) throw new Error("refused");
        return {
          changes: {
            walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: w.version }],
            entries: [posted.value.entry],
          },
          result: posted.value.entry,
        };
      },
    });
  }

  const entriesOf = async (walletId: string) => {
    const all: LedgerEntry[] = [];
    for await (const e of store.streamEntries(walletId)) all.push(e);
    return all;
  };

  it("holds new wallets active at epoch 1", async () => {
    const w = await newWallet();
    expect((await store.getWallet(w.walletId))?.ownership).toEqual({ state: "active", epoch: 1 });
  });

  it("changes ownership only from the expected state and migration", async () => {
    const w = await newWallet();
    expect(await store.setWalletOwnership(w.walletId, { state: "frozen" }, { state: "active", epoch: 1 })).toBe(false);
    const frozen = { state: "frozen" as const, epoch: 1, migrationId: "m-1", peerCellId: "cell-9" };
    expect(await store.setWalletOwnership(w.walletId, { state: "active" }, frozen)).toBe(true);
    expect((await store.getWallet(w.walletId))?.ownership).toEqual(frozen);
    expect(
      await store.setWalletOwnership(
        w.walletId,
        { state: "frozen", migrationId: "m-2" },
        { state: "active", epoch: 1 },
      ),
    ).toBe(false);
    expect(
      await store.setWalletOwnership(
        w.walletId,
        { state: "frozen", migrationId: "m-1" },
        { state: "active", epoch: 1 },
      ),
    ).toBe(true);
    expect((await store.getWallet(w.walletId))?.ownership).toEqual({ state: "active", epoch: 1 });
    expect(await store.setWalletOwnership("NO-SUCH-WALLET", { state: "active" }, frozen)).toBe(false);
  });

  it("refuses every write to a frozen wallet (even a refusal's idempotency record) and writes nothing", async () => {
    const w = await newWallet();
    expect((await deposit(w.walletId, 500n)).ok).toBe(true);
    await store.setWalletOwnership(w.walletId, { state: "active" }, { state: "frozen", epoch: 1, migrationId: "m" });
    const refused = await deposit(w.walletId, 100n);
    expect(refused).toEqual({ ok: false, reason: "fenced", fence: { state: "frozen", walletId: w.walletId } });
    const onlyRecord = await store.commit({
      walletIds: [w.walletId],
      decide: ({ now }) => ({
        changes: {
          idempotency: {
            scopeKey: id("K"),
            fingerprint: "f",
            status: 422,
            contentType: "application/problem+json",
            body: "{}",
            createdAt: now,
            expiresAt: now + 86_400_000,
            walletId: w.walletId,
          },
        },
        result: 0,
      }),
    });
    expect(onlyRecord.ok).toBe(false);
    const after = await store.getWallet(w.walletId);
    expect(after?.version).toBe(1);
    expect(after?.balance).toBe(500n);
    // The migration's settle step may still write to a frozen wallet.
    expect((await deposit(w.walletId, 1n, true)).ok).toBe(true);
    await store.setWalletOwnership(
      w.walletId,
      { state: "frozen", migrationId: "m" },
      { state: "moved", epoch: 2, migrationId: "m", peerCellId: "cell-b" },
    );
    expect(await deposit(w.walletId, 1n, true)).toEqual({
      ok: false,
      reason: "fenced",
      fence: { state: "moved", walletId: w.walletId, movedTo: "cell-b" },
    });
  });

  it("refuses a same-cell transfer touching a non-active wallet as a whole", async () => {
    const a = await newWallet();
    const b = await newWallet();
    await deposit(a.walletId, 100n);
    await store.setWalletOwnership(b.walletId, { state: "active" }, { state: "importing", epoch: 2, migrationId: "m" });
    const outcome = await store.commit({
      walletIds: [a.walletId, b.walletId],
      decide: () => {
        throw new Error("decide must not run on a fenced wallet");
      },
    });
    expect(outcome.ok).toBe(false);
    expect((await store.getWallet(a.walletId))?.balance).toBe(100n);
  });

  it("fences a user without a wallet: no wallet can be created for them until the fence is lifted", async () => {
    const userId = id("U");
    const fence = { userId, state: "frozen" as const, epoch: 1, migrationId: "m-u", targetCellId: "cell-b" };
    expect(await store.setUserFence(userId, undefined, fence)).toBe(true);
    expect(await store.getUserFence(userId)).toEqual(fence);
    expect(await store.setUserFence(userId, undefined, fence)).toBe(false);
    const create = () =>
      store.commit({
        walletIds: [],
        decide: () => ({ changes: { newWallet: openWallet(id("W"), userId, "USD", Date.now()) }, result: 0 }),
      });
    expect(await create()).toEqual({ ok: false, reason: "fenced", fence: { state: "frozen", userId } });
    expect(await store.getWalletIdByUser(userId)).toBeUndefined();
    const moved = { ...fence, state: "moved" as const, epoch: 2 };
    expect(await store.setUserFence(userId, fence, moved)).toBe(true);
    expect(await create()).toEqual({
      ok: false,
      reason: "fenced",
      fence: { state: "moved", userId, movedTo: "cell-b" },
    });
    expect(await store.setUserFence(userId, moved, undefined)).toBe(true);
    expect(await store.getUserFence(userId)).toBeUndefined();
    expect((await create()).ok).toBe(true);
    // A user with a wallet is fenced through the wallet, never with a user fence.
    expect(await store.setUserFence(userId, undefined, fence)).toBe(false);
  });

  it("races writes against a freeze: every write committed before it (and is in the chain) or was refused", async () => {
    const w = await newWallet();
    await deposit(w.walletId, 1n);
    const writes: Promise<CommitOutcome<LedgerEntry>>[] = [];
    let freeze: Promise<boolean> | undefined;
    let frozenAt: Wallet | undefined;
    // A stream of writes, and the freeze lands in the middle of it while earlier writes are still in flight.
    for (let i = 0; i < 40; i++) {
      writes.push(deposit(w.walletId, 10n));
      if (i === 15) {
        freeze = store
          .setWalletOwnership(w.walletId, { state: "active" }, { state: "frozen", epoch: 1, migrationId: "m-race" })
          .then(async (done) => {
            frozenAt = await store.getWallet(w.walletId);
            return done;
          });
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await freeze).toBe(true);
    const outcomes = await Promise.all(writes);
    const committed = outcomes.filter((o) => o.ok).map((o) => (o.ok ? o.result.transactionId : ""));
    const refused = outcomes.filter((o) => !o.ok);
    for (const o of refused) expect(o).toMatchObject({ ok: false, reason: "fenced" });
    expect(committed.length + refused.length).toBe(40);
    // Both sides of the race happened.
    expect(committed.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    const chain = await entriesOf(w.walletId);
    const inChain = new Set(chain.map((e) => e.transactionId));
    for (const tx of committed) expect(inChain.has(tx)).toBe(true);
    // Nothing landed after the freeze: the frozen head is the final head, and it holds exactly the acknowledged writes.
    const final = await store.getWallet(w.walletId);
    expect(final?.version).toBe(frozenAt?.version);
    expect(final?.headHash).toBe(frozenAt?.headHash);
    expect(chain.length).toBe(1 + committed.length);
    expect(final?.balance).toBe(1n + 10n * BigInt(committed.length));
  });

  describe("import methods", () => {
    const importing = (migrationId = "m-i") => ({
      state: "importing" as const,
      epoch: 2,
      migrationId,
      peerCellId: "cell-src",
    });

    it("creates an importing copy once, never over another wallet of the user, and replaces a user fence", async () => {
      const copy = { ...openWallet(id("W"), id("U"), "USD", 5), ownership: importing() };
      expect(await store.createImportedWallet(copy)).toBe("created");
      expect(await store.createImportedWallet(copy)).toBe("exists");
      expect((await store.getWallet(copy.walletId))?.ownership).toEqual(importing());
      const owner = await newWallet();
      const other = { ...openWallet(id("W"), owner.userId, "USD", 5), ownership: importing() };
      expect(await store.createImportedWallet(other)).toBe("user-has-wallet");
      const fenced = id("U");
      const fence = { userId: fenced, state: "moved" as const, epoch: 2, migrationId: "old", targetCellId: "cell-x" };
      await store.setUserFence(fenced, undefined, fence);
      const back = { ...openWallet(id("W"), fenced, "USD", 5), ownership: importing() };
      expect(await store.createImportedWallet(back)).toBe("created");
      expect(await store.getUserFence(fenced)).toBeUndefined();
      expect(await store.getWalletIdByUser(fenced)).toBe(back.walletId);
    });

    it("appends copied entries only to the importing copy at the expected version and migration", async () => {
      const copy = { ...openWallet(id("W"), id("U"), "USD", 5), ownership: importing() };
      await store.createImportedWallet(copy);
      const first = post(copy, { transactionId: id("TX"), type: "DEPOSIT", amount: 700n, context: ctx }, 10);
      if (!first.ok) throw new Error("refused");
      const batch = {
        walletId: copy.walletId,
        expectedVersion: 0,
        migrationId: "m-i",
        entries: [first.value.entry],
        after: first.value.wallet,
      };
      expect(await store.appendImportedEntries({ ...batch, migrationId: "m-other" })).toBe(false);
      expect(await store.appendImportedEntries(batch)).toBe(true);
      expect(await store.appendImportedEntries(batch)).toBe(false);
      expect(await store.getEntry(copy.walletId, 1)).toEqual(first.value.entry);
      expect(await store.getEntry(copy.walletId, 2)).toBeUndefined();
      const stored = await store.getWallet(copy.walletId);
      expect(stored).toMatchObject({ balance: 700n, version: 1, headHash: first.value.entry.hash });
      // Not on a copy this cell owns.
      const active = await newWallet();
      const onActive = post(active, { transactionId: id("TX"), type: "DEPOSIT", amount: 1n, context: ctx }, 10);
      if (!onActive.ok) throw new Error("refused");
      expect(
        await store.appendImportedEntries({
          walletId: active.walletId,
          expectedVersion: 0,
          migrationId: "m-i",
          entries: [onActive.value.entry],
          after: onActive.value.wallet,
        }),
      ).toBe(false);
      expect((await store.getWallet(active.walletId))?.version).toBe(0);
    });

    it("stores copied transfer and idempotency records new, or over the record read, conditionally", async () => {
      const walletId = id("W");
      const transfer = {
        transferId: id("X"),
        fromWalletId: walletId,
        toWalletId: id("W"),
        amount: 5n,
        currency: "USD",
        status: "PENDING" as const,
        createdAt: 1,
        destinationCellId: "cell-z",
      };
      expect(await store.putImportedTransfer(transfer, undefined)).toBe(true);
      expect(await store.putImportedTransfer(transfer, undefined)).toBe(false);
      expect(await store.listPendingTransfersFrom(walletId, 10)).toEqual([transfer]);
      const done = { ...transfer, status: "COMPLETED" as const, completedAt: 3 };
      expect(await store.putImportedTransfer(done, done)).toBe(false);
      expect(await store.putImportedTransfer(done, transfer)).toBe(true);
      expect(await store.getTransfer(transfer.transferId)).toEqual(done);
      expect(await store.listPendingTransfersFrom(walletId, 10)).toEqual([]);

      const now = Date.now();
      const record = {
        scopeKey: id("K"),
        fingerprint: "f1",
        status: 202,
        contentType: "application/json",
        body: "{}",
        createdAt: now,
        expiresAt: now + 86_400_000,
        walletId,
      };
      expect(await store.putImportedIdempotency(record, undefined)).toBe(true);
      expect(await store.putImportedIdempotency(record, undefined)).toBe(false);
      const final = { ...record, status: 201, body: '{"status":"COMPLETED"}' };
      expect(await store.putImportedIdempotency(final, { ...record, fingerprint: "other" })).toBe(false);
      expect(await store.putImportedIdempotency(final, record)).toBe(true);
      expect(await store.getIdempotency(record.scopeKey)).toEqual(final);
      const old = { ...record, scopeKey: id("K"), createdAt: now - 60_000 };
      await store.putImportedIdempotency(old, undefined);
      const listed = async (since?: number) => {
        const keys: string[] = [];
        for await (const key of store.listIdempotencyKeysOfWallet(walletId, since)) keys.push(key);
        return keys.sort();
      };
      // The DynamoDB index is eventually consistent: moto answers at once, AWS within about a second.
      expect(await listed()).toEqual([record.scopeKey, old.scopeKey].sort());
      expect(await listed(now - 1_000)).toEqual([record.scopeKey]);
    });
  });
});
