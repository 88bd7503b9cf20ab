/**
 * Issue 5: immutability, cell verification and tamper detection on both
 * adapters. The attacker writes straight into the store (test-support/tamper.ts),
 * bypassing the service; verification must name the wallet and the sequence.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { createWallet, postEntry, seedWallet } from "../../test-support/ledger-fixtures.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";
import { token } from "../../test-support/tokens.js";
import { verifyCell } from "../src/application/cell-verification.js";
import type { LedgerStore } from "../src/application/ledger-store.js";
import { post } from "../src/domain/ledger-entry.js";

const motoEndpoint = inject("motoEndpoint");

describe("SQLite ledger entries are append-only (triggers)", () => {
  let testStore: TestStore;
  beforeAll(async () => {
    testStore = await openTestStore("sqlite", motoEndpoint);
  });
  afterAll(async () => {
    await testStore.store.close();
  });

  it("a raw UPDATE or DELETE of an entry through better-sqlite3 aborts and changes nothing", async () => {
    const wallet = await seedWallet(testStore.store, [500n, 250n]);
    const db = new Database(testStore.env.WALLET_SQLITE_PATH as string);
    try {
      const update = () =>
        db.prepare("UPDATE entries SET amount = 1 WHERE wallet_id = ? AND sequence = 1").run(wallet.walletId);
      const remove = () => db.prepare("DELETE FROM entries WHERE wallet_id = ? AND sequence = 2").run(wallet.walletId);
      const wipe = () => db.prepare("DELETE FROM entries").run();
      expect(update).toThrow(/ledger entries are append-only/);
      expect(remove).toThrow(/ledger entries are append-only/);
      expect(wipe).toThrow(/ledger entries are append-only/);
      const rows = db
        .prepare("SELECT sequence, amount FROM entries WHERE wallet_id = ? ORDER BY sequence")
        .all(wallet.walletId);
      expect(rows).toEqual([
        { sequence: 1, amount: 500 },
        { sequence: 2, amount: 250 },
      ]);
    } finally {
      db.close();
    }
    expect((await verifyCell(testStore.store, testStore.cellId)).valid).toBe(true);
  });
});

describe.each(ADAPTERS)("integrity on %s", (adapter) => {
  let testStore: TestStore;
  let store: LedgerStore;

  beforeAll(async () => {
    testStore = await openTestStore(adapter, motoEndpoint);
    store = testStore.store;
  });
  afterAll(async () => {
    await store.close();
  });

  it("streamWallets yields every wallet exactly once, with its current row", async () => {
    const a = await seedWallet(store, [100n]);
    const b = await seedWallet(store, []);
    const seen = new Map<string, number>();
    for await (const w of store.streamWallets()) seen.set(w.walletId, (seen.get(w.walletId) ?? 0) + 1);
    expect(seen.get(a.walletId)).toBe(1);
    expect(seen.get(b.walletId)).toBe(1);
    const rows = [];
    for await (const w of store.streamWallets()) if (w.walletId === a.walletId) rows.push(w);
    expect(rows).toEqual([a]);
  });

  it("a commit can never overwrite an existing entry (append-only through the port)", async () => {
    const wallet = await seedWallet(store, [700n]);
    const [original] = await collect(store.streamEntries(wallet.walletId));
    if (!original) throw new Error("no entry");
    const forged = { ...original, amount: 1n, balanceAfter: 1n };
    await expect(
      store.commit({ walletIds: [], decide: () => ({ changes: { entries: [forged] }, result: null }) }),
    ).rejects.toThrow();
    expect(await collect(store.streamEntries(wallet.walletId))).toEqual([original]);
  });

  it("an untampered cell under concurrent writes verifies clean", async () => {
    const wallets = await Promise.all([1, 2, 3].map(() => seedWallet(store, [1000n])));
    let writing = true;
    const writers = wallets.map(async (w, i) => {
      let n = 0;
      while (writing || n < 5) {
        await postEntry(store, w.walletId, i === 0 && n % 2 === 1 ? -10n : 25n);
        n += 1;
      }
      return n;
    });
    const reports = [];
    for (let i = 0; i < 3; i++) reports.push(await verifyCell(store, testStore.cellId, { concurrency: 2 }));
    writing = false;
    const written = await Promise.all(writers);
    reports.push(await verifyCell(store, testStore.cellId));
    for (const report of reports) {
      expect(report.invalidWallets).toEqual([]);
      expect(report.valid).toBe(true);
    }
    expect(written.every((n) => n >= 5)).toBe(true);
    const final = reports.at(-1);
    expect(final?.wallets).toBeGreaterThanOrEqual(3);
    expect(final?.entries).toBeGreaterThanOrEqual(3 + written.reduce((s, n) => s + n, 0));
  });

  describe("tampering directly in the store is detected at the right wallet and sequence", () => {
    let ids: Record<string, string>;
    let auditor: string;

    beforeAll(async () => {
      const four = [1000n, 200n, -300n, 50n];
      const names = ["amount", "deleteMiddle", "deleteHead", "balance", "reorder", "clean"];
      const seeded = await Promise.all(names.map(() => seedWallet(store, four)));
      ids = Object.fromEntries(names.map((n, i) => [n, seeded[i]?.walletId as string]));
      // A within-cell transfer too: its two entries must stay valid.
      const [from, to] = await Promise.all([seedWallet(store, [900n]), createWallet(store)]);
      await transfer(store, from.walletId, to.walletId, 400n);
      ids.transferFrom = from.walletId;
      ids.transferTo = to.walletId;
      expect((await verifyCell(store, testStore.cellId)).valid).toBe(true);

      const attacker = openTamperer(testStore, motoEndpoint);
      try {
        await attacker.changeEntryAmount(ids.amount as string, 2, 100n);
        await attacker.deleteEntry(ids.deleteMiddle as string, 3);
        await attacker.deleteEntry(ids.deleteHead as string, 4);
        await attacker.changeWalletBalance(ids.balance as string, 5000n);
        await attacker.swapEntries(ids.reorder as string, 2, 3);
      } finally {
        await attacker.close();
      }
      auditor = await token("auditor-1", "wallet:auditor");
    });

    it("verifyCell reports exactly the tampered wallets, each with its first invalid sequence", async () => {
      const report = await verifyCell(store, testStore.cellId);
      expect(report.valid).toBe(false);
      const found = new Map(report.invalidWallets.map((w) => [w.walletId, w]));
      const expected: [string, number, RegExp][] = [
        ["amount", 2, /hash does not match/],
        ["deleteMiddle", 3, /expected sequence 3, found 4/],
        ["deleteHead", 4, /only 3 entries/],
        ["balance", 4, /balance differs/],
        ["reorder", 2, /prevHash does not link|expected sequence/],
      ];
      for (const [name, sequence, reason] of expected) {
        const result = found.get(ids[name] as string);
        expect(result, name).toBeDefined();
        expect(result?.firstInvalidSequence, name).toBe(sequence);
        expect(result?.reason, name).toMatch(reason);
      }
      expect(report.invalidCount).toBe(expected.length);
      for (const name of ["clean", "transferFrom", "transferTo"])
        expect(found.has(ids[name] as string), name).toBe(false);
    });

    it("GET /wallets/{id}/audit agrees; GET /cell/audit needs wallet:auditor and reports the same", async () => {
      const cell = await startInProcessCell(store, { CELL_ID: testStore.cellId });
      try {
        const one = await http(cell.url, "GET", `/api/v1/wallets/${ids.amount}/audit`, { token: auditor });
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({ valid: false, firstInvalidSequence: 2, entries: 4 });
        const clean = await http(cell.url, "GET", `/api/v1/wallets/${ids.clean}/audit`, { token: auditor });
        expect(clean.body).toMatchObject({ valid: true, firstInvalidSequence: null, entries: 4 });

        expect((await http(cell.url, "GET", "/api/v1/cell/audit")).status).toBe(401);
        const user = await token("someone", "wallet");
        const operator = await token("ops", "wallet:operator");
        for (const t of [user, operator]) {
          const refused = await http(cell.url, "GET", "/api/v1/cell/audit", { token: t });
          expect(refused.status).toBe(403);
          expect(refused.body.code).toBe("forbidden");
        }
        expect((await http(cell.url, "POST", "/api/v1/cell/audit", { token: auditor, body: {} })).status).toBe(405);
        const res = await http(cell.url, "GET", "/api/v1/cell/audit", { token: auditor });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ cellId: testStore.cellId, valid: false, invalidCount: 5 });
        const byId = new Map(
          (res.body.invalidWallets as { walletId: string; firstInvalidSequence: number }[]).map((w) => [
            w.walletId,
            w.firstInvalidSequence,
          ]),
        );
        expect(byId.get(ids.deleteMiddle as string)).toBe(3);
        expect(byId.get(ids.reorder as string)).toBe(2);
      } finally {
        await cell.close();
      }
    });

    it("the periodic verification job reports the findings in metrics (VERIFY_INTERVAL_MS)", async () => {
      const cell = await startInProcessCell(store, { CELL_ID: testStore.cellId, VERIFY_INTERVAL_MS: "3600000" });
      try {
        const job = cell.cell.verification;
        if (!job) throw new Error("no verification job although VERIFY_INTERVAL_MS is set");
        const report = await job.runOnce();
        expect(report.invalidCount).toBe(5);
        const metrics = (await http(cell.url, "GET", "/metrics")).text;
        expect(metrics).toMatch(/cellwallet_verification_invalid_wallets\{[^}]*\} 5\n/);
        expect(metrics).toMatch(/cellwallet_verification_last_run_timestamp_seconds\{[^}]*\} \d+/);
      } finally {
        await cell.close();
      }
      const off = await startInProcessCell(store, { CELL_ID: testStore.cellId });
      expect(off.cell.verification).toBeUndefined();
      await off.close();
    });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function transfer(store: LedgerStore, fromId: string, toId: string, amount: bigint): Promise<void> {
  const outcome = await store.commit({
    walletIds: [fromId, toId],
    decide: ({ wallets, now }) => {
      const from = wallets.get(fromId);
      const to = wallets.get(toId);
      if (!from || !to) throw new Error("wallets missing");
      const context = { principal: "t", requestId: "r" };
      const out = post(from, { transactionId: `${fromId}-o`, type: "TRANSFER_OUT", amount, context }, now);
      if (!out.ok) throw new Error("refused");
      const inn = post(to, { transactionId: `${toId}-i`, type: "TRANSFER_IN", amount, context }, now);
      if (!inn.ok) throw new Error("refused");
      return {
        changes: {
          walletUpdates: [
            { wallet: out.value.wallet, expectedVersion: from.version, debit: amount },
            { wallet: inn.value.wallet, expectedVersion: to.version },
          ],
          entries: [out.value.entry, inn.value.entry],
        },
        result: null,
      };
    },
  });
  if (!outcome.ok) throw new Error(outcome.reason);
}
