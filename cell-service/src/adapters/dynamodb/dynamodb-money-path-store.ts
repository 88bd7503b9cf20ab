import {
  BatchGetItemCommand,
  type Put,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { isTransientError as isRetryableError } from "@cellwallet/store-support/dynamodb";
import {
  type Changes,
  type CommitOutcome,
  type CommitRequest,
  ContentionError,
  type MoneyPathStore,
} from "../../application/ledger-store.js";
import { type Fence, writeFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import { backoffMs, sleep } from "./dynamodb-handle.js";
import { DynamoDbMoneyPathReads } from "./dynamodb-money-path-reads.js";
import {
  bigintValue,
  entryToItem,
  type Item,
  idempotencyToItem,
  integerValue,
  ownerKey,
  ownerToItem,
  stringValue,
  transferFromItem,
  transferKey,
  transferToItem,
  userFenceFromOwnerItem,
  walletFromItem,
  walletKey,
  walletToItem,
} from "./item-codec.js";
import type { CellTableName } from "./table-definitions.js";
import { classifyWriteFailure, type ItemRole } from "./write-failures.js";

const BATCH_GET_LIMIT = 100;

const RETRY = Symbol("retry");

interface WritePlan {
  items: TransactWriteItem[];
  roles: ItemRole[];
}

/**
 * The money path on DynamoDB: read the wallets consistently, decide, and write the whole change set in one
 * conditional TransactWriteItems; a lost race is retried from the read with full-jitter backoff.
 */
export class DynamoDbMoneyPathStore extends DynamoDbMoneyPathReads implements MoneyPathStore {
  async commit<T>(request: CommitRequest<T>): Promise<CommitOutcome<T>> {
    const walletIds = [...new Set(request.walletIds)];
    // The wallets the caller has just read (authorisation, strongly consistent) stand in for the first read:
    // every wallet write below is conditional on the version read, so a stale one only costs a cancelled
    // transaction, and then the attempts below read afresh. Saves a GetItem/BatchGetItem per operation.
    const known = new Map((request.known ?? []).map((w) => [w.walletId, w]));
    if (walletIds.length > 0 && walletIds.every((id) => known.has(id))) {
      const outcome = await this.attempt(request, walletIds, known);
      if (outcome !== RETRY) return outcome;
    }
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.observer?.contentionRetry?.();
        await sleep(backoffMs(attempt - 1));
      }
      const outcome = await this.attempt(request, walletIds);
      if (outcome !== RETRY) return outcome;
    }
    throw new ContentionError();
  }

  /** `known`: decide on these wallets instead of reading them; RETRY unless every one of them is written. */
  private async attempt<T>(
    request: CommitRequest<T>,
    walletIds: string[],
    known?: ReadonlyMap<string, Wallet>,
  ): Promise<CommitOutcome<T> | typeof RETRY> {
    let wallets: Map<string, Wallet>;
    const transfers = new Map<string, Transfer>();
    try {
      wallets = known ? new Map(known) : await this.readWallets(walletIds);
      for (const id of new Set(request.transferIds ?? [])) {
        const item = await this.getItem("transfers", transferKey(id));
        if (item) transfers.set(id, transferFromItem(item));
      }
    } catch (error) {
      if (isRetryableError(error)) return RETRY;
      throw error;
    }
    for (const wallet of wallets.values()) {
      const fence = writeFence(wallet.walletId, wallet.ownership, request.allowFrozen);
      // A fence seen only in the caller's earlier read is confirmed by a fresh one.
      if (fence) return known ? RETRY : { ok: false, reason: "fenced", fence };
    }
    // As late as possible: entry times must not be older than any write that could precede this one.
    const now = Date.now();
    const { changes, result } = request.decide({ wallets, transfers, now });
    // Only a decision that writes every wallet it saw, each conditional on its version, may rest on the earlier
    // read; any other (a refusal, a replay) is decided again on a fresh read.
    const updated = new Set((changes.walletUpdates ?? []).map((u) => u.wallet.walletId));
    if (known && !walletIds.every((id) => updated.has(id))) return RETRY;
    const plan = this.plan(changes, wallets, request.allowFrozen === true);
    if (plan.items.length === 0) return { ok: true, result };
    try {
      await this.measured("TransactWriteItems", () =>
        this.client.send(new TransactWriteItemsCommand({ TransactItems: plan.items, ReturnConsumedCapacity: "TOTAL" })),
      );
      return { ok: true, result };
    } catch (error) {
      const verdict = classifyWriteFailure(error, plan.roles);
      if (verdict === "user-has-wallet" && changes.newWallet) {
        // The owner item may be a migration's user fence rather than another wallet.
        const fence = await this.userFenceOf(changes.newWallet.userId);
        if (fence) return { ok: false, reason: "fenced", fence };
      }
      if (verdict === "idempotency-exists" || verdict === "idempotency-final" || verdict === "user-has-wallet")
        return { ok: false, reason: verdict };
      if (verdict === "retry") return RETRY;
      throw error;
    }
  }

  private async userFenceOf(userId: string): Promise<Fence | undefined> {
    const item = await this.getItem("owners", ownerKey(userId));
    const fence = item && userFenceFromOwnerItem(item);
    if (!fence) return undefined;
    return { state: fence.state, userId, ...(fence.state === "moved" ? { movedTo: fence.targetCellId } : {}) };
  }

  private plan(changes: Changes, read: ReadonlyMap<string, Wallet>, allowFrozen: boolean): WritePlan {
    const plan: WritePlan = { items: [], roles: [] };
    const put = (role: ItemRole, table: CellTableName, item: Item, condition: Omit<Put, "Item" | "TableName">) => {
      plan.items.push({ Put: { ...condition, TableName: this.tables[table], Item: item } });
      plan.roles.push(role);
    };
    if (changes.newWallet) {
      const wallet = changes.newWallet;
      put("new-wallet", "wallets", walletToItem(wallet), { ConditionExpression: "attribute_not_exists(walletId)" });
      put("owner", "owners", ownerToItem(wallet.userId, wallet.walletId), {
        ConditionExpression: "attribute_not_exists(userId)",
      });
    }
    // The ownership check rides on the wallet item's own condition: no extra call on the money path.
    // Items written before migrations have no ownState: active.
    const owned = allowFrozen
      ? "(attribute_not_exists(ownState) OR ownState IN (:active, :frozen))"
      : "(attribute_not_exists(ownState) OR ownState = :active)";
    const ownedValues: Item = allowFrozen
      ? { ":active": stringValue("active"), ":frozen": stringValue("frozen") }
      : { ":active": stringValue("active") };
    const updated = new Set((changes.walletUpdates ?? []).map((u) => u.wallet.walletId));
    const writes = (changes.entries?.length ?? 0) + (changes.transfers?.length ?? 0) > 0 || changes.idempotency;
    if (writes || changes.idempotencyUpdate) {
      for (const walletId of read.keys()) {
        if (updated.has(walletId)) continue;
        plan.items.push({
          ConditionCheck: {
            TableName: this.tables.wallets,
            Key: walletKey(walletId),
            ConditionExpression: owned,
            ExpressionAttributeValues: ownedValues,
          },
        });
        plan.roles.push("wallet-check");
      }
    }
    for (const update of changes.walletUpdates ?? []) {
      if (update.wallet.balance < 0n)
        throw new Error(`refusing to store a negative balance for ${update.wallet.walletId}`);
      const values: Item = { ":expected": integerValue(update.expectedVersion), ...ownedValues };
      let condition = `#version = :expected AND ${owned}`;
      // Defence in depth: the domain already refused overdrafts; the store refuses them again.
      if (update.debit !== undefined) {
        values[":debit"] = bigintValue(update.debit);
        condition += " AND #balance >= :debit";
      }
      put("wallet-update", "wallets", walletToItem(update.wallet), {
        ConditionExpression: condition,
        ExpressionAttributeNames:
          update.debit === undefined ? { "#version": "version" } : { "#version": "version", "#balance": "balance" },
        ExpressionAttributeValues: values,
      });
    }
    for (const entry of changes.entries ?? []) {
      put("entry", "entries", entryToItem(entry), { ConditionExpression: "attribute_not_exists(walletId)" });
    }
    for (const { transfer, expectedStatus } of changes.transfers ?? []) {
      put(
        "transfer",
        "transfers",
        transferToItem(transfer),
        expectedStatus === undefined
          ? { ConditionExpression: "attribute_not_exists(transferId)" }
          : {
              ConditionExpression: "#status = :expectedStatus",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":expectedStatus": stringValue(expectedStatus) },
            },
      );
    }
    if (changes.idempotency) {
      put("idempotency", "idempotency", idempotencyToItem(changes.idempotency), {
        ConditionExpression: "attribute_not_exists(scopeKey)",
      });
    }
    if (changes.idempotencyUpdate) {
      const { record } = changes.idempotencyUpdate;
      put("idempotency-update", "idempotency", idempotencyToItem(record), {
        ConditionExpression: "#provisional = :provisional AND fingerprint = :fingerprint",
        ExpressionAttributeNames: { "#provisional": "provisional" },
        ExpressionAttributeValues: {
          ":provisional": { BOOL: true },
          ":fingerprint": stringValue(record.fingerprint),
        },
      });
    }
    return plan;
  }

  private async readWallets(walletIds: string[]): Promise<Map<string, Wallet>> {
    const wallets = new Map<string, Wallet>();
    if (walletIds.length === 1 && walletIds[0] !== undefined) {
      const item = await this.getItem("wallets", walletKey(walletIds[0]));
      if (item) wallets.set(walletIds[0], walletFromItem(item));
      return wallets;
    }
    for (let i = 0; i < walletIds.length; i += BATCH_GET_LIMIT) {
      for (const item of await this.batchGetWallets(walletIds.slice(i, i + BATCH_GET_LIMIT))) {
        const wallet = walletFromItem(item);
        wallets.set(wallet.walletId, wallet);
      }
    }
    return wallets;
  }

  private async batchGetWallets(walletIds: string[]): Promise<Item[]> {
    const table = this.tables.wallets;
    const found: Item[] = [];
    let keys: Item[] = walletIds.map(walletKey);
    for (let round = 1; keys.length > 0; round++) {
      if (round > this.maxAttempts) throw new ContentionError("DynamoDB kept leaving wallet reads unprocessed");
      if (round > 1) await sleep(backoffMs(round - 1));
      const out = await this.measured("BatchGetItem", () =>
        this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [table]: { Keys: keys, ConsistentRead: true } },
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      found.push(...(out.Responses?.[table] ?? []));
      keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
    return found;
  }
}
