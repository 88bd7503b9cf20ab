import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import Database from "better-sqlite3";
import { entryToItem, timeKey, walletToItem } from "../cell-service/src/adapters/dynamodb/item-codec.js";
import { cellTableNames } from "../cell-service/src/adapters/dynamodb/table-definitions.js";
import { entryParams, walletParams } from "../cell-service/src/adapters/sqlite/rows.js";
import { type Checkpoint, checkpointToJson } from "../cell-service/src/domain/checkpoint.js";
import type { LedgerEntry } from "../cell-service/src/domain/ledger-entry.js";
import type { Wallet } from "../cell-service/src/domain/wallet.js";
import { dynamoClient, type TestStore } from "./stores.js";

/**
 * An attacker with direct write access to a cell's store, bypassing the service:
 * raw SQL on the SQLite file (after dropping the append-only triggers, as anyone
 * with the file could), raw PutItem/DeleteItem on the DynamoDB tables.
 */
export interface Tamperer {
  /** Adds `delta` minor units to one entry's amount (nothing else changes). */
  changeEntryAmount(walletId: string, sequence: number, delta: bigint): Promise<void>;
  deleteEntry(walletId: string, sequence: number): Promise<void>;
  changeWalletBalance(walletId: string, delta: bigint): Promise<void>;
  /** Swaps the positions of two entries (their sequence numbers are exchanged). */
  swapEntries(walletId: string, a: number, b: number): Promise<void>;
  /** Overwrites entries (same keys) and the wallet row: a consistent rewrite of a chain. */
  rewriteWallet(wallet: Wallet, entries: LedgerEntry[]): Promise<void>;
  /** Removes a wallet row and all its entries. */
  deleteWallet(walletId: string, entries: number): Promise<void>;
  /** Writes a checkpoint over the stored one with the same sequence (or adds it). */
  putCheckpoint(checkpoint: Checkpoint): Promise<void>;
  deleteCheckpoint(sequence: number): Promise<void>;
  /** Adds `delta` to one wallet's balance in a stored snapshot. */
  changeSnapshotBalance(snapshotId: string, walletId: string, delta: bigint): Promise<void>;
  close(): Promise<void>;
}

export function openTamperer(testStore: TestStore, motoEndpoint: string): Tamperer {
  const path = testStore.env.WALLET_SQLITE_PATH;
  if (path !== undefined) return sqliteTamperer(path);
  return dynamoTamperer(dynamoClient(motoEndpoint), testStore.cellId);
}

const APPEND_ONLY_TRIGGERS = [
  "entries_are_append_only_update",
  "entries_are_append_only_delete",
  "checkpoints_are_append_only_update",
  "checkpoints_are_append_only_delete",
  "snapshot_heads_are_append_only_update",
  "snapshot_heads_are_append_only_delete",
];

function sqliteTamperer(path: string): Tamperer {
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  /**
   * Drops the append-only triggers and tampers in one write transaction. A replica or writer thread that opens
   * the file meanwhile re-creates missing triggers (CREATE TRIGGER IF NOT EXISTS, as a restarted cell should):
   * dropped once up front, a late opener under load put them back before the UPDATE ran.
   */
  const tamper = <T>(write: () => T): T =>
    db.transaction(() => {
      for (const trigger of APPEND_ONLY_TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
      return write();
    })();
  const one = (changes: number, what: string) => {
    if (changes !== 1) throw new Error(`no such ${what}`);
  };
  return {
    async changeEntryAmount(walletId, sequence, delta) {
      tamper(() =>
        one(
          db
            .prepare("UPDATE entries SET amount = amount + ? WHERE wallet_id = ? AND sequence = ?")
            .run(delta, walletId, sequence).changes,
          "entry",
        ),
      );
    },
    async deleteEntry(walletId, sequence) {
      tamper(() =>
        one(
          db.prepare("DELETE FROM entries WHERE wallet_id = ? AND sequence = ?").run(walletId, sequence).changes,
          "entry",
        ),
      );
    },
    async changeWalletBalance(walletId, delta) {
      tamper(() =>
        one(
          db.prepare("UPDATE wallets SET balance = balance + ? WHERE wallet_id = ?").run(delta, walletId).changes,
          "wallet",
        ),
      );
    },
    async swapEntries(walletId, a, b) {
      const move = db.prepare("UPDATE entries SET sequence = ? WHERE wallet_id = ? AND sequence = ?");
      tamper(() => {
        move.run(1_000_000_000, walletId, a);
        move.run(a, walletId, b);
        move.run(b, walletId, 1_000_000_000);
      });
    },
    async rewriteWallet(wallet, entries) {
      tamper(() => {
        const update = db.prepare(
          `UPDATE entries SET amount = @amount, balance_after = @balance_after, prev_hash = @prev_hash, hash = @hash
           WHERE wallet_id = @wallet_id AND sequence = @sequence`,
        );
        const row = db.prepare(
          "UPDATE wallets SET balance = @balance, version = @version, head_hash = @head_hash WHERE wallet_id = @wallet_id",
        );
        for (const entry of entries) {
          const { context: _c, ...params } = entryParams(entry);
          one(update.run(params).changes, "entry");
        }
        const { user_id: _u, ...w } = walletParams(wallet);
        row.run({ wallet_id: w.wallet_id, balance: w.balance, version: w.version, head_hash: w.head_hash });
      });
    },
    async deleteWallet(walletId) {
      tamper(() => {
        db.prepare("DELETE FROM entries WHERE wallet_id = ?").run(walletId);
        db.prepare("DELETE FROM wallets WHERE wallet_id = ?").run(walletId);
      });
    },
    async putCheckpoint(checkpoint) {
      tamper(() =>
        db
          .prepare("INSERT OR REPLACE INTO checkpoints (sequence, body) VALUES (?, ?)")
          .run(checkpoint.sequence, checkpointToJson(checkpoint)),
      );
    },
    async deleteCheckpoint(sequence) {
      tamper(() => db.prepare("DELETE FROM checkpoints WHERE sequence = ?").run(sequence));
    },
    async changeSnapshotBalance(snapshotId, walletId, delta) {
      tamper(() =>
        one(
          db
            .prepare("UPDATE snapshot_heads SET balance = balance + ? WHERE snapshot_id = ? AND wallet_id = ?")
            .run(delta, snapshotId, walletId).changes,
          "head",
        ),
      );
    },
    async close() {
      db.close();
    },
  };
}

function dynamoTamperer(client: DynamoDBClient, cellId: string): Tamperer {
  const tables = cellTableNames(cellId);
  const entryKey = (walletId: string, sequence: number) => ({
    walletId: { S: walletId },
    sequence: { N: String(sequence) },
  });
  const getEntry = async (walletId: string, sequence: number) => {
    const out = await client.send(
      new GetItemCommand({ TableName: tables.entries, Key: entryKey(walletId, sequence), ConsistentRead: true }),
    );
    if (!out.Item) throw new Error("no such entry");
    return out.Item;
  };
  return {
    async changeEntryAmount(walletId, sequence, delta) {
      const item = await getEntry(walletId, sequence);
      item.amount = { N: String(BigInt(item.amount?.N ?? "0") + delta) };
      await client.send(new PutItemCommand({ TableName: tables.entries, Item: item }));
    },
    async deleteEntry(walletId, sequence) {
      await getEntry(walletId, sequence);
      await client.send(new DeleteItemCommand({ TableName: tables.entries, Key: entryKey(walletId, sequence) }));
    },
    async changeWalletBalance(walletId, delta) {
      const out = await client.send(
        new GetItemCommand({ TableName: tables.wallets, Key: { walletId: { S: walletId } }, ConsistentRead: true }),
      );
      if (!out.Item) throw new Error("no such wallet");
      out.Item.balance = { N: String(BigInt(out.Item.balance?.N ?? "0") + delta) };
      await client.send(new PutItemCommand({ TableName: tables.wallets, Item: out.Item }));
    },
    async swapEntries(walletId, a, b) {
      const itemA = await getEntry(walletId, a);
      const itemB = await getEntry(walletId, b);
      const placed = (item: typeof itemA, sequence: number) => ({
        ...item,
        sequence: { N: String(sequence) },
        timeKey: { S: timeKey(Number(item.createdAt?.N ?? "0"), sequence) },
      });
      await client.send(new PutItemCommand({ TableName: tables.entries, Item: placed(itemA, b) }));
      await client.send(new PutItemCommand({ TableName: tables.entries, Item: placed(itemB, a) }));
    },
    async rewriteWallet(wallet, entries) {
      for (const entry of entries) {
        await client.send(new PutItemCommand({ TableName: tables.entries, Item: entryToItem(entry) }));
      }
      await client.send(new PutItemCommand({ TableName: tables.wallets, Item: walletToItem(wallet) }));
    },
    async deleteWallet(walletId, entries) {
      for (let sequence = 1; sequence <= entries; sequence++) {
        await client.send(new DeleteItemCommand({ TableName: tables.entries, Key: entryKey(walletId, sequence) }));
      }
      await client.send(new DeleteItemCommand({ TableName: tables.wallets, Key: { walletId: { S: walletId } } }));
    },
    async putCheckpoint(checkpoint) {
      await client.send(
        new PutItemCommand({
          TableName: tables.checkpoints,
          Item: {
            cell: { S: "cell" },
            sequence: { N: String(checkpoint.sequence) },
            body: { S: checkpointToJson(checkpoint) },
          },
        }),
      );
    },
    async deleteCheckpoint(sequence) {
      await client.send(
        new DeleteItemCommand({
          TableName: tables.checkpoints,
          Key: { cell: { S: "cell" }, sequence: { N: String(sequence) } },
        }),
      );
    },
    async changeSnapshotBalance(snapshotId, walletId, delta) {
      const key = { snapshotId: { S: snapshotId }, walletId: { S: walletId } };
      const out = await client.send(
        new GetItemCommand({ TableName: tables.snapshots, Key: key, ConsistentRead: true }),
      );
      if (!out.Item) throw new Error("no such head");
      out.Item.balance = { N: String(BigInt(out.Item.balance?.N ?? "0") + delta) };
      await client.send(new PutItemCommand({ TableName: tables.snapshots, Item: out.Item }));
    },
    async close() {
      client.destroy();
    },
  };
}
