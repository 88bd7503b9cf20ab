import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureTable } from "@cellwallet/store-support/dynamodb";
import { PLACEMENT_TABLE_NAMES, PLACEMENT_TABLES, placementTableNames } from "./placement-tables.js";

/**
 * Creates every missing placement table (local development and tests; in AWS the CDK stacks own them), adds an
 * index a newer release defines, and waits until all are ACTIVE. Idempotent; several processes may run it at once.
 */
export async function ensurePlacementTables(client: DynamoDBClient, prefix?: string): Promise<void> {
  const names = placementTableNames(prefix);
  await Promise.all(
    PLACEMENT_TABLE_NAMES.map((logical) => ensureTable(client, names[logical], PLACEMENT_TABLES[logical])),
  );
}
