/**
 * A DynamoDB table as plain data (no SDK imports): the stores' table modules describe their tables with it,
 * ensureTable creates them from it (local development, tests) and the CDK stacks build the production tables
 * from the same values, so the runtime and the infrastructure cannot drift apart.
 */

export type KeyAttributeType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

export type IndexProjection = "ALL" | "KEYS_ONLY";

export interface LocalIndexDefinition {
  readonly indexName: string;
  /** LSIs share the table's partition key; only the sort key differs. */
  readonly sortKey: KeyAttribute;
  readonly projection: IndexProjection;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projection: IndexProjection;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Every attribute a key of the table or of an index uses (what CreateTable wants). */
  readonly attributeDefinitions: readonly KeyAttribute[];
  /** LSIs can only be created together with the table, never added later. */
  readonly localSecondaryIndexes?: readonly LocalIndexDefinition[];
  /** GSIs are eventually consistent; unlike LSIs they can be added to a live table. */
  readonly globalSecondaryIndexes?: readonly GlobalIndexDefinition[];
  /** Epoch-seconds attribute DynamoDB's TTL expires items by. */
  readonly ttlAttribute?: string;
  readonly billingMode: "PAY_PER_REQUEST";
}
