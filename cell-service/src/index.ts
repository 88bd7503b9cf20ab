export { createDynamoDbClient, createDynamoDbLedgerStore } from "./adapters/dynamodb/dynamodb-ledger-store.js";
export { ensureCellTables } from "./adapters/dynamodb/ensure-tables.js";
export { CELL_TABLES, cellTableNames } from "./adapters/dynamodb/table-definitions.js";
export { SqliteLedgerStore } from "./adapters/sqlite/sqlite-ledger-store.js";
export type { ApiResponse } from "./application/api-response.js";
export type { LedgerStore } from "./application/ledger-store.js";
export {
  BACKUP_FORMAT,
  type BackupManifest,
  MANIFEST_FILE,
} from "./backup/backup-manifest.js";
export {
  createDynamoDbBackup,
  restoreDynamoDbBackup,
  verifyDynamoDbBackup,
} from "./backup/dynamodb-backup.js";
export { readExportedCheckpoint } from "./backup/exported-checkpoint.js";
export { type LossReport, type LostEntry, lossReport, type ReferenceHead } from "./backup/loss-report.js";
export { readLostEntries } from "./backup/lost-entries.js";
export {
  createSqliteBackup,
  ledgerFiles,
  readLedgerContents,
  readManifest,
  restoreSqliteBackup,
  verifySqliteBackup,
} from "./backup/sqlite-backup.js";
export { checkpointKeysFromEnv } from "./checkpoint-keys.js";
export { type CellConfig, cellConfigFromEnv } from "./config.js";
export { type Cell, createCell, createLogger } from "./create-cell.js";
export { createLedgerStore } from "./create-store.js";
export { DEVELOPMENT_CHECKPOINT_KEY, keyIdOf, publicKeyFromSpki, signerFromPkcs8 } from "./domain/checkpoint.js";
