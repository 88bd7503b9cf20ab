import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crossCellOut, seedWallet } from "../../test-support/ledger-fixtures.js";
import { SqliteLedgerStore } from "../src/adapters/sqlite/sqlite-ledger-store.js";
import { lossReport } from "../src/backup/loss-report.js";
import { readLostEntries } from "../src/backup/lost-entries.js";

const head = (walletId: string, version: number, balance: string) => ({
  walletId,
  userId: `u-${walletId}`,
  currency: "USD",
  balance,
  version,
  headHash: "h",
  state: "active",
});

describe("restore loss report", () => {
  it("counts the entries and balances written after the backup, including wallets created after it", () => {
    const report = lossReport(
      [head("w1", 2, "1000"), head("w2", 5, "300")],
      1_000,
      [
        { walletId: "w1", version: 4, balance: 1500n },
        { walletId: "w2", version: 5, balance: 300n },
        { walletId: "w3", version: 1, balance: 200n },
      ],
      { reference: "checkpoint 7", atMs: 61_000, complete: false },
    );
    expect(report).toMatchObject({ walletsAffected: 2, entriesLost: 3, windowMs: 60_000, behindBackup: 0 });
    expect(report.wallets).toEqual([
      { walletId: "w1", backupVersion: 2, referenceVersion: 4, entriesLost: 2, balanceDifference: "500" },
      { walletId: "w3", backupVersion: 0, referenceVersion: 1, entriesLost: 1, balanceDifference: "200" },
    ]);
  });

  it("loses nothing against a reference older than the backup", () => {
    const report = lossReport([head("w1", 3, "10")], 5_000, [{ walletId: "w1", version: 2, balance: 5n }], {
      reference: "checkpoint 1",
      atMs: 1_000,
      complete: false,
    });
    expect(report).toMatchObject({ entriesLost: 0, walletsAffected: 0, behindBackup: 1, windowMs: 0 });
    const later = lossReport([head("w1", 3, "10")], 5_000, [{ walletId: "w1", version: 3, balance: 10n }], {
      reference: "the replaced ledger",
      atMs: 60_000,
      complete: true,
    });
    expect(later.windowMs).toBe(0); // nothing lost: no window, however late the reference
  });
});

describe("restore loss report: the lost entries", () => {
  it("lists each lost entry after the backup's version, with type, amount and transfer id, up to the reference", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "lost-entries-")), "ledger.sqlite");
    const store = new SqliteLedgerStore({ path });
    const wallet = await seedWallet(store, [1000n, 200n]); // versions 1, 2: in the backup
    const out = await crossCellOut(store, wallet, { walletId: "w-elsewhere", cellId: "cell-9" }, 300n); // 3: lost
    const walletId = wallet.walletId;
    await seedWallet(store, [5n]); // another wallet, not asked for
    await store.close();
    const lost = await readLostEntries(path, [{ walletId, afterVersion: 2, upToVersion: 3 }]);
    expect([...lost.keys()]).toEqual([walletId]);
    expect(lost.get(walletId)).toEqual([
      { sequence: 3, type: "TRANSFER_OUT", amount: "300", createdAt: expect.any(String), transferId: out.transferId },
    ]);
    const upTo = await readLostEntries(path, [{ walletId, afterVersion: 1, upToVersion: 2 }]);
    expect(upTo.get(walletId)?.map((e) => [e.sequence, e.type, e.amount])).toEqual([[2, "DEPOSIT", "200"]]);
  });
});
