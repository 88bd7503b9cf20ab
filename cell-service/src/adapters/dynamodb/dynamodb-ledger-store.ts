import {
  BatchGetItemCommand,
  type ConsumedCapacity,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  type Put,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  type Changes,
  type CommitOutcome,
  type CommitRequest,
  ContentionError,
  type EntryPage,
  type IdempotencyRecord,
  type ImportedEntries,
  type LedgerStore,
  type OwnershipExpectation,
} from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import { type Checkpoint, checkpointFromJson, checkpointToJson, type WalletHead } from "../../domain/checkpoint.js";
import type { LedgerEntry } from "../../domain/ledger-entry.js";
import { type Fence, type Ownership, type UserFence, writeFence } from "../../domain/ownership.js";
import type { Transfer } from "../../domain/transfer.js";
import type { Wallet } from "../../domain/wallet.js";
import {
  bigintValue,
  entryFromItem,
  entryKey,
  entryToItem,
  headFromItem,
  type Item,
  idempotencyFromItem,
  idempotencyKey,
  idempotencyToItem,
  integerValue,
  MAX_SEQUENCE,
  MAX_TIME_MS,
  ownerKey,
  ownershipToItem,
  ownerToItem,
  stringOf,
  stringValue,
  timeKey,
  transferFromItem,
  transferKey,
  transferToItem,
  userFenceFromOwnerItem,
  userFenceToItem,
  walletFromItem,
  walletIdFromOwnerItem,
  walletKey,
  walletToItem,
} from "./item-codec.js";
import {
  type CellTableName,
  cellTableNames,
  ENTRIES_BY_TIME_INDEX,
  ENTRIES_BY_TRANSACTION_INDEX,
  IDEMPOTENCY_BY_WALLET_INDEX,
  PENDING_SHARDS,
  PENDING_TRANSFERS_INDEX,
} from "./table-definitions.js";
import { cancellationCodes, classifyWriteFailure, type ItemRole, isRetryableError } from "./write-failures.js";

export interface DynamoDbLedgerStoreOptions {
  cellId: string;
  tablePrefix?: string;
  /** A caller-owned client (not destroyed by close()); otherwise one is created from endpoint/region. */
  client?: DynamoDBClient;
  /** Local emulators (moto, DynamoDB Local); absent in AWS. */
  endpoint?: string;
  region?: string;
  /** Read-decide-write attempts of one commit before ContentionError. */
  maxAttempts?: number;
  /** Every DynamoDB call, with the capacity units it consumed (0 when unreported or failed). */
  onCall?: (operation: string, capacityUnits: number) => void;
}

const DEFAULT_MAX_ATTEMPTS = 12;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;
const BATCH_GET_LIMIT = 100;
const STREAM_PAGE_SIZE = 500;

const RETRY = Symbol("retry");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: contenders spread out instead of colliding again in lockstep. */
function backoffMs(retry: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
}

function capacityOf(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): number {
  const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

export function createDynamoDbClient(options: { endpoint?: string; region?: string }): DynamoDBClient {
  // Socket timeouts turn a hung connection into a retry; the SDK resends with the same ClientRequestToken.
  const config: DynamoDBClientConfig = { requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
    if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = { accessKeyId: "test", secretAccessKey: "test" };
    }
  } else if (options.region !== undefined) {
    config.region = options.region;
  }
  return new DynamoDBClient(config);
}

/** Attempts the SDK made beyond the first (throttling, 5xx and network errors are retried by the SDK). */
function sdkRetriesOf(outcome: unknown): number {
  const attempts = (outcome as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return attempts !== undefined && attempts > 1 ? attempts - 1 : 0;
}

/** Refused for throughput: a throttling error, or a transaction cancelled because one of its items was. */
function isThrottling(error: unknown): boolean {
  const name = error instanceof Error ? error.name : "";
  if (name === "ProvisionedThroughputExceededException" || name === "ThrottlingException") return true;
  if (name === "RequestLimitExceeded") return true;
  return (cancellationCodes(error) ?? []).some((c) => c === "ThrottlingError" || c === "ProvisionedThroughputExceeded");
}

/** The byTime key just below an entry's: "strictly older than the cursor" as an inclusive bound. */
function keyBelow(before: { createdAt: number; sequence: number }): string | undefined {
  if (before.sequence > 0) return timeKey(before.createdAt, Math.min(before.sequence - 1, MAX_SEQUENCE));
  return before.createdAt > 0 ? timeKey(before.createdAt - 1, MAX_SEQUENCE) : undefined;
}

function clampMs(ms: number): number {
  if (Number.isNaN(ms)) throw new Error("time bound is NaN");
  return Math.min(Math.max(ms, 0), MAX_TIME_MS);
}

interface WritePlan {
  items: TransactWriteItem[];
  roles: ItemRole[];
}

export class DynamoDbLedgerStore implements LedgerStore {
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly tables: Record<CellTableName, string>;
  private readonly maxAttempts: number;
  private readonly onCall: ((operation: string, capacityUnits: number) => void) | undefined;
  private closed = false;
  private observer: StoreObserver | undefined;

  constructor(options: DynamoDbLedgerStoreOptions) {
    this.tables = cellTableNames(options.cellId, options.tablePrefix);
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be >= 1: ${maxAttempts}`);
    this.maxAttempts = maxAttempts;
    this.onCall = options.onCall;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createDynamoDbClient(options);
  }

  observe(observer: StoreObserver): void {
    this.observer = observer;
  }

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

  private async getItem(table: CellTableName, key: Item): Promise<Item | undefined> {
    const out = await this.measured("GetItem", () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tables[table],
          Key: key,
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    return out.Item;
  }

  private async query(input: Omit<QueryCommandInput, "TableName" | "ConsistentRead" | "ReturnConsumedCapacity">) {
    return this.measured("Query", () =>
      this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tables.entries,
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  /** Every DynamoDB call of the store: timed for metrics (traced by the AWS SDK's instrumentation when on). */
  private async measured<O extends object>(operation: string, call: () => Promise<O>): Promise<O> {
    let out: O;
    const started = performance.now();
    try {
      out = await call();
    } catch (error) {
      this.observer?.dynamoDbCall?.(
        operation,
        (performance.now() - started) / 1000,
        sdkRetriesOf(error),
        isThrottling(error),
      );
      this.report(operation, 0);
      throw error;
    }
    this.observer?.dynamoDbCall?.(operation, (performance.now() - started) / 1000, sdkRetriesOf(out), false);
    this.report(
      operation,
      capacityOf((out as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity),
    );
    return out;
  }

  private report(operation: string, capacityUnits: number): void {
    try {
      this.onCall?.(operation, capacityUnits);
    } catch {
      // Metrics must never turn a committed write into a reported failure.
    }
  }

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

  async getIdempotency(scopeKey: string): Promise<IdempotencyRecord | undefined> {
    const item = await this.getItem("idempotency", idempotencyKey(scopeKey));
    return item && idempotencyFromItem(item);
  }

  async getTransfer(transferId: string): Promise<Transfer | undefined> {
    const item = await this.getItem("transfers", transferKey(transferId));
    return item && transferFromItem(item);
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

  /** Runs a conditional write: false when its condition did not hold. */
  private async conditional(operation: string, call: () => Promise<object>): Promise<boolean> {
    try {
      await this.measured(operation, call);
      return true;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "ConditionalCheckFailedException" || name === "TransactionCanceledException") return false;
      throw error;
    }
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

  async ping(): Promise<void> {
    await this.measured("DescribeTable", () =>
      this.client.send(new DescribeTableCommand({ TableName: this.tables.wallets })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }
}

export function createDynamoDbLedgerStore(options: DynamoDbLedgerStoreOptions): LedgerStore {
  return new DynamoDbLedgerStore(options);
}
