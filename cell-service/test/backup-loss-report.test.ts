import { describe, expect, it } from "vitest";
import { lossReport } from "../src/backup/loss-report.js";

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
