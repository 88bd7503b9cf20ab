/**
 * The tests' attacker (test-support/tamper.ts) against the SQLite store must land its write even when a replica
 * opens the file meanwhile: opening re-creates the append-only triggers (CREATE TRIGGER IF NOT EXISTS, as a
 * restarted cell must). Dropped once when the tamperer opened, a replica's writer thread starting late under
 * load put them back and the tampering failed with "ledger entries are append-only" (a CI failure).
 */
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { seedWallet } from "../../test-support/ledger-fixtures.js";
import { openTestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";
import { SqliteLedgerStore } from "../src/adapters/sqlite/sqlite-ledger-store.js";

describe("the SQLite tamperer", async () => {
  const testStore = await openTestStore("sqlite", "unused");
  const path = testStore.env.WALLET_SQLITE_PATH as string;
  const late: SqliteLedgerStore[] = [];

  afterAll(async () => {
    for (const store of late) await store.close();
    await testStore.store.close();
  });

  it("tampers even after a replica opened the file and re-created the append-only triggers", async () => {
    const wallet = await seedWallet(testStore.store, [100n, 50n]);
    const attacker = openTamperer(testStore, "unused");
    late.push(new SqliteLedgerStore({ path })); // a replica starting now
    await attacker.changeEntryAmount(wallet.walletId, 1, 7n);
    await attacker.deleteCheckpoint(1);
    await attacker.close();

    const db = new Database(path, { readonly: true });
    try {
      const row = db.prepare("SELECT amount FROM entries WHERE wallet_id = ? AND sequence = 1").get(wallet.walletId);
      expect(row).toEqual({ amount: 107 });
    } finally {
      db.close();
    }
  });

  it("a store opened after the tampering puts the triggers back: a plain connection is refused again", () => {
    late.push(new SqliteLedgerStore({ path }));
    const db = new Database(path);
    try {
      expect(() => db.prepare("UPDATE entries SET amount = 0").run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });
});
