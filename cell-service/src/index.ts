export { createDynamoDbClient, createDynamoDbLedgerStore } from "./adapters/dynamodb/dynamodb-ledger-store.js";
export { ensureCellTables } from "./adapters/dynamodb/ensure-tables.js";
export { CELL_TABLES, cellTableNames } from "./adapters/dynamodb/table-definitions.js";
export { SqliteLedgerStore } from "./adapters/sqlite/sqlite-ledger-store.js";
export type { ApiResponse } from "./application/api-response.js";
export type { LedgerStore } from "./application/ledger-store.js";
export { type CellConfig, cellConfigFromEnv } from "./config.js";
export { type Cell, createCell, createLogger } from "./create-cell.js";
export { createLedgerStore } from "./create-store.js";
