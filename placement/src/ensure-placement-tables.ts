import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import {
  PLACEMENT_TABLE_NAMES,
  PLACEMENT_TABLES,
  type PlacementIndexDefinition,
  placementTableNames,
} from "./placement-tables.js";

function indexInput(index: PlacementIndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: "HASH" },
      ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" as const }] : []),
    ],
    Projection: { ProjectionType: index.projection },
  };
}

/**
 * Creates the control plane's tables when missing (local development and
 * tests; in AWS the CDK stacks own them). Several processes may run this at
 * once: whoever loses the CreateTable race simply waits for the winner's table.
 */

const ACTIVE_TIMEOUT_MS = 300_000;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const table = await describe(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === "ACTIVE");
    if (table?.TableStatus === "ACTIVE" && indexesActive) return table;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Creates every missing placement table and waits until all are ACTIVE. Idempotent. */
export async function ensurePlacementTables(client: DynamoDBClient, prefix?: string): Promise<void> {
  const names = placementTableNames(prefix);
  await Promise.all(
    PLACEMENT_TABLE_NAMES.map(async (logical) => {
      const definition = PLACEMENT_TABLES[logical];
      const tableName = names[logical];
      const key = definition.partitionKey;
      if (!(await describe(client, tableName))) {
        try {
          await client.send(
            new CreateTableCommand({
              TableName: tableName,
              BillingMode: definition.billingMode,
              AttributeDefinitions: definition.attributeDefinitions.map((a) => ({
                AttributeName: a.name,
                AttributeType: a.type,
              })),
              KeySchema: [{ AttributeName: key.name, KeyType: "HASH" }],
              ...(definition.globalSecondaryIndexes?.length
                ? { GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map(indexInput) }
                : {}),
            }),
          );
        } catch (error) {
          if (errorName(error) !== "ResourceInUseException") throw error;
        }
      }
      let table = await waitActive(client, tableName);
      // A table made before an index was added to the definition (local data kept across versions) gets it now.
      for (const index of definition.globalSecondaryIndexes ?? []) {
        if ((table.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === index.indexName)) continue;
        await client.send(
          new UpdateTableCommand({
            TableName: tableName,
            AttributeDefinitions: definition.attributeDefinitions.map((a) => ({
              AttributeName: a.name,
              AttributeType: a.type,
            })),
            GlobalSecondaryIndexUpdates: [{ Create: indexInput(index) }],
          }),
        );
        table = await waitActive(client, tableName);
      }
      // An existing table with another key would fail later in confusing ways; refuse it here.
      const keys = (table.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
      if (keys !== `${key.name}:HASH`) {
        throw new Error(`table ${tableName} exists with keys [${keys}], expected [${key.name}:HASH]`);
      }
    }),
  );
}
