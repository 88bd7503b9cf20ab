import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { createDynamoDbLedgerStore } from "../src/adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../src/adapters/dynamodb/ensure-tables.js";
import type { LedgerStore } from "../src/application/ledger-store.js";

/**
 * The DynamoDB calls one API operation costs, counted at the client (issue #15: a deposit in 2 round trips,
 * a same-cell transfer in 3, a replay in 1, a read in 1): the wallet and the key's record are read together,
 * and the commit decides on that read.
 */
const cellId = `rt${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
let admin: DynamoDBClient;
let store: LedgerStore;
let cell: InProcessCell;
const calls: string[] = [];
const tokens = { ops: "", alice: "" };

beforeAll(async () => {
  const endpoint = inject("motoEndpoint");
  admin = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
  });
  await ensureCellTables(admin, cellId);
  store = createDynamoDbLedgerStore({ cellId, endpoint, onCall: (operation) => calls.push(operation) });
  // No background work (checkpoints, pending-transfer retries) to mix its calls with the requests'.
  cell = await startInProcessCell(store, {
    CELL_ID: cellId,
    CHECKPOINT_INTERVAL_MS: "0",
    CROSS_CELL_RETRY_INTERVAL_MS: "3600000",
  });
  tokens.ops = await token("ops", "wallet:operator");
  tokens.alice = await token("alice");
});

afterAll(async () => {
  await cell?.close();
  await store?.close();
  admin?.destroy();
});

/** The DynamoDB operations one request made. */
async function callsOf<T>(request: () => Promise<T>): Promise<{ answer: T; calls: string[] }> {
  calls.length = 0;
  const answer = await request();
  return { answer, calls: [...calls] };
}

describe("DynamoDB round trips per operation", () => {
  it("deposit 2, replay 1, same-cell transfer 3, read 1", async () => {
    const alice = (await http(cell.url, "POST", "/api/v1/wallets", { token: tokens.ops, body: { userId: "alice" } }))
      .body.walletId as string;
    const bob = (await http(cell.url, "POST", "/api/v1/wallets", { token: tokens.ops, body: { userId: "bob" } })).body
      .walletId as string;
    const key = randomUUID();
    const deposit = () =>
      http(cell.url, "POST", `/api/v1/wallets/${alice}/deposit`, {
        token: tokens.ops,
        idempotencyKey: key,
        body: { amount: "10.00" },
      });

    const first = await callsOf(deposit);
    expect(first.answer.status).toBe(201);
    expect(first.calls).toEqual(["BatchGetItem", "TransactWriteItems"]);

    const replay = await callsOf(deposit);
    expect(replay.answer.status).toBe(201);
    expect(replay.answer.headers.get("idempotency-replayed")).toBe("true");
    expect(replay.answer.body).toEqual(first.answer.body);
    expect(replay.calls).toEqual(["BatchGetItem"]);

    const transfer = await callsOf(() =>
      http(cell.url, "POST", "/api/v1/wallets/transfer", {
        token: tokens.alice,
        idempotencyKey: randomUUID(),
        body: { fromWalletId: alice, toWalletId: bob, amount: "2.50" },
      }),
    );
    expect(transfer.answer.status).toBe(201);
    expect(transfer.calls).toHaveLength(3);
    expect(transfer.calls.at(-1)).toBe("TransactWriteItems");

    const read = await callsOf(() => http(cell.url, "GET", `/api/v1/wallets/${alice}`, { token: tokens.alice }));
    expect(read.answer.status).toBe(200);
    expect(read.answer.body.balance).toBe("7.50");
    expect(read.calls).toEqual(["GetItem"]);
  });

  it("a refusal still costs no write of money: insufficient funds is stored as the key's answer, once", async () => {
    const carol = (await http(cell.url, "POST", "/api/v1/wallets", { token: tokens.ops, body: { userId: "carol" } }))
      .body.walletId as string;
    const key = randomUUID();
    const withdraw = () =>
      http(cell.url, "POST", `/api/v1/wallets/${carol}/withdraw`, {
        token: tokens.ops,
        idempotencyKey: key,
        body: { amount: "1.00" },
      });
    const refused = await withdraw();
    expect(refused.status).toBe(422);
    const again = await callsOf(withdraw);
    expect(again.answer.status).toBe(422);
    expect(again.answer.headers.get("idempotency-replayed")).toBe("true");
    expect(again.calls).toEqual(["BatchGetItem"]);
    expect((await store.getWallet(carol))?.balance).toBe(0n);
  });
});
