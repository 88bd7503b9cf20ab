import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CELL_TABLE_NAMES, CELL_TABLES, type CellTableDefinition, cellTableNames } from "./table-definitions.js";

/**
 * Creates the cell's tables when missing (local development and tests; in AWS
 * the CDK stacks own them). Several processes may run this at once: whoever
 * loses the CreateTable race simply waits for the winner's table.
 */

const ACTIVE_TIMEOUT_MS = 300_000;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function globalIndexInput(index: CellTableDefinition["globalSecondaryIndexes"][number]) {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: "HASH" as const },
      ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" as const }] : []),
    ],
    Projection: { ProjectionType: index.projection },
  };
}

function createTableInput(tableName: string, definition: CellTableDefinition): CreateTableCommandInput {
  const partition = { AttributeName: definition.partitionKey.name, KeyType: "HASH" as const };
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: definition.billingMode,
    AttributeDefinitions: definition.attributeDefinitions.map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: definition.sortKey
      ? [partition, { AttributeName: definition.sortKey.name, KeyType: "RANGE" }]
      : [partition],
  };
  if (definition.localSecondaryIndexes.length > 0) {
    input.LocalSecondaryIndexes = definition.localSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [partition, { AttributeName: index.sortKey.name, KeyType: "RANGE" }],
      Projection: { ProjectionType: index.projection },
    }));
  }
  if (definition.globalSecondaryIndexes.length > 0) {
    input.GlobalSecondaryIndexes = definition.globalSecondaryIndexes.map(globalIndexInput);
  }
  return input;
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

/** An existing table with other keys would fail later in confusing ways; refuse it here. */
function assertShape(tableName: string, table: TableDescription, definition: CellTableDefinition): void {
  const keys = (table.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  const wanted = [
    `${definition.partitionKey.name}:HASH`,
    ...(definition.sortKey ? [`${definition.sortKey.name}:RANGE`] : []),
  ];
  const indexes = [...(table.LocalSecondaryIndexes ?? []), ...(table.GlobalSecondaryIndexes ?? [])]
    .map((i) => i.IndexName)
    .sort();
  const wantedIndexes = [...definition.localSecondaryIndexes, ...definition.globalSecondaryIndexes]
    .map((i) => i.indexName)
    .sort();
  if (keys !== wanted.join(",") || indexes.join(",") !== wantedIndexes.join(",")) {
    throw new Error(
      `table ${tableName} exists with keys [${keys}] and indexes [${indexes}], expected [${wanted}] and [${wantedIndexes}]`,
    );
  }
}

/**
 * Adds the global indexes a newer release defines to a table an older one created (GSIs, unlike LSIs, can be
 * added to a live table: the idempotency table's byWallet index came with migrations). Waits until they are ACTIVE.
 */
async function addMissingGlobalIndexes(
  client: DynamoDBClient,
  tableName: string,
  table: TableDescription,
  definition: CellTableDefinition,
): Promise<TableDescription> {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = definition.globalSecondaryIndexes.filter((i) => !present.has(i.indexName));
  let current = table;
  for (const index of missing) {
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: definition.attributeDefinitions.map((a) => ({
            AttributeName: a.name,
            AttributeType: a.type,
          })),
          GlobalSecondaryIndexUpdates: [{ Create: globalIndexInput(index) }],
        }),
      );
    } catch (error) {
      // Another process added it first (or is adding it): wait for it like for our own.
      if (errorName(error) !== "ResourceInUseException" && errorName(error) !== "ValidationException") throw error;
    }
    current = await waitActive(client, tableName);
  }
  return current;
}

async function createIfMissing(client: DynamoDBClient, tableName: string, definition: CellTableDefinition) {
  if (await describe(client, tableName)) return;
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
  } catch (error) {
    if (errorName(error) !== "ResourceInUseException") throw error;
  }
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const table = await describe(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => (i.IndexStatus ?? "ACTIVE") === "ACTIVE");
    if (table?.TableStatus === "ACTIVE" && indexesActive) return table;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
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

/** Creates every missing table of the cell, waits until all are ACTIVE and enables TTL. Idempotent. */
export async function ensureCellTables(client: DynamoDBClient, cellId: string, prefix?: string): Promise<void> {
  const names = cellTableNames(cellId, prefix);
  await Promise.all(
    CELL_TABLE_NAMES.map(async (logical) => {
      const definition = CELL_TABLES[logical];
      const tableName = names[logical];
      await createIfMissing(client, tableName, definition);
      const table = await addMissingGlobalIndexes(client, tableName, await waitActive(client, tableName), definition);
      assertShape(tableName, table, definition);
      if (definition.ttlAttribute !== undefined) await enableTtl(client, tableName, definition.ttlAttribute);
    }),
  );
}
