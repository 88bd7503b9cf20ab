import type { BackupManifest, LossReport } from "@cellwallet/cell-service";
import { describe, expect, it } from "vitest";
import { lossLines } from "../../src/cli/backup-restore-report.js";

/** The restore's loss report as people read it: what an accountant needs to follow a reconcile mismatch. */
const manifest = { createdAt: "2026-12-06T02:56:24.000Z" } as BackupManifest;

function report(wallets: LossReport["wallets"], reference = "the replaced ledger"): LossReport {
  return {
    reference,
    complete: reference === "the replaced ledger",
    referenceAtMs: 2_000,
    backupAtMs: 1_000,
    windowMs: 1_000,
    walletsAffected: wallets.length,
    entriesLost: wallets.reduce((n, w) => n + w.entriesLost, 0),
    wallets,
    behindBackup: 0,
  };
}

describe("the restore's loss lines", () => {
  it("name each lost entry's type, and each lost transfer's id, direction and counterparty", () => {
    const lines = lossLines(
      report([
        {
          walletId: "w1",
          backupVersion: 2,
          referenceVersion: 5,
          entriesLost: 3,
          balanceDifference: "-300",
          entries: [
            { sequence: 3, type: "DEPOSIT", amount: "100", createdAt: "2026-12-06T03:00:00.000Z" },
            {
              sequence: 4,
              type: "TRANSFER_OUT",
              amount: "500",
              createdAt: "2026-12-06T03:00:01.000Z",
              transferId: "t-out",
              counterpartyWalletId: "w-in-cell-1",
            },
            {
              sequence: 5,
              type: "TRANSFER_IN",
              amount: "100",
              createdAt: "2026-12-06T03:00:02.000Z",
              transferId: "t-in",
              counterpartyWalletId: "w-of-cell-3",
            },
          ],
        },
      ]),
      manifest,
    );
    expect(lines).toEqual([
      "loss relative to the replaced ledger: 3 entries in 1 wallets written after the backup (RPO seen: ≤ 1.0 s)",
      "  w1: version 5 -> 2 (3 entries, balance difference -300 minor units): DEPOSIT 1, TRANSFER_OUT 1, TRANSFER_IN 1",
      "    #4 TRANSFER_OUT 500 transfer t-out to w-in-cell-1 at 2026-12-06T03:00:01.000Z",
      "    #5 TRANSFER_IN 100 transfer t-in from w-of-cell-3 at 2026-12-06T03:00:02.000Z",
    ]);
  });

  it("say which wallets recover-migrated brings back, and when only heads were known", () => {
    const lines = lossLines(
      report(
        [
          {
            walletId: "lu0",
            backupVersion: 10,
            referenceVersion: 199,
            entriesLost: 189,
            balanceDifference: "0",
            migratedIn: true,
          },
        ],
        "checkpoint 7 (2026-12-06T03:10:00.000Z)",
      ),
      manifest,
    );
    expect(lines[1]).toBe(
      "  lu0: version 199 -> 10 (189 entries, balance difference 0 minor units; migrated in since the backup: recover-migrated brings back its entries up to that move)",
    );
    expect(lines).toContain(
      "  the lost entries themselves are not listed: checkpoint 7 (2026-12-06T03:10:00.000Z) holds wallet heads only",
    );
  });
});
