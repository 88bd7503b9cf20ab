import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { dynamoClient, uniqueCellId } from "../../../test-support/stores.js";
import { ensureCellTables } from "../../src/adapters/dynamodb/ensure-tables.js";
import { cellTableNames } from "../../src/adapters/dynamodb/table-definitions.js";

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
});
