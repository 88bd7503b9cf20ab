import { randomUUID } from "node:crypto";
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import type { AuditContext } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDynamoDbLedgerStore } from "../src/adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../src/adapters/dynamodb/ensure-tables.js";
import { entryToItem } from "../src/adapters/dynamodb/item-codec.js";
import { CELL_TABLE_NAMES, CELL_TABLES, cellTableNames } from "../src/adapters/dynamodb/table-definitions.js";
import { classifyWriteFailure } from "../src/adapters/dynamodb/write-failures.js";
import {
  type CommitRequest,
  ContentionError,
  type IdempotencyRecord,
  type LedgerStore,
} from "../src/application/ledger-store.js";
import { type LedgerEntry, post } from "../src/domain/ledger-entry.js";
import type { Transfer } from "../src/domain/transfer.js";
import { openWallet, type Wallet } from "../src/domain/wallet.js";

const endpoint = inject("motoEndpoint");
const cellId = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const tables = cellTableNames(cellId);
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const context: AuditContext = { principal: "tester", scopes: ["wallet"], requestId: "req-1" };

let admin: DynamoDBClient;
let store: LedgerStore;

beforeAll(async () => {
  admin = new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
  // Two concurrent callers: the loser of each CreateTable race must simply wait.
  await Promise.all([ensureCellTables(admin, cellId), ensureCellTables(admin, cellId)]);
  await ensureCellTables(admin, cellId);
  store = createDynamoDbLedgerStore({ cellId, endpoint });
});

afterAll(async () => {
  await store?.close();
  admin?.destroy();
});

const id = () => randomUUID();

async function createWallet(target: LedgerStore = store): Promise<Wallet> {
  const walletId = id();
  const outcome = await target.commit({
    walletIds: [],
    decide: ({ now }) => {
      const wallet = openWallet(walletId, `user-${walletId}`, "USD", now);
      return { changes: { newWallet: wallet }, result: wallet };
    },
  });
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.result;
}

/** A deposit as the use cases build it; `at` pins createdAt to test same-millisecond entries. */
function deposit(
  walletId: string,
  amount: bigint,
  options: { at?: number; count?: number } = {},
): CommitRequest<LedgerEntry[]> {
  return {
    walletIds: [walletId],
    decide: ({ wallets, now }) => {
      const start = wallets.get(walletId);
      if (!start) throw new Error("wallet missing");
      let wallet = start;
      const entries: LedgerEntry[] = [];
      for (let i = 0; i < (options.count ?? 1); i++) {
        const posted = post(wallet, { transactionId: id(), type: "DEPOSIT", amount, context }, options.at ?? now);
        if (!posted.ok) throw new Error(posted.problem.detail);
        wallet = posted.value.wallet;
        entries.push(posted.value.entry);
      }
      return { changes: { walletUpdates: [{ wallet, expectedVersion: start.version }], entries }, result: entries };
    },
  };
}

async function commitOk<T>(request: CommitRequest<T>, target: LedgerStore = store): Promise<T> {
  const outcome = await target.commit(request);
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.result;
}

async function rawItem(table: string, key: Record<string, { S: string } | { N: string }>) {
  return (await admin.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

describe("tables", () => {
  const keyNames = (t: TableDescription) => (t.KeySchema ?? []).map((k) => [k.AttributeName, k.KeyType]);

  it.each(CELL_TABLE_NAMES)("creates %s exactly as CELL_TABLES describes", async (logical) => {
    const definition = CELL_TABLES[logical];
    const table = (await admin.send(new DescribeTableCommand({ TableName: tables[logical] }))).Table;
    if (!table) throw new Error("no table");
    expect(table.TableName).toBe(`cellwallet-${cellId}-${logical}`);
    expect(table.TableStatus).toBe("ACTIVE");
    expect(table.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(keyNames(table)).toEqual([
      [definition.partitionKey.name, "HASH"],
      ...(definition.sortKey ? [[definition.sortKey.name, "RANGE"]] : []),
    ]);
    const attributes = (table.AttributeDefinitions ?? []).map((a) => `${a.AttributeName}:${a.AttributeType}`).sort();
    expect(attributes).toEqual(definition.attributeDefinitions.map((a) => `${a.name}:${a.type}`).sort());
    const indexes = (table.LocalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName, keys: keyNames(i), projection: i.Projection?.ProjectionType }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual(
      definition.localSecondaryIndexes
        .map((i) => ({
          name: i.indexName,
          keys: [
            [definition.partitionKey.name, "HASH"],
            [i.sortKey.name, "RANGE"],
          ],
          projection: i.projection,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    const ttl = await admin.send(new DescribeTimeToLiveCommand({ TableName: tables[logical] }));
    if (definition.ttlAttribute) {
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: "ENABLED", AttributeName: "ttl" });
    } else {
      expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).not.toBe("ENABLED");
    }
  });

  it("names tables per cell and prefix, and refuses malformed cell ids", () => {
    expect(cellTableNames("eu-1", "acme").entries).toBe("acme-eu-1-entries");
    expect(CELL_TABLES.entries.ledgerImmutable).toBe(true);
    for (const bad of ["", "EU1", "a_b", "a".repeat(41), "a/b"]) expect(() => cellTableNames(bad)).toThrow();
  });
});

describe("item codec on the wire", () => {
  it("round-trips balances beyond 64 bits exactly, stored as DynamoDB numbers", async () => {
    const huge = 10n ** 36n + 7n;
    const wallet = await createWallet();
    const [entry] = await commitOk(deposit(wallet.walletId, huge));
    await commitOk(deposit(wallet.walletId, huge + 1n));
    const expected = 2n * huge + 1n;
    expect((await store.getWallet(wallet.walletId))?.balance).toBe(expected);
    expect((await rawItem(tables.wallets, { walletId: { S: wallet.walletId } }))?.balance).toEqual({
      N: "2000000000000000000000000000000000015",
    });
    if (!entry) throw new Error("no entry");
    expect(await store.getEntryByTransactionId(wallet.walletId, entry.transactionId)).toEqual(entry);
    const raw = await rawItem(tables.entries, { walletId: { S: wallet.walletId }, sequence: { N: "1" } });
    expect(raw?.amount).toEqual({ N: "1000000000000000000000000000000000007" });
    expect(raw?.context).toEqual({ S: JSON.stringify(context) });
    expect(raw?.reference).toBeUndefined();
  });

  it("refuses amounts beyond DynamoDB's 38 digits instead of rounding them", async () => {
    const wallet = await createWallet();
    await expect(store.commit(deposit(wallet.walletId, 10n ** 38n))).rejects.toThrow(/precision/);
    expect((await store.getWallet(wallet.walletId))?.version).toBe(0);
  });

  it("stores transfers and idempotency records losslessly, with TTL in epoch seconds", async () => {
    const transfer: Transfer = {
      transferId: id(),
      fromWalletId: id(),
      toWalletId: id(),
      fromUserId: "alice",
      amount: 123_456_789_012_345_678_901n,
      currency: "USD",
      status: "PENDING",
      createdAt: 1_700_000_000_123,
      destinationCellId: "cell-2",
    };
    const record: IdempotencyRecord = {
      scopeKey: id(),
      fingerprint: "f".repeat(64),
      status: 201,
      contentType: "application/json",
      body: '{"amount":"1.00"}',
      createdAt: 1_700_000_000_000,
      expiresAt: 1_700_086_400_001,
    };
    await commitOk({
      walletIds: [],
      decide: () => ({ changes: { transfers: [{ transfer }], idempotency: record }, result: null }),
    });
    expect(await store.getTransfer(transfer.transferId)).toEqual(transfer);
    expect(await store.getIdempotency(record.scopeKey)).toEqual(record);
    const raw = await rawItem(tables.idempotency, { scopeKey: { S: record.scopeKey } });
    expect(raw?.ttl).toEqual({ N: "1700086401" });
    expect(raw?.location).toBeUndefined();

    const completed: Transfer = { ...transfer, status: "COMPLETED", completedAt: 1_700_000_000_999 };
    await commitOk({
      walletIds: [],
      decide: () => ({ changes: { transfers: [{ transfer: completed, expectedStatus: "PENDING" }] }, result: null }),
    });
    expect(await store.getTransfer(transfer.transferId)).toEqual(completed);
  });
});

describe("conditional failures", () => {
  it("answers idempotency-exists and writes nothing else of the second request", async () => {
    const wallet = await createWallet();
    const record: IdempotencyRecord = {
      scopeKey: id(),
      fingerprint: "a",
      status: 201,
      contentType: "application/json",
      body: "{}",
      createdAt: Date.now(),
      expiresAt: Date.now() + 86_400_000,
    };
    const guarded = (): CommitRequest<LedgerEntry[]> => {
      const inner = deposit(wallet.walletId, 100n);
      return {
        walletIds: inner.walletIds,
        decide: (state) => {
          const { changes, result } = inner.decide(state);
          return { changes: { ...changes, idempotency: record }, result };
        },
      };
    };
    expect((await store.commit(guarded())).ok).toBe(true);
    expect(await store.commit(guarded())).toEqual({ ok: false, reason: "idempotency-exists" });
    expect(await store.getWallet(wallet.walletId)).toMatchObject({ version: 1, balance: 100n });
  });

  it("answers user-has-wallet when the owner record exists, leaving no second wallet", async () => {
    const first = await createWallet();
    const secondId = id();
    const outcome = await store.commit({
      walletIds: [],
      decide: ({ now }) => ({ changes: { newWallet: openWallet(secondId, first.userId, "USD", now) }, result: null }),
    });
    expect(outcome).toEqual({ ok: false, reason: "user-has-wallet" });
    expect(await store.getWallet(secondId)).toBeUndefined();
    expect(await store.getWalletIdByUser(first.userId)).toBe(first.walletId);
  });

  it("retries a version conflict with a fresh read and decision", async () => {
    const wallet = await createWallet();
    // A real concurrent writer, slipped in between this store's read and its write.
    const hooked = new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
    let interfered = false;
    hooked.middlewareStack.add(
      (next, ctx) => async (args) => {
        if (ctx.commandName === "TransactWriteItemsCommand" && !interfered) {
          interfered = true;
          await commitOk(deposit(wallet.walletId, 5n));
        }
        return next(args);
      },
      { step: "initialize", name: "interfere" },
    );
    const calls: string[] = [];
    const racing = createDynamoDbLedgerStore({ cellId, client: hooked, onCall: (op) => calls.push(op) });
    let decisions = 0;
    const request = deposit(wallet.walletId, 7n);
    const entries = await commitOk(
      {
        walletIds: request.walletIds,
        decide: (state) => {
          decisions += 1;
          return request.decide(state);
        },
      },
      racing,
    );
    hooked.destroy();
    expect(decisions).toBe(2);
    expect(calls).toEqual(["GetItem", "TransactWriteItems", "GetItem", "TransactWriteItems"]);
    expect(entries[0]?.sequence).toBe(2);
    expect(await store.getWallet(wallet.walletId)).toMatchObject({ version: 2, balance: 12n });
  });

  it("throws ContentionError when the conflict never resolves, writing nothing", async () => {
    const wallet = await createWallet();
    const limited = createDynamoDbLedgerStore({ cellId, endpoint, maxAttempts: 3 });
    let decisions = 0;
    const request = deposit(wallet.walletId, 1n);
    const stale: CommitRequest<null> = {
      walletIds: [wallet.walletId],
      decide: (state) => {
        decisions += 1;
        const { changes } = request.decide(state);
        const update = changes.walletUpdates?.[0];
        if (!update) throw new Error("no update");
        return { changes: { ...changes, walletUpdates: [{ ...update, expectedVersion: 41 }] }, result: null };
      },
    };
    await expect(limited.commit(stale)).rejects.toBeInstanceOf(ContentionError);
    await limited.close();
    expect(decisions).toBe(3);
    expect(await store.getWallet(wallet.walletId)).toMatchObject({ version: 0, balance: 0n });
  });

  it("refuses a debit the stored balance cannot cover even if the decision allowed it", async () => {
    const wallet = await createWallet();
    await commitOk(deposit(wallet.walletId, 10n));
    const limited = createDynamoDbLedgerStore({ cellId, endpoint, maxAttempts: 2 });
    const overdraft: CommitRequest<null> = {
      walletIds: [wallet.walletId],
      decide: ({ wallets }) => {
        const current = wallets.get(wallet.walletId);
        if (!current) throw new Error("missing");
        // Inconsistent on purpose (a buggy decision): only the stored-balance condition can catch it.
        const next = { ...current, balance: 0n, version: current.version + 1 };
        return {
          changes: { walletUpdates: [{ wallet: next, expectedVersion: current.version, debit: 11n }] },
          result: null,
        };
      },
    };
    await expect(limited.commit(overdraft)).rejects.toBeInstanceOf(ContentionError);
    await limited.close();
    const negative: CommitRequest<null> = {
      walletIds: [],
      decide: () => ({
        changes: { walletUpdates: [{ wallet: { ...wallet, balance: -1n, version: 2 }, expectedVersion: 1 }] },
        result: null,
      }),
    };
    await expect(store.commit(negative)).rejects.toThrow(/negative balance/);
    expect(await store.getWallet(wallet.walletId)).toMatchObject({ version: 1, balance: 10n });
  });

  it("reads cancellation codes from the message when CancellationReasons are missing", () => {
    const error = Object.assign(
      new Error(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
      ),
      { name: "TransactionCanceledException" },
    );
    expect(classifyWriteFailure(error, ["wallet-update", "idempotency"])).toBe("idempotency-exists");
    expect(classifyWriteFailure(error, ["new-wallet", "owner"])).toBe("user-has-wallet");
    expect(classifyWriteFailure(error, ["wallet-update", "entry"])).toBe("retry");
    expect(classifyWriteFailure(error, ["wallet-update"])).toBe("propagate");
    const validation = Object.assign(new Error("[None, ValidationError]"), {
      name: "TransactionCanceledException",
      CancellationReasons: [{ Code: "None" }, { Code: "ValidationError" }],
    });
    expect(classifyWriteFailure(validation, ["wallet-update", "entry"])).toBe("propagate");
  });
});

describe("calls and queries", () => {
  it("reports every DynamoDB call with its capacity units", async () => {
    const calls: [string, number][] = [];
    const measured = createDynamoDbLedgerStore({ cellId, endpoint, onCall: (op, units) => calls.push([op, units]) });
    const wallet = await createWallet(measured);
    await commitOk(deposit(wallet.walletId, 1n), measured);
    await measured.getWallet(wallet.walletId);
    await measured.ping();
    await measured.commit({ walletIds: [], decide: () => ({ changes: {}, result: null }) });
    await measured.close();
    expect(calls.map(([op]) => op)).toEqual([
      "TransactWriteItems",
      "GetItem",
      "TransactWriteItems",
      "GetItem",
      "DescribeTable",
    ]);
    for (const [, units] of calls) expect(units).toBeGreaterThanOrEqual(0);
    expect(calls.find(([op]) => op === "GetItem")?.[1]).toBeGreaterThan(0);
  });

  it("finds the latest entry at or before an instant among entries of the same millisecond", async () => {
    const wallet = await createWallet();
    const t = 1_700_000_000_000;
    await commitOk(deposit(wallet.walletId, 1n, { at: t, count: 3 }));
    await commitOk(deposit(wallet.walletId, 1n, { at: t + 5 }));
    const at = async (ms: number) => (await store.getLatestEntryAtOrBefore(wallet.walletId, ms))?.sequence;
    expect(await at(t - 1)).toBeUndefined();
    expect(await at(t)).toBe(3);
    expect(await at(t + 4)).toBe(3);
    expect(await at(t + 5)).toBe(4);
    expect(await at(Number.MAX_SAFE_INTEGER)).toBe(4);
    const page = async (before: { createdAt: number; sequence: number }) =>
      (await store.listEntries(wallet.walletId, { before, limit: 10 })).map((e) => e.sequence);
    expect(await page({ createdAt: t, sequence: 3 })).toEqual([2, 1]);
    expect(await page({ createdAt: t + 5, sequence: 4 })).toEqual([3, 2, 1]);
    expect(await page({ createdAt: t, sequence: 1 })).toEqual([]);
    const ranged = await store.listEntries(wallet.walletId, { fromMs: t + 1, toMs: t + 5, limit: 10 });
    expect(ranged.map((e) => e.sequence)).toEqual([4]);
  });

  it("streams more than one page in ascending sequence order", async () => {
    const walletId = id();
    const entries = Array.from(
      { length: 501 },
      (_, i): LedgerEntry => ({
        walletId,
        sequence: i + 1,
        transactionId: id(),
        type: "DEPOSIT",
        amount: 1n,
        currency: "USD",
        balanceAfter: BigInt(i + 1),
        createdAt: 1_700_000_000_000 + i,
        contextDigest: "c",
        prevHash: "p",
        hash: "h",
        context,
      }),
    );
    // Written directly: the chain is irrelevant here, and 21 batch writes are far quicker in moto than 6 transactions.
    for (let i = 0; i < entries.length; i += 25) {
      const batch = entries.slice(i, i + 25).map((e) => ({ PutRequest: { Item: entryToItem(e) } }));
      const out = await admin.send(new BatchWriteItemCommand({ RequestItems: { [tables.entries]: batch } }));
      expect(out.UnprocessedItems?.[tables.entries] ?? []).toEqual([]);
    }
    const streamed: LedgerEntry[] = [];
    for await (const entry of store.streamEntries(walletId)) streamed.push(entry);
    expect(streamed).toEqual(entries);
    const newest = await store.listEntries(walletId, { limit: 200, toMs: 1_700_000_000_400 });
    expect(newest.map((e) => e.sequence)).toEqual(Array.from({ length: 200 }, (_, i) => 401 - i));
  });
});
