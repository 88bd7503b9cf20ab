import { createDynamoDbClient, createDynamoDbLedgerStore } from "./adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "./adapters/dynamodb/ensure-tables.js";
import { SqliteLedgerStore } from "./adapters/sqlite/sqlite-ledger-store.js";
import type { LedgerStore } from "./application/ledger-store.js";
import type { StoreConfig } from "./config.js";

/** Opens the configured store adapter (creating DynamoDB tables locally when asked). */
export async function createLedgerStore(cellId: string, config: StoreConfig): Promise<LedgerStore> {
  if (config.kind === "sqlite") return new SqliteLedgerStore({ path: config.path });
  const client = createDynamoDbClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  if (config.createTables) await ensureCellTables(client, cellId, config.tablePrefix);
  return createDynamoDbLedgerStore({ cellId, tablePrefix: config.tablePrefix, client });
}
