import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureTable } from "@cellwallet/store-support/dynamodb";
import { CELL_TABLE_NAMES, CELL_TABLES, cellTableNames } from "./table-definitions.js";

/**
 * Creates every missing table of the cell (local development and tests; in AWS the CDK stacks own them), adds
 * the global indexes a newer release defines, waits until all are ACTIVE and enables TTL. Idempotent; several
 * processes may run it at once.
 */
export async function ensureCellTables(client: DynamoDBClient, cellId: string, prefix?: string): Promise<void> {
  const names = cellTableNames(cellId, prefix);
  await Promise.all(CELL_TABLE_NAMES.map((logical) => ensureTable(client, names[logical], CELL_TABLES[logical])));
}
