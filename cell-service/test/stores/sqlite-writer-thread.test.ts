import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteLedgerStore } from "../../src/adapters/sqlite/sqlite-ledger-store.js";
import { SqliteWriterThread } from "../../src/adapters/sqlite/sqlite-writer-thread.js";
import { openWallet } from "../../src/domain/wallet.js";
import { expectGapFreeChain, id, moneyPathHelpers, record } from "./contract-fixtures.js";

/**
 * The embedded money path decides on the request thread and writes on its writer thread, which checks that every
 * row a decision read is unchanged. These are the paths of that check the contract suite does not force.
 */
describe("SQLite money path: decisions checked by the writer thread", () => {
  const stores: SqliteLedgerStore[] = [];
  const open = (path: string) => {
    const store = new SqliteLedgerStore({ path });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const freshPath = () => join(mkdtempSync(join(tmpdir(), "cellwallet-writer-")), "ledger.sqlite");

  it("decides again an operation that built on one of its group that was then refused", async () => {
    const store = open(freshPath());
    const { newWallet, depositVia } = moneyPathHelpers(() => store);
    const w = await newWallet();
    let decidedAgain = 0;
    store.observe({ contentionRetry: () => decidedAgain++ });
    const key = id("K");
    await store.commit({ walletIds: [], decide: () => ({ changes: { idempotency: record(key) }, result: null }) });
    // Same group: the first is refused (its key is taken), the second was decided on the wallet as the first
    // would have left it, so the writer finds it stale and it is decided again on the wallet as it is.
    const [refused, applied] = await Promise.all([
      depositVia(w.walletId, 100n, { idempotency: record(key) }),
      depositVia(w.walletId, 7n),
    ]);
    expect(refused).toEqual({ ok: false, reason: "idempotency-exists" });
    expect(applied.ok).toBe(true);
    expect(decidedAgain).toBe(1);
    const after = await store.getWallet(w.walletId);
    expect(after).toMatchObject({ balance: 7n, version: 1 });
    const entries = [];
    for await (const entry of store.streamEntries(w.walletId)) entries.push(entry);
    expect(entries.map((e) => [e.sequence, e.amount])).toEqual([[1, 7n]]);
  });

  it("two replicas on one file racing on one wallet: every deposit applied once, the chain gap-free", async () => {
    const path = freshPath();
    const [a, b] = [open(path), open(path)];
    const wallet = openWallet(id("W"), id("U"), "USD", Date.now());
    await a.commit({ walletIds: [], decide: () => ({ changes: { newWallet: wallet }, result: null }) });
    const viaA = moneyPathHelpers(() => a);
    const viaB = moneyPathHelpers(() => b);
    const n = 30;
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => (i % 2 === 0 ? viaA : viaB).depositVia(wallet.walletId, BigInt(i + 1))),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const after = await b.getWallet(wallet.walletId);
    expect(after).toMatchObject({ version: n, balance: BigInt((n * (n + 1)) / 2) });
    await expectGapFreeChain(a, wallet.walletId, n);
  });

  it("a commit after close is refused as unavailable, never left hanging", async () => {
    const store = new SqliteLedgerStore({ path: freshPath() });
    await store.close();
    await expect(store.commit({ walletIds: ["W1"], decide: () => ({ changes: {}, result: 0 }) })).rejects.toThrow();
  });

  it("a process whose last work is a commit and close ends normally (the writer thread is awaited, not dropped)", () => {
    // What cellctl does (backup, restore): with nothing else alive, an unreferenced thread would let Node exit
    // with 13 (unsettled top-level await) in the middle of close().
    const store = fileURLToPath(new URL("../../dist/adapters/sqlite/sqlite-ledger-store.js", import.meta.url));
    const script = `
      const { SqliteLedgerStore } = await import(${JSON.stringify(store)});
      const s = new SqliteLedgerStore({ path: ${JSON.stringify(freshPath())} });
      const outcome = await s.commit({ walletIds: [], decide: () => ({ changes: {}, result: "committed" }) });
      await s.close();
      console.log(outcome.result, "and closed");`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("committed and closed");
    expect(run.status).toBe(0);
  });

  it("a writer thread that cannot write fails every batch with the reason, and reports it", async () => {
    // A directory is no database: the thread fails as it opens, as it would on a lost disk.
    const writer = new SqliteWriterThread({ path: mkdtempSync(join(tmpdir(), "cellwallet-not-a-file-")) });
    await expect(writer.write([])).rejects.toThrow(/the ledger's SQLite writer failed/);
    expect(writer.failure()?.message).toMatch(/the ledger's SQLite writer failed/);
    await expect(writer.write([])).rejects.toThrow(/the ledger's SQLite writer failed/);
    await writer.close();
  });

  it("a replica whose writer thread died is not ready: ping rejects with the writer's failure", async () => {
    const store = open(freshPath());
    const { newWallet } = moneyPathHelpers(() => store);
    await newWallet();
    await expect(store.ping()).resolves.toBeUndefined();
    // What a crash of the thread does (reached through the private fields: nothing else may stop it).
    const writer = (store as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer;
    await writer.worker.terminate();
    await expect(store.ping()).rejects.toThrow(/the ledger's SQLite writer failed: the SQLite writer thread exited/);
    await expect(newWallet()).rejects.toThrow(/the ledger's SQLite writer failed/);
  });
});
