import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { CONNECTION_TIMEOUT_MS, createDynamoDbClient, REQUEST_TIMEOUT_MS } from "./client.js";
import { createTableInput, ensureTable } from "./ensure-table.js";
import {
  areTransientReasons,
  cancellationCodes,
  isConditionFailure,
  isThrottling,
  isTransient,
  isTransientError,
  TRANSIENT_ERROR_NAMES,
} from "./errors.js";
import type { TableDefinition } from "./table-definition.js";

const endpoint = inject("motoEndpoint");
const clients: DynamoDBClient[] = [];
const client = (): DynamoDBClient => {
  const made = createDynamoDbClient({ endpoint, env: {} });
  clients.push(made);
  return made;
};
afterAll(() => {
  for (const c of clients) c.destroy();
});

let counter = 0;
const tableName = (what: string) => `support-${what}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

/** A table with a sort key, an LSI, a GSI and TTL: every part ensureTable creates. */
const DEFINITION: TableDefinition = {
  partitionKey: { name: "pk", type: "S" },
  sortKey: { name: "sk", type: "N" },
  attributeDefinitions: [
    { name: "pk", type: "S" },
    { name: "sk", type: "N" },
    { name: "byTime", type: "S" },
    { name: "owner", type: "S" },
    { name: "createdAt", type: "N" },
  ],
  localSecondaryIndexes: [{ indexName: "byTime", sortKey: { name: "byTime", type: "S" }, projection: "ALL" }],
  globalSecondaryIndexes: [
    {
      indexName: "byOwner",
      partitionKey: { name: "owner", type: "S" },
      sortKey: { name: "createdAt", type: "N" },
      projection: "KEYS_ONLY",
    },
  ],
  ttlAttribute: "ttl",
  billingMode: "PAY_PER_REQUEST",
};

describe("createDynamoDbClient", () => {
  it("builds every client with the connection and request timeouts", async () => {
    const made = client();
    await made.send(new CreateTableCommand(createTableInput(tableName("timeouts"), DEFINITION)));
    // The handler resolves its configuration on its first request.
    const handler = made.config.requestHandler as unknown as { httpHandlerConfigs(): Record<string, unknown> };
    expect(handler.httpHandlerConfigs()).toMatchObject({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    });
    expect([CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS]).toEqual([3_000, 10_000]);
  });

  it("gives an emulator test credentials unless the environment or the caller names some", async () => {
    const emulator = createDynamoDbClient({ endpoint, env: {} });
    const fromEnv = createDynamoDbClient({ endpoint, env: { AWS_ACCESS_KEY_ID: "ak", AWS_SECRET_ACCESS_KEY: "sk" } });
    const explicit = createDynamoDbClient({ endpoint, credentials: { accessKeyId: "mine", secretAccessKey: "s" } });
    clients.push(emulator, fromEnv, explicit);
    expect((await emulator.config.credentials()).accessKeyId).toBe("test");
    expect((await explicit.config.credentials()).accessKeyId).toBe("mine");
    expect(await emulator.config.region()).toBe("us-east-1");
    expect(await createDynamoDbClient({ endpoint, env: { AWS_REGION: "eu-west-1" } }).config.region()).toBe(
      "eu-west-1",
    );
    expect(await createDynamoDbClient({ region: "ap-south-1" }).config.region()).toBe("ap-south-1");
    expect(await createDynamoDbClient({ endpoint, maxAttempts: 1 }).config.maxAttempts()).toBe(1);
  });
});

describe("transient errors", () => {
  it.each([
    "TransactionConflictException",
    "TransactionInProgressException",
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
  ])("%s is transient for every store", (name) => {
    expect(TRANSIENT_ERROR_NAMES.has(name)).toBe(true);
    expect(isTransientError(named(name))).toBe(true);
    expect(isTransient(named(name))).toBe(true);
  });

  it.each([
    "ConditionalCheckFailedException",
    "ValidationException",
    "ResourceNotFoundException",
    "InternalServerError",
    "Error",
  ])("%s is not transient", (name) => {
    expect(isTransientError(named(name))).toBe(false);
    expect(isTransient(named(name))).toBe(false);
  });

  it("is not fooled by values that are not errors", () => {
    expect(isTransientError({ name: "ThrottlingException" })).toBe(false);
    expect(isTransientError("ThrottlingException")).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });

  it("counts throttling apart from conflicts, cancellations included", () => {
    for (const name of ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]) {
      expect(isThrottling(named(name))).toBe(true);
    }
    expect(isThrottling(named("TransactionConflictException"))).toBe(false);
    expect(isThrottling(named("TransactionInProgressException"))).toBe(false);
    const cancelled = (codes: string[]) =>
      Object.assign(named("TransactionCanceledException", "cancelled"), {
        CancellationReasons: codes.map((Code) => ({ Code })),
      });
    expect(isThrottling(cancelled(["None", "ThrottlingError"]))).toBe(true);
    expect(isThrottling(cancelled(["ProvisionedThroughputExceeded", "None"]))).toBe(true);
    expect(isThrottling(cancelled(["TransactionConflict", "None"]))).toBe(false);
  });

  it("judges a cancelled transaction by the reasons of the items that failed", () => {
    expect(areTransientReasons(["None", "TransactionConflict"])).toBe(true);
    expect(areTransientReasons(["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"])).toBe(
      true,
    );
    expect(areTransientReasons(["TransactionConflict", "ConditionalCheckFailed"])).toBe(false);
    expect(areTransientReasons(["None", "None"])).toBe(false);
    expect(areTransientReasons([])).toBe(false);
    // A store whose conditions are version checks counts a failed condition as a lost race.
    expect(areTransientReasons(["ConditionalCheckFailed"], new Set(["ConditionalCheckFailed"]))).toBe(true);
    const cancelled = Object.assign(named("TransactionCanceledException", "cancelled"), {
      CancellationReasons: [{ Code: "None" }, { Code: "TransactionConflict" }],
    });
    expect(isTransient(cancelled)).toBe(true);
    expect(isTransient(cancelled, ["ConditionalCheckFailed"])).toBe(false);
  });

  it("recognises a condition that did not hold", () => {
    expect(isConditionFailure(named("ConditionalCheckFailedException"))).toBe(true);
    expect(isConditionFailure(named("TransactionCanceledException"))).toBe(true);
    expect(isConditionFailure(named("ThrottlingException"))).toBe(false);
  });
});

describe("cancellationCodes", () => {
  it("reads the positional reasons of a cancellation", () => {
    const error = Object.assign(named("TransactionCanceledException", "Transaction cancelled"), {
      CancellationReasons: [{ Code: "None" }, { Code: "ConditionalCheckFailed" }, {}],
    });
    expect(cancellationCodes(error)).toEqual(["None", "ConditionalCheckFailed", "None"]);
  });

  it("falls back to the codes listed in the message, in order", () => {
    const error = named(
      "TransactionCanceledException",
      "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ]",
    );
    expect(cancellationCodes(error)).toEqual(["None", "ConditionalCheckFailed", "None"]);
  });

  it("answers undefined for other errors or a cancellation that does not say", () => {
    expect(cancellationCodes(named("ConditionalCheckFailedException"))).toBeUndefined();
    expect(cancellationCodes(named("TransactionCanceledException", "cancelled"))).toBeUndefined();
    expect(cancellationCodes(new Error("x"))).toBeUndefined();
    expect(cancellationCodes(undefined)).toBeUndefined();
  });

  it("reads the reasons of a real cancelled transaction (moto)", async () => {
    const c = client();
    const name = tableName("cancel");
    await ensureTable(c, name, DEFINITION);
    const item = (pk: string) => ({ pk: { S: pk }, sk: { N: "1" } });
    await c.send(new PutItemCommand({ TableName: name, Item: item("taken") }));
    const error = await c
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: name, Item: item("free"), ConditionExpression: "attribute_not_exists(pk)" } },
            { Put: { TableName: name, Item: item("taken"), ConditionExpression: "attribute_not_exists(pk)" } },
          ],
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(cancellationCodes(error)).toEqual(["None", "ConditionalCheckFailed"]);
    expect(isTransient(error)).toBe(false);
    expect(isConditionFailure(error)).toBe(true);
  });
});

describe("ensureTable", () => {
  const describeTable = async (c: DynamoDBClient, name: string) =>
    (await c.send(new DescribeTableCommand({ TableName: name }))).Table;

  it("two clients creating the same table with its indexes at once both succeed", async () => {
    const name = tableName("race");
    const [a, b] = [client(), client()];
    await expect(Promise.all([ensureTable(a, name, DEFINITION), ensureTable(b, name, DEFINITION)])).resolves.toEqual([
      undefined,
      undefined,
    ]);
    const table = await describeTable(a, name);
    expect(table?.TableStatus).toBe("ACTIVE");
    expect(table?.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`)).toEqual(["pk:HASH", "sk:RANGE"]);
    expect(table?.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(["byTime"]);
    expect(table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([["byOwner", "ACTIVE"]]);
    const ttl = await a.send(new DescribeTimeToLiveCommand({ TableName: name }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe("ttl");
    // And again: idempotent.
    await ensureTable(b, name, DEFINITION);
  });

  it("two clients adding the same missing global index to an older table at once both succeed", async () => {
    const name = tableName("gsi");
    const [a, b] = [client(), client()];
    // The release before the index: its attributes are not defined yet either (CreateTable refuses unused ones).
    const older = { ...DEFINITION, attributeDefinitions: DEFINITION.attributeDefinitions.slice(0, 3) };
    await ensureTable(a, name, { ...older, globalSecondaryIndexes: [] });
    expect((await describeTable(a, name))?.GlobalSecondaryIndexes ?? []).toEqual([]);
    await Promise.all([ensureTable(a, name, DEFINITION), ensureTable(b, name, DEFINITION)]);
    const table = await describeTable(b, name);
    expect(table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([["byOwner", "ACTIVE"]]);
  });

  it("refuses an existing table whose keys differ from the definition", async () => {
    const name = tableName("shape");
    const c = client();
    await ensureTable(c, name, {
      partitionKey: { name: "other", type: "S" },
      attributeDefinitions: [{ name: "other", type: "S" }],
      billingMode: "PAY_PER_REQUEST",
    });
    const withoutGsi = { ...DEFINITION, attributeDefinitions: DEFINITION.attributeDefinitions.slice(0, 3) };
    await expect(ensureTable(c, name, { ...withoutGsi, globalSecondaryIndexes: [] })).rejects.toThrow(
      `table ${name} exists with keys [other:HASH] and indexes [], expected [pk:HASH,sk:RANGE] and [byTime]`,
    );
  });
});
