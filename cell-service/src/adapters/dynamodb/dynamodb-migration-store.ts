import {
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { cancellationCodes } from "@cellwallet/store-support/dynamodb";
import type {
  IdempotencyRecord,
  ImportedEntries,
  MigrationStore,
  OwnershipExpectation,
} from "../../application/ledger-store.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Ownership, UserFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { DynamoDbPart, STREAM_PAGE_SIZE } from "./dynamodb-handle.js";
import {
  entryFromItem,
  entryKey,
  entryToItem,
  type Item,
  idempotencyToItem,
  integerValue,
  ownerKey,
  ownershipToItem,
  ownerToItem,
  stringOf,
  stringValue,
  transferFromItem,
  transferToItem,
  userFenceFromOwnerItem,
  userFenceToItem,
  walletKey,
  walletToItem,
} from "./item-codec.js";
import { IDEMPOTENCY_BY_WALLET_INDEX, PENDING_SHARDS, PENDING_TRANSFERS_INDEX } from "./table-definitions.js";

/** Migration on DynamoDB: ownership and fences as conditional writes, imports as conditional transactions. */
export class DynamoDbMigrationStore extends DynamoDbPart implements MigrationStore {
  async setWalletOwnership(walletId: string, expected: OwnershipExpectation, next: Ownership): Promise<boolean> {
    const values: Item = {};
    const set: string[] = [];
    const remove: string[] = [];
    for (const [name, value] of Object.entries(ownershipToItem(next))) {
      set.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
    if (next.migrationId === undefined) remove.push("ownMigration");
    if (next.peerCellId === undefined) remove.push("ownPeer");
    values[":expectedState"] = stringValue(expected.state);
    let condition =
      expected.state === "active"
        ? "attribute_exists(walletId) AND (attribute_not_exists(ownState) OR ownState = :expectedState)"
        : "ownState = :expectedState";
    if (expected.migrationId !== undefined) {
      condition += " AND ownMigration = :expectedMigration";
      values[":expectedMigration"] = stringValue(expected.migrationId);
    }
    return this.conditional("UpdateItem", () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tables.wallets,
          Key: walletKey(walletId),
          UpdateExpression: `SET ${set.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.join(", ")}` : ""}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async getUserFence(userId: string): Promise<UserFence | undefined> {
    const item = await this.getItem("owners", ownerKey(userId));
    return item && userFenceFromOwnerItem(item);
  }

  async setUserFence(userId: string, expected: UserFence | undefined, next: UserFence | undefined): Promise<boolean> {
    const values: Item = {};
    let condition = "attribute_not_exists(userId)";
    if (expected !== undefined) {
      condition = "fenceState = :state AND fenceMigration = :migration";
      values[":state"] = stringValue(expected.state);
      values[":migration"] = stringValue(expected.migrationId);
    }
    const valuesOrNone = Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {};
    if (next === undefined) {
      if (expected === undefined) return true;
      return this.conditional("DeleteItem", () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tables.owners,
            Key: ownerKey(userId),
            ConditionExpression: condition,
            ...valuesOrNone,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
    }
    return this.conditional("PutItem", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tables.owners,
          Item: userFenceToItem({ ...next, userId }),
          ConditionExpression: condition,
          ...valuesOrNone,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async createImportedWallet(wallet: Wallet): Promise<"created" | "exists" | "user-has-wallet"> {
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.tables.wallets,
          Item: walletToItem(wallet),
          ConditionExpression: "attribute_not_exists(walletId)",
        },
      },
      {
        // An owner item without walletId is a user fence: the import replaces it.
        Put: {
          TableName: this.tables.owners,
          Item: ownerToItem(wallet.userId, wallet.walletId),
          ConditionExpression: "attribute_not_exists(userId) OR attribute_not_exists(walletId)",
        },
      },
    ];
    try {
      await this.measured("TransactWriteItems", () =>
        this.client.send(new TransactWriteItemsCommand({ TransactItems: items, ReturnConsumedCapacity: "TOTAL" })),
      );
      return "created";
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === "ConditionalCheckFailed") return "exists";
      if (codes?.[1] === "ConditionalCheckFailed") return "user-has-wallet";
      throw error;
    }
  }

  async appendImportedEntries(batch: ImportedEntries): Promise<boolean> {
    if (batch.entries.length > 99) throw new Error("at most 99 entries per imported batch (one transaction)");
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.tables.wallets,
          Item: walletToItem(batch.after),
          ConditionExpression: "#version = :expected AND ownState = :importing AND ownMigration = :migration",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: {
            ":expected": integerValue(batch.expectedVersion),
            ":importing": stringValue("importing"),
            ":migration": stringValue(batch.migrationId),
          },
        },
      },
      ...batch.entries.map(
        (entry): TransactWriteItem => ({
          Put: {
            TableName: this.tables.entries,
            Item: entryToItem(entry),
            ConditionExpression: "attribute_not_exists(walletId)",
          },
        }),
      ),
    ];
    return this.conditional("TransactWriteItems", () =>
      this.client.send(new TransactWriteItemsCommand({ TransactItems: items, ReturnConsumedCapacity: "TOTAL" })),
    );
  }

  async putImportedTransfer(transfer: Transfer, expected: Transfer | undefined): Promise<boolean> {
    return this.conditional("PutItem", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tables.transfers,
          Item: transferToItem(transfer),
          ...(expected === undefined
            ? { ConditionExpression: "attribute_not_exists(transferId)" }
            : {
                ConditionExpression: "#status = :status",
                ExpressionAttributeNames: { "#status": "status" },
                ExpressionAttributeValues: { ":status": stringValue(expected.status) },
              }),
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async putImportedIdempotency(record: IdempotencyRecord, expected: IdempotencyRecord | undefined): Promise<boolean> {
    return this.conditional("PutItem", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tables.idempotency,
          Item: idempotencyToItem(record),
          ...(expected === undefined
            ? { ConditionExpression: "attribute_not_exists(scopeKey)" }
            : {
                ConditionExpression: "#status = :status AND fingerprint = :fingerprint",
                ExpressionAttributeNames: { "#status": "status" },
                ExpressionAttributeValues: {
                  ":status": integerValue(expected.status),
                  ":fingerprint": stringValue(expected.fingerprint),
                },
              }),
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async getEntry(walletId: string, sequence: number): Promise<LedgerEntry | undefined> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
    const item = await this.getItem("entries", entryKey(walletId, sequence));
    return item && entryFromItem(item);
  }

  async *listIdempotencyKeysOfWallet(walletId: string, sinceMs = 0): AsyncIterable<string> {
    // The index is eventually consistent and keys-only: callers read the records they need consistently.
    let start: Item | undefined;
    do {
      const out = await this.measured("Query", () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.idempotency,
            IndexName: IDEMPOTENCY_BY_WALLET_INDEX,
            KeyConditionExpression: "walletId = :w AND createdAt >= :since",
            ExpressionAttributeValues: { ":w": stringValue(walletId), ":since": integerValue(Math.max(0, sinceMs)) },
            Limit: STREAM_PAGE_SIZE,
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      for (const key of out.Items ?? []) yield stringOf(key, "scopeKey");
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async listPendingTransfersFrom(walletId: string, limit: number): Promise<Transfer[]> {
    const found: Transfer[] = [];
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      let start: Item | undefined;
      do {
        const out = await this.measured("Query", () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tables.transfers,
              IndexName: PENDING_TRANSFERS_INDEX,
              KeyConditionExpression: "pendingShard = :shard",
              FilterExpression: "fromWalletId = :w",
              ExpressionAttributeValues: { ":shard": stringValue(String(shard)), ":w": stringValue(walletId) },
              ExclusiveStartKey: start,
              ReturnConsumedCapacity: "TOTAL",
            }),
          ),
        );
        for (const item of out.Items ?? []) found.push(transferFromItem(item));
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    }
    // The index lags: confirm each one with a consistent read.
    const confirmed: Transfer[] = [];
    for (const t of found.sort((a, b) => a.createdAt - b.createdAt)) {
      const current = await this.getTransfer(t.transferId);
      if (current?.status === "PENDING") confirmed.push(current);
      if (confirmed.length >= limit) break;
    }
    return confirmed;
  }
}
