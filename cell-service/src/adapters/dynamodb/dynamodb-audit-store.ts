import {
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import type { AuditStore } from "../../application/ledger-store.js";
import { type Checkpoint, checkpointFromJson, checkpointToJson, type WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { DynamoDbPart, STREAM_PAGE_SIZE } from "./dynamodb-handle.js";
import {
  bigintValue,
  entryFromItem,
  headFromItem,
  type Item,
  integerValue,
  stringOf,
  stringValue,
  transferFromItem,
  walletFromItem,
} from "./item-codec.js";

/** Audit on DynamoDB: whole-cell streams (consistent scans and queries in pages), snapshots and checkpoints. */
export class DynamoDbAuditStore extends DynamoDbPart implements AuditStore {
  async *streamEntries(walletId: string, afterSequence = 0): AsyncIterable<LedgerEntry> {
    let start: Item | undefined;
    do {
      const out = await this.query({
        KeyConditionExpression: "#w = :w AND #s > :after",
        ExpressionAttributeNames: { "#w": "walletId", "#s": "sequence" },
        ExpressionAttributeValues: { ":w": stringValue(walletId), ":after": integerValue(afterSequence) },
        ScanIndexForward: true,
        Limit: STREAM_PAGE_SIZE,
        ExclusiveStartKey: start,
      });
      for (const item of out.Items ?? []) yield entryFromItem(item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async *streamWallets(): AsyncIterable<Wallet> {
    let start: Item | undefined;
    do {
      const out = await this.measured("Scan", () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tables.wallets,
            ConsistentRead: true,
            Limit: STREAM_PAGE_SIZE,
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      for (const item of out.Items ?? []) yield walletFromItem(item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async *streamTransfers(): AsyncIterable<Transfer> {
    let start: Item | undefined;
    do {
      const out = await this.measured("Scan", () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tables.transfers,
            ConsistentRead: true,
            Limit: STREAM_PAGE_SIZE,
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      for (const item of out.Items ?? []) yield transferFromItem(item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async putSnapshotHeads(snapshotId: string, heads: readonly WalletHead[]): Promise<void> {
    // TransactWriteItems of conditional Puts: the tables deny BatchWriteItem (it can carry deletes).
    for (let i = 0; i < heads.length; i += 100) {
      const items: TransactWriteItem[] = heads.slice(i, i + 100).map((h) => ({
        Put: {
          TableName: this.tables.snapshots,
          Item: {
            snapshotId: stringValue(snapshotId),
            walletId: stringValue(h.walletId),
            currency: stringValue(h.currency),
            balance: bigintValue(h.balance),
            version: integerValue(h.version),
            headHash: stringValue(h.headHash),
          },
          ConditionExpression: "attribute_not_exists(walletId)",
        },
      }));
      await this.measured("TransactWriteItems", () =>
        this.client.send(new TransactWriteItemsCommand({ TransactItems: items, ReturnConsumedCapacity: "TOTAL" })),
      );
    }
  }

  async *streamSnapshotHeads(snapshotId: string): AsyncIterable<WalletHead> {
    let start: Item | undefined;
    do {
      const out = await this.measured("Query", () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.snapshots,
            KeyConditionExpression: "#s = :s",
            ExpressionAttributeNames: { "#s": "snapshotId" },
            ExpressionAttributeValues: { ":s": stringValue(snapshotId) },
            ConsistentRead: true,
            Limit: STREAM_PAGE_SIZE,
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      for (const item of out.Items ?? []) yield headFromItem(item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async appendCheckpoint(checkpoint: Checkpoint): Promise<boolean> {
    try {
      await this.measured("PutItem", () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tables.checkpoints,
            Item: {
              cell: stringValue("cell"),
              sequence: integerValue(checkpoint.sequence),
              body: stringValue(checkpointToJson(checkpoint)),
            },
            ConditionExpression: "attribute_not_exists(#s)",
            ExpressionAttributeNames: { "#s": "sequence" },
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  private async checkpointPage(ascending: boolean, limit: number, start?: Item) {
    return this.measured("Query", () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tables.checkpoints,
          KeyConditionExpression: "#c = :c",
          ExpressionAttributeNames: { "#c": "cell" },
          ExpressionAttributeValues: { ":c": stringValue("cell") },
          ConsistentRead: true,
          ScanIndexForward: ascending,
          Limit: limit,
          ExclusiveStartKey: start,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async *streamCheckpoints(): AsyncIterable<Checkpoint> {
    let start: Item | undefined;
    do {
      const out = await this.checkpointPage(true, 100, start);
      for (const item of out.Items ?? []) yield checkpointFromJson(stringOf(item, "body"));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const item = (await this.checkpointPage(false, 1)).Items?.[0];
    return item && checkpointFromJson(stringOf(item, "body"));
  }

  async getCheckpoint(sequence: number): Promise<Checkpoint | undefined> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
    const item = await this.getItem("checkpoints", { cell: stringValue("cell"), sequence: integerValue(sequence) });
    return item && checkpointFromJson(stringOf(item, "body"));
  }
}
