import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADAPTERS, openTestStore } from "../../../test-support/stores.js";
import type { AuditStore, MoneyPathStore, StoreLifecycle } from "../../src/application/ledger-store.js";
import type { Checkpoint, WalletHead } from "../../src/domain/checkpoint.js";
import type { LedgerEntry } from "../../src/domain/ledger-entry.js";
import { type Transfer, transferWithinCell } from "../../src/domain/transfer.js";
import type { Wallet } from "../../src/domain/wallet.js";
import { ctx, id, moneyPathHelpers } from "./contract-fixtures.js";

/**
 * The audit port's contract (AuditStore: whole-cell streams, snapshots, checkpoints), run against SQLite and
 * DynamoDB (moto). The data is written through the money path, as in a running cell.
 */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function checkpoint(sequence: number, snapshotId: string, previousHash: string): Checkpoint {
  return {
    cellId: "cell-contract",
    sequence,
    createdAt: Date.UTC(2026, 0, 1) + sequence,
    snapshotId,
    wallets: 2,
    entries: 7,
    totals: { USD: "12345678901234567890" },
    headsDigest: "d".repeat(64),
    previousHash,
    keyId: "k".repeat(16),
    hash: String(sequence).repeat(64).slice(0, 64),
    signature: "c2lnbmF0dXJl",
  };
}

describe.each(ADAPTERS)("AuditStore contract on %s", (adapter) => {
  let store: AuditStore & MoneyPathStore & StoreLifecycle;
  const { newWallet, depositVia, depositsAt } = moneyPathHelpers(() => store);

  beforeAll(async () => {
    store = (await openTestStore(adapter, inject("motoEndpoint"))).store;
  });
  afterAll(async () => {
    await store.close();
  });

  describe("entry streams", () => {
    let wallet: Wallet;
    let entries: LedgerEntry[];
    const base = Date.UTC(2026, 0, 1, 12, 0, 0, 0);

    beforeAll(async () => {
      wallet = await newWallet();
      entries = await depositsAt(wallet, [base, base + 10, base + 10, base + 10, base + 20, base + 35]);
    });

    it("streams all entries in ascending order with their audit context intact", async () => {
      const streamed: LedgerEntry[] = [];
      for await (const e of store.streamEntries(wallet.walletId)) streamed.push(e);
      expect(streamed).toEqual(entries);
      expect(streamed[0]?.context).toEqual(ctx);
    });

    it("streams only the entries after a sequence, and nothing for an unknown wallet", async () => {
      expect((await collect(store.streamEntries(wallet.walletId, 4))).map((e) => e.sequence)).toEqual([5, 6]);
      expect(await collect(store.streamEntries(wallet.walletId, 6))).toEqual([]);
      expect(await collect(store.streamEntries(id("W")))).toEqual([]);
    });
  });

  it("streams every wallet once, with its current row", async () => {
    const a = await newWallet();
    const b = await newWallet();
    await depositVia(a.walletId, 250n);
    const rows = (await collect(store.streamWallets())).filter(
      (w) => w.walletId === a.walletId || w.walletId === b.walletId,
    );
    expect(rows.map((w) => [w.walletId, w.balance, w.version]).sort()).toEqual(
      [
        [a.walletId, 250n, 1],
        [b.walletId, 0n, 0],
      ].sort(),
    );
    expect(rows).toEqual(
      expect.arrayContaining([await store.getWallet(a.walletId), await store.getWallet(b.walletId)]),
    );
  });

  it("streams every transfer record", async () => {
    const a = await newWallet();
    const b = await newWallet();
    await depositVia(a.walletId, 500n);
    const outcome = await store.commit({
      walletIds: [a.walletId, b.walletId],
      decide: ({ wallets, now }) => {
        const from = wallets.get(a.walletId) as Wallet;
        const to = wallets.get(b.walletId) as Wallet;
        const moved = transferWithinCell(
          from,
          to,
          { transferId: id("T"), outTransactionId: id("TX"), inTransactionId: id("TX"), amount: 200n, context: ctx },
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
    if (!outcome.ok) throw new Error(`transfer not committed: ${outcome.reason}`);
    const transfer: Transfer = outcome.result;
    const streamed = (await collect(store.streamTransfers())).filter((t) => t.transferId === transfer.transferId);
    expect(streamed).toEqual([transfer]);
  });

  it("stores a snapshot's heads once and streams them in ascending walletId order", async () => {
    const snapshotId = id("S");
    const head = (walletId: string, balance: bigint): WalletHead => ({
      walletId,
      currency: "USD",
      balance,
      version: 3,
      headHash: walletId.toLowerCase().padEnd(64, "0").slice(0, 64),
    });
    const heads = [head("W-B", 2n), head("W-C", 1234567890123456789n), head("W-A", 0n)];
    await store.putSnapshotHeads(snapshotId, heads);
    expect(await collect(store.streamSnapshotHeads(snapshotId))).toEqual([heads[2], heads[0], heads[1]]);
    expect(await collect(store.streamSnapshotHeads(id("S")))).toEqual([]);
    // Write-once: a head is never replaced.
    await expect(store.putSnapshotHeads(snapshotId, [head("W-A", 99n)])).rejects.toThrow();
    expect((await collect(store.streamSnapshotHeads(snapshotId)))[0]).toEqual(heads[2]);
  });

  it("appends a checkpoint once per sequence and reads the latest, one by sequence and all oldest first", async () => {
    expect(await store.latestCheckpoint()).toBeUndefined();
    expect(await collect(store.streamCheckpoints())).toEqual([]);
    const first = checkpoint(1, id("S"), "0".repeat(64));
    const second = checkpoint(2, id("S"), first.hash);
    expect(await store.appendCheckpoint(first)).toBe(true);
    // Another replica's checkpoint with the same sequence loses, and changes nothing.
    expect(await store.appendCheckpoint({ ...first, snapshotId: id("S") })).toBe(false);
    expect(await store.appendCheckpoint(second)).toBe(true);
    expect(await store.getCheckpoint(1)).toEqual(first);
    expect(await store.getCheckpoint(2)).toEqual(second);
    expect(await store.getCheckpoint(3)).toBeUndefined();
    expect(await store.latestCheckpoint()).toEqual(second);
    expect(await collect(store.streamCheckpoints())).toEqual([first, second]);
  });
});
