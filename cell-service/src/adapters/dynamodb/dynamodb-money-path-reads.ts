import { BatchGetItemCommand, type KeysAndAttributes, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { ContentionError, type EntryPage, type IdempotencyRecord } from "../../application/ledger-store.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { backoffMs, DynamoDbPart, sleep } from "./dynamodb-handle.js";
import {
  entryFromItem,
  entryKey,
  type Item,
  idempotencyFromItem,
  idempotencyKey,
  integerValue,
  MAX_SEQUENCE,
  MAX_TIME_MS,
  ownerKey,
  stringValue,
  timeKey,
  transferFromItem,
  walletFromItem,
  walletIdFromOwnerItem,
  walletKey,
} from "./item-codec.js";
import {
  ENTRIES_BY_TIME_INDEX,
  ENTRIES_BY_TRANSACTION_INDEX,
  PENDING_SHARDS,
  PENDING_TRANSFERS_INDEX,
} from "./table-definitions.js";

/** The byTime key just below an entry's: "strictly older than the cursor" as an inclusive bound. */
function keyBelow(before: { createdAt: number; sequence: number }): string | undefined {
  if (before.sequence > 0) return timeKey(before.createdAt, Math.min(before.sequence - 1, MAX_SEQUENCE));
  return before.createdAt > 0 ? timeKey(before.createdAt - 1, MAX_SEQUENCE) : undefined;
}

function clampMs(ms: number): number {
  if (Number.isNaN(ms)) throw new Error("time bound is NaN");
  return Math.min(Math.max(ms, 0), MAX_TIME_MS);
}

/** The money path's reads (getTransfer is the handle's, shared with the migration part); commit builds on them. */
export abstract class DynamoDbMoneyPathReads extends DynamoDbPart {
  async listPendingTransfers(createdBeforeMs: number, limit: number): Promise<Transfer[]> {
    // The index is eventually consistent: fine for a retry queue, whose every action is conditional anyway.
    const found: Transfer[] = [];
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      const out = await this.measured("Query", () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.transfers,
            IndexName: PENDING_TRANSFERS_INDEX,
            KeyConditionExpression: "pendingShard = :shard AND createdAt <= :before",
            ExpressionAttributeValues: {
              ":shard": stringValue(String(shard)),
              ":before": integerValue(createdBeforeMs),
            },
            Limit: limit,
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      for (const item of out.Items ?? []) found.push(transferFromItem(item));
    }
    return found
      .filter((t) => t.status === "PENDING")
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit);
  }

  async getWallet(walletId: string): Promise<Wallet | undefined> {
    const item = await this.getItem("wallets", walletKey(walletId));
    return item && walletFromItem(item);
  }

  async getWalletIdByUser(userId: string): Promise<string | undefined> {
    const item = await this.getItem("owners", ownerKey(userId));
    return item && walletIdFromOwnerItem(item);
  }

  async finalizeIdempotency(scopeKey: string): Promise<boolean> {
    return this.conditional("UpdateItem", () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tables.idempotency,
          Key: idempotencyKey(scopeKey),
          UpdateExpression: "REMOVE #provisional",
          ConditionExpression: "#provisional = :provisional",
          ExpressionAttributeNames: { "#provisional": "provisional" },
          ExpressionAttributeValues: { ":provisional": { BOOL: true } },
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  /**
   * One BatchGetItem over the wallets and idempotency tables (both consistent): a money operation's reads before
   * it decides in one round trip instead of two. Keys DynamoDB leaves unprocessed are asked again.
   */
  async getWalletAndIdempotency(
    walletId: string,
    scopeKey: string,
  ): Promise<{ wallet: Wallet | undefined; idempotency: IdempotencyRecord | undefined }> {
    const { wallets, idempotency } = this.tables;
    let request: Record<string, KeysAndAttributes> | undefined = {
      [wallets]: { Keys: [walletKey(walletId)], ConsistentRead: true },
      [idempotency]: { Keys: [idempotencyKey(scopeKey)], ConsistentRead: true },
    };
    const found: Record<string, Item[]> = {};
    for (let round = 1; request && Object.keys(request).length > 0; round++) {
      if (round > this.maxAttempts) throw new ContentionError("DynamoDB kept leaving reads unprocessed");
      if (round > 1) await sleep(backoffMs(round - 1));
      const items: Record<string, KeysAndAttributes> = request;
      const out = await this.measured("BatchGetItem", () =>
        this.client.send(new BatchGetItemCommand({ RequestItems: items, ReturnConsumedCapacity: "TOTAL" })),
      );
      for (const [table, rows] of Object.entries(out.Responses ?? {}))
        found[table] = [...(found[table] ?? []), ...rows];
      request = out.UnprocessedKeys;
    }
    const walletItem = found[wallets]?.[0];
    const recordItem = found[idempotency]?.[0];
    return {
      wallet: walletItem && walletFromItem(walletItem),
      idempotency: recordItem && idempotencyFromItem(recordItem),
    };
  }

  async getIdempotency(scopeKey: string): Promise<IdempotencyRecord | undefined> {
    const item = await this.getItem("idempotency", idempotencyKey(scopeKey));
    return item && idempotencyFromItem(item);
  }

  async getEntryByTransactionId(walletId: string, transactionId: string): Promise<LedgerEntry | undefined> {
    const out = await this.query({
      IndexName: ENTRIES_BY_TRANSACTION_INDEX,
      KeyConditionExpression: "#w = :w AND #t = :t",
      ExpressionAttributeNames: { "#w": "walletId", "#t": "transactionId" },
      ExpressionAttributeValues: { ":w": stringValue(walletId), ":t": stringValue(transactionId) },
      Limit: 1,
    });
    const key = out.Items?.[0];
    if (!key) return undefined;
    const sequence = key.sequence?.N;
    if (sequence === undefined) throw new Error(`byTransactionId index item without sequence for ${transactionId}`);
    const item = await this.getItem("entries", entryKey(walletId, Number(sequence)));
    return item && entryFromItem(item);
  }

  async getLatestEntryAtOrBefore(walletId: string, atMs: number): Promise<LedgerEntry | undefined> {
    if (atMs < 0) return undefined;
    const out = await this.query({
      IndexName: ENTRIES_BY_TIME_INDEX,
      KeyConditionExpression: "#w = :w AND #t <= :upper",
      ExpressionAttributeNames: { "#w": "walletId", "#t": "timeKey" },
      ExpressionAttributeValues: {
        ":w": stringValue(walletId),
        ":upper": stringValue(timeKey(Math.floor(clampMs(atMs)), MAX_SEQUENCE)),
      },
      ScanIndexForward: false,
      Limit: 1,
    });
    const item = out.Items?.[0];
    return item && entryFromItem(item);
  }

  async listEntries(walletId: string, page: EntryPage): Promise<LedgerEntry[]> {
    const limit = Math.floor(page.limit);
    if (!(limit > 0)) return [];
    if ((page.toMs !== undefined && page.toMs < 0) || (page.fromMs !== undefined && page.fromMs > MAX_TIME_MS)) {
      return [];
    }
    const lower = timeKey(Math.ceil(clampMs(page.fromMs ?? 0)), 0);
    let upper = timeKey(Math.floor(clampMs(page.toMs ?? MAX_TIME_MS)), MAX_SEQUENCE);
    if (page.before) {
      const below = keyBelow(page.before);
      if (below === undefined) return [];
      if (below < upper) upper = below;
    }
    // BETWEEN with lower > upper is a ValidationException, not an empty result.
    if (lower > upper) return [];
    const entries: LedgerEntry[] = [];
    let start: Item | undefined;
    do {
      const out = await this.query({
        IndexName: ENTRIES_BY_TIME_INDEX,
        KeyConditionExpression: "#w = :w AND #t BETWEEN :lower AND :upper",
        ExpressionAttributeNames: { "#w": "walletId", "#t": "timeKey" },
        ExpressionAttributeValues: {
          ":w": stringValue(walletId),
          ":lower": stringValue(lower),
          ":upper": stringValue(upper),
        },
        ScanIndexForward: false,
        Limit: limit - entries.length,
        ExclusiveStartKey: start,
      });
      for (const item of out.Items ?? []) entries.push(entryFromItem(item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && entries.length < limit);
    return entries.slice(0, limit);
  }
}
