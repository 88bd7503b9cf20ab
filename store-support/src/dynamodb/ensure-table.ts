import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { errorName } from "./errors.js";
import type { GlobalIndexDefinition, TableDefinition } from "./table-definition.js";

/**
 * Creates a table from its definition when missing (local development and tests; in AWS the CDK stacks own the
 * tables). Several processes may run this at once: whoever loses the CreateTable race (or the race to add a
 * missing index) simply waits for the winner's table.
 */

const ACTIVE_TIMEOUT_MS = 300_000;

function globalIndexInput(index: GlobalIndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: "HASH" as const },
      ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" as const }] : []),
    ],
    Projection: { ProjectionType: index.projection },
  };
}

function attributeDefinitions(definition: TableDefinition) {
  return definition.attributeDefinitions.map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
}

export function createTableInput(tableName: string, definition: TableDefinition): CreateTableCommandInput {
  const partition = { AttributeName: definition.partitionKey.name, KeyType: "HASH" as const };
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: definition.billingMode,
    AttributeDefinitions: attributeDefinitions(definition),
    KeySchema: definition.sortKey
      ? [partition, { AttributeName: definition.sortKey.name, KeyType: "RANGE" }]
      : [partition],
  };
  const local = definition.localSecondaryIndexes ?? [];
  if (local.length > 0) {
    input.LocalSecondaryIndexes = local.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [partition, { AttributeName: index.sortKey.name, KeyType: "RANGE" }],
      Projection: { ProjectionType: index.projection },
    }));
  }
  const global = definition.globalSecondaryIndexes ?? [];
  if (global.length > 0) input.GlobalSecondaryIndexes = global.map(globalIndexInput);
  return input;
}

export async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

/** An existing table with other keys would fail later in confusing ways; refuse it here. */
function assertShape(tableName: string, table: TableDescription, definition: TableDefinition): void {
  const keys = (table.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  const wanted = [
    `${definition.partitionKey.name}:HASH`,
    ...(definition.sortKey ? [`${definition.sortKey.name}:RANGE`] : []),
  ];
  const indexes = [...(table.LocalSecondaryIndexes ?? []), ...(table.GlobalSecondaryIndexes ?? [])]
    .map((i) => i.IndexName)
    .sort();
  const wantedIndexes = [...(definition.localSecondaryIndexes ?? []), ...(definition.globalSecondaryIndexes ?? [])]
    .map((i) => i.indexName)
    .sort();
  if (keys !== wanted.join(",") || indexes.join(",") !== wantedIndexes.join(",")) {
    throw new Error(
      `table ${tableName} exists with keys [${keys}] and indexes [${indexes}], expected [${wanted}] and [${wantedIndexes}]`,
    );
  }
}

/** Waits until the table and all its global indexes are ACTIVE. */
export async function waitActive(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => (i.IndexStatus ?? "ACTIVE") === "ACTIVE");
    if (table?.TableStatus === "ACTIVE" && indexesActive) return table;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Adds the global indexes a newer release defines to a table an older one created (local data kept across
 * versions). Waits until they are ACTIVE.
 */
async function addMissingGlobalIndexes(
  client: DynamoDBClient,
  tableName: string,
  table: TableDescription,
  definition: TableDefinition,
): Promise<TableDescription> {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = (definition.globalSecondaryIndexes ?? []).filter((i) => !present.has(i.indexName));
  let current = table;
  for (const index of missing) {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(
          new UpdateTableCommand({
            TableName: tableName,
            AttributeDefinitions: attributeDefinitions(definition),
            GlobalSecondaryIndexUpdates: [{ Create: globalIndexInput(index) }],
          }),
        );
        break;
      } catch (error) {
        // Another process added it first (or is adding it): wait for it like for our own. DynamoDB answers
        // ValidationException or ResourceInUseException, emulators word it differently (moto fails with a 500):
        // so ask the table whether the index is there rather than trusting the error's name.
        const now = await waitActive(client, tableName);
        if ((now.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === index.indexName)) break;
        // Busy with another index's creation: try again once it is done.
        if (errorName(error) !== "ResourceInUseException" || attempt >= 5) throw error;
      }
    }
    current = await waitActive(client, tableName);
  }
  return current;
}

async function ttlEnabled(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const out = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = out.TimeToLiveDescription?.TimeToLiveStatus;
  return status === "ENABLED" || status === "ENABLING";
}

async function enableTtl(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  if (await ttlEnabled(client, tableName)) return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // A concurrent caller enabled it first ("already enabled"); emulators word this differently, so ask again.
    if (!(await ttlEnabled(client, tableName))) throw error;
  }
}

/**
 * Creates the table when missing, adds missing global indexes, waits until everything is ACTIVE, checks the keys
 * and indexes, and enables TTL where defined. Idempotent, and safe to run from several processes at once.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  definition: TableDefinition,
): Promise<void> {
  if (!(await describeTable(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
    } catch (error) {
      if (errorName(error) !== "ResourceInUseException") throw error;
    }
  }
  const table = await addMissingGlobalIndexes(client, tableName, await waitActive(client, tableName), definition);
  assertShape(tableName, table, definition);
  if (definition.ttlAttribute !== undefined) await enableTtl(client, tableName, definition.ttlAttribute);
}
