import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteLedgerStore } from "../../src/adapters/sqlite/sqlite-ledger-store.js";
import { post } from "../../src/domain/ledger-entry.js";
import { extendChain, reconcileTransfer, sameEntry } from "../../src/domain/migration.js";
import type { Transfer } from "../../src/domain/transfer.js";
import { openWallet } from "../../src/domain/wallet.js";

const ctx = { principal: "alice", scopes: ["wallet"], requestId: "r-1", idempotencyKey: "k" };

function chain(n: number) {
  let wallet = openWallet("W1", "alice", "USD", 1_000);
  const entries = [];
  for (let i = 1; i <= n; i++) {
    const posted = post(
      wallet,
      { transactionId: `T${i}`, type: "DEPOSIT", amount: BigInt(i * 100), context: ctx },
      1_000 + i,
    );
    if (!posted.ok) throw new Error("refused");
    wallet = posted.value.wallet;
    entries.push(posted.value.entry);
  }
  return { wallet, entries };
}

describe("copying a chain into another cell (pure rules)", () => {
  it("rebuilds the wallet's head from the copied entries", () => {
    const { wallet, entries } = chain(3);
    let head = openWallet("W1", "alice", "USD", 1_000);
    for (const entry of entries) {
      const next = extendChain(head, entry);
      if (!next.ok) throw new Error(next.problem.detail);
      head = next.value;
    }
    expect({ ...head, updatedAt: 0 }).toEqual({ ...wallet, updatedAt: 0 });
  });

  it.each([
    ["a gap", (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, sequence: 2 })],
    ["another previous hash", (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, prevHash: "1".repeat(64) })],
    ["a wrong running balance", (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, balanceAfter: 999n })],
    ["a rewritten member", (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, reference: "changed" })],
    [
      "a changed audit context",
      (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, context: { ...e.context, clientIp: "10.0.0.1" } }),
    ],
    ["another wallet's entry", (e: ReturnType<typeof chain>["entries"][number]) => ({ ...e, walletId: "W2" })],
  ])("refuses an entry with %s (409 migration-conflict)", (_name, tamper) => {
    const { entries } = chain(1);
    const first = entries[0];
    if (!first) throw new Error("no entry");
    const result = extendChain(openWallet("W1", "alice", "USD", 1_000), tamper(first));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.code).toBe("migration-conflict");
    expect(sameEntry(first, tamper(first))).toBe(false);
  });

  const base: Transfer = {
    transferId: "X1",
    fromWalletId: "A",
    toWalletId: "B",
    amount: 500n,
    currency: "USD",
    status: "PENDING",
    createdAt: 1,
    destinationCellId: "cell-b",
    fromUserId: "alice",
  };

  it("brings a PENDING record up to date, never back", () => {
    const done = { ...base, status: "COMPLETED" as const, completedAt: 5, toUserId: "bob" };
    expect(reconcileTransfer(base, done)).toEqual({ kind: "replace", transfer: done });
    expect(reconcileTransfer(done, base).kind).toBe("unchanged");
    expect(reconcileTransfer(done, done).kind).toBe("unchanged");
  });

  it("merges the sender's record with the receiver's credit record: the sender's status, the credit's source", () => {
    const credit: Transfer = {
      transferId: "X1",
      fromWalletId: "A",
      toWalletId: "B",
      toUserId: "bob",
      amount: 500n,
      currency: "USD",
      status: "COMPLETED",
      createdAt: 2,
      completedAt: 2,
      sourceCellId: "cell-a",
    };
    const merged = reconcileTransfer(credit, base);
    expect(merged).toMatchObject({
      kind: "replace",
      transfer: {
        status: "PENDING",
        sourceCellId: "cell-a",
        destinationCellId: "cell-b",
        fromUserId: "alice",
        toUserId: "bob",
      },
    });
  });

  it("refuses records that disagree on the transfer, or settled both ways", () => {
    expect(reconcileTransfer(base, { ...base, amount: 501n }).kind).toBe("conflict");
    expect(reconcileTransfer(base, { ...base, toWalletId: "C" }).kind).toBe("conflict");
    const completed = { ...base, status: "COMPLETED" as const };
    expect(reconcileTransfer(completed, { ...base, status: "FAILED" }).kind).toBe("conflict");
  });
});

describe("an embedded store file written before migrations", () => {
  it("is upgraded in place when opened: its wallets are active at epoch 1 and keep their money", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-v1-")), "ledger.sqlite");
    const old = new Database(path);
    old.exec(readFileSync(new URL("./fixtures/schema-v1.sql", import.meta.url), "utf8"));
    old
      .prepare(
        `INSERT INTO wallets (wallet_id, user_id, currency, balance, version, head_hash, last_entry_at, created_at, updated_at)
         VALUES ('W-OLD', 'old-user', 'USD', 0, 0, ?, 0, 1, 1)`,
      )
      .run("0".repeat(64));
    old
      .prepare(
        `INSERT INTO idempotency (scope_key, fingerprint, status, content_type, body, created_at, expires_at)
         VALUES ('k-old', 'f', 201, 'application/json', '{}', 1, 9999999999999)`,
      )
      .run();
    old.close();
    const store = new SqliteLedgerStore({ path });
    try {
      const wallet = await store.getWallet("W-OLD");
      expect(wallet?.ownership).toEqual({ state: "active", epoch: 1 });
      expect((await store.getIdempotency("k-old"))?.walletId).toBeUndefined();
      expect(
        await store.setWalletOwnership("W-OLD", { state: "active" }, { state: "frozen", epoch: 1, migrationId: "m" }),
      ).toBe(true);
    } finally {
      await store.close();
    }
    // Opening it again (another replica, a restart) finds the columns already there.
    const again = new SqliteLedgerStore({ path });
    expect((await again.getWallet("W-OLD"))?.ownership.state).toBe("frozen");
    await again.close();
  });
});
