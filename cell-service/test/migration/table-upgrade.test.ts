import { CreateTableCommand, DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { dynamoClient, uniqueCellId } from "../../../test-support/stores.js";
import { createDynamoDbLedgerStore } from "../../src/adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../../src/adapters/dynamodb/ensure-tables.js";
import { cellTableNames } from "../../src/adapters/dynamodb/table-definitions.js";
import { post } from "../../src/domain/ledger-entry.js";

describe("a DynamoDB cell created before migrations", () => {
  it("gets the idempotency table's byWallet index added in place by ensureCellTables", async () => {
    const client = dynamoClient(inject("motoEndpoint"));
    const cellId = uniqueCellId("up");
    const name = cellTableNames(cellId).idempotency;
    // The idempotency table as the first release created it: no global index.
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "scopeKey", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "scopeKey", KeyType: "HASH" }],
      }),
    );
    await ensureCellTables(client, cellId);
    const table = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
    expect(table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([["byWallet", "ACTIVE"]]);
    // Idempotent: a second start (another replica) changes nothing.
    await ensureCellTables(client, cellId);
    client.destroy();
  });

  it("reads wallet items written before migrations as active at epoch 1, writable and freezable", async () => {
    const client = dynamoClient(inject("motoEndpoint"));
    const cellId = uniqueCellId("old");
    await ensureCellTables(client, cellId);
    const tables = cellTableNames(cellId);
    // A wallet item as the first release wrote it: no ownership attributes.
    await client.send(
      new PutItemCommand({
        TableName: tables.wallets,
        Item: {
          walletId: { S: "W-OLD" },
          userId: { S: "old-user" },
          currency: { S: "USD" },
          balance: { N: "0" },
          version: { N: "0" },
          headHash: { S: "0".repeat(64) },
          lastEntryAt: { N: "0" },
          createdAt: { N: "1" },
          updatedAt: { N: "1" },
        },
      }),
    );
    await client.send(
      new PutItemCommand({ TableName: tables.owners, Item: { userId: { S: "old-user" }, walletId: { S: "W-OLD" } } }),
    );
    const store = createDynamoDbLedgerStore({ cellId, client });
    expect((await store.getWallet("W-OLD"))?.ownership).toEqual({ state: "active", epoch: 1 });
    const deposit = () =>
      store.commit({
        walletIds: ["W-OLD"],
        decide: ({ wallets, now }) => {
          const w = wallets.get("W-OLD");
          if (!w) throw new Error("missing");
          const posted = post(
            w,
            { transactionId: `T${now}`, type: "DEPOSIT", amount: 5n, context: { principal: "p" } },
            now,
          );
          if (!posted.ok) throw new Error("refused");
          return {
            changes: {
              walletUpdates: [{ wallet: posted.value.wallet, expectedVersion: w.version }],
              entries: [posted.value.entry],
            },
            result: 0,
          };
        },
      });
    expect((await deposit()).ok).toBe(true);
    expect(
      await store.setWalletOwnership("W-OLD", { state: "active" }, { state: "frozen", epoch: 1, migrationId: "m" }),
    ).toBe(true);
    expect(await deposit()).toMatchObject({ ok: false, reason: "fenced" });
    expect((await store.getWallet("W-OLD"))?.balance).toBe(5n);
    await store.close();
    client.destroy();
  });
});
