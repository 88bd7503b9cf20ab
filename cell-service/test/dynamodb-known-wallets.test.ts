import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { AuditContext } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDynamoDbLedgerStore } from "../src/adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../src/adapters/dynamodb/ensure-tables.js";
import type { CommitRequest, LedgerStore } from "../src/application/ledger-store.js";
import { type LedgerEntry, post } from "../src/domain/ledger-entry.js";
import { openWallet, type Wallet } from "../src/domain/wallet.js";

/**
 * CommitRequest.known on DynamoDB: the wallets the caller read for authorisation stand in for the commit's own
 * read, saving a round trip, and a stale or refused decision on them is decided again on a fresh read.
 */
const endpoint = inject("motoEndpoint");
const cellId = `k${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const context: AuditContext = { principal: "tester", scopes: ["wallet"], requestId: "req-known" };

let admin: DynamoDBClient;
let store: LedgerStore;
const calls: string[] = [];

beforeAll(async () => {
  admin = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
  });
  await ensureCellTables(admin, cellId);
  store = createDynamoDbLedgerStore({ cellId, endpoint, onCall: (operation) => calls.push(operation) });
});

afterAll(async () => {
  await store?.close();
  admin?.destroy();
});

async function newWallet(balance = 0n): Promise<Wallet> {
  const walletId = randomUUID();
  const outcome = await store.commit({
    walletIds: [],
    decide: ({ now }) => {
      const wallet = openWallet(walletId, `user-${walletId}`, "USD", now);
      return { changes: { newWallet: wallet }, result: wallet };
    },
  });
  if (!outcome.ok) throw new Error(outcome.reason);
  if (balance > 0n) await commit(move(outcome.result.walletId, "DEPOSIT", balance));
  return (await store.getWallet(walletId)) as Wallet;
}

/** A deposit or withdrawal as the use cases build it; a withdrawal beyond the balance is a refusal (no write). */
function move(walletId: string, type: "DEPOSIT" | "WITHDRAWAL", amount: bigint, known?: Wallet[]) {
  const request: CommitRequest<LedgerEntry | "insufficient-funds"> = {
    walletIds: [walletId],
    ...(known ? { known } : {}),
    decide: ({ wallets, now }) => {
      const wallet = wallets.get(walletId);
      if (!wallet) throw new Error("wallet missing");
      const posted = post(wallet, { transactionId: randomUUID(), type, amount, context }, now);
      if (!posted.ok) return { changes: {}, result: "insufficient-funds" as const };
      return {
        changes: {
          walletUpdates: [
            {
              wallet: posted.value.wallet,
              expectedVersion: wallet.version,
              ...(type === "WITHDRAWAL" ? { debit: amount } : {}),
            },
          ],
          entries: [posted.value.entry],
        },
        result: posted.value.entry,
      };
    },
  };
  return request;
}

async function commit<T>(request: CommitRequest<T>): Promise<T> {
  const outcome = await store.commit(request);
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.result;
}

describe("DynamoDB commit with the caller's wallets (CommitRequest.known)", () => {
  it("decides on them without reading the wallet again: one TransactWriteItems", async () => {
    const wallet = await newWallet();
    calls.length = 0;
    const entry = await commit(move(wallet.walletId, "DEPOSIT", 500n, [wallet]));
    expect(calls).toEqual(["TransactWriteItems"]);
    expect(entry).toMatchObject({ sequence: wallet.version + 1 });
    expect((await store.getWallet(wallet.walletId))?.balance).toBe(500n);
  });

  it("a stale wallet costs a cancelled transaction, then the operation applies once on a fresh read", async () => {
    const wallet = await newWallet();
    await commit(move(wallet.walletId, "DEPOSIT", 100n)); // the caller's copy is now one version behind
    calls.length = 0;
    await commit(move(wallet.walletId, "DEPOSIT", 200n, [wallet]));
    expect(calls[0]).toBe("TransactWriteItems");
    expect(calls.filter((c) => c === "TransactWriteItems")).toHaveLength(2);
    const now = await store.getWallet(wallet.walletId);
    expect(now?.balance).toBe(300n);
    expect(now?.version).toBe(wallet.version + 2);
  });

  it("a refusal decided on an earlier read is decided again on a fresh one", async () => {
    const wallet = await newWallet(100n);
    const stale = { ...wallet, balance: 0n }; // as if read before the deposit
    calls.length = 0;
    const result = await commit(move(wallet.walletId, "WITHDRAWAL", 60n, [stale]));
    expect(result).not.toBe("insufficient-funds");
    expect(calls).toEqual(["GetItem", "TransactWriteItems"]);
    expect((await store.getWallet(wallet.walletId))?.balance).toBe(40n);
  });
});
