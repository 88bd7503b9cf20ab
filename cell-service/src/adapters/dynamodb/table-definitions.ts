/**
 * The DynamoDB tables of one cell, as plain data. Kept free of SDK imports so
 * the CDK stacks and the runtime (ensure-tables.ts) read the same description
 * and cannot drift apart.
 */

import type { GlobalIndexDefinition, LocalIndexDefinition, TableDefinition } from "@cellwallet/store-support/dynamodb";

export type CellTableName =
  | "wallets"
  | "owners"
  | "entries"
  | "transfers"
  | "idempotency"
  | "checkpoints"
  | "snapshots";

/** A cell table: the one table-definition type of `@cellwallet/store-support/dynamodb`, named and marked. */
export interface CellTableDefinition extends TableDefinition {
  readonly logicalName: CellTableName;
  /** LSIs can only be created together with the table, never added later. */
  readonly localSecondaryIndexes: readonly LocalIndexDefinition[];
  /** GSIs are eventually consistent: only for background work, never on the money path. */
  readonly globalSecondaryIndexes: readonly GlobalIndexDefinition[];
  /** Items are written once and never updated or deleted: infrastructure may deny both. */
  readonly ledgerImmutable: boolean;
}

export const ENTRIES_BY_TIME_INDEX = "byTime";
export const ENTRIES_BY_TRANSACTION_INDEX = "byTransactionId";
/** Sparse GSI over outgoing cross-cell transfers that are still PENDING (the retry worker's queue). */
export const PENDING_TRANSFERS_INDEX = "pendingTransfers";
/** Sparse GSI (keys only) over idempotency records by the wallet they acted on: a migration copies them. */
export const IDEMPOTENCY_BY_WALLET_INDEX = "byWallet";
/** Pending transfers are spread over this many GSI partitions so no one partition gets hot. */
export const PENDING_SHARDS = 8;

export const CELL_TABLES: Readonly<Record<CellTableName, CellTableDefinition>> = {
  wallets: {
    logicalName: "wallets",
    partitionKey: { name: "walletId", type: "S" },
    attributeDefinitions: [{ name: "walletId", type: "S" }],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: false,
  },
  owners: {
    logicalName: "owners",
    partitionKey: { name: "userId", type: "S" },
    attributeDefinitions: [{ name: "userId", type: "S" }],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: false,
  },
  entries: {
    logicalName: "entries",
    partitionKey: { name: "walletId", type: "S" },
    sortKey: { name: "sequence", type: "N" },
    attributeDefinitions: [
      { name: "walletId", type: "S" },
      { name: "sequence", type: "N" },
      { name: "timeKey", type: "S" },
      { name: "transactionId", type: "S" },
    ],
    localSecondaryIndexes: [
      { indexName: ENTRIES_BY_TIME_INDEX, sortKey: { name: "timeKey", type: "S" }, projection: "ALL" },
      {
        indexName: ENTRIES_BY_TRANSACTION_INDEX,
        sortKey: { name: "transactionId", type: "S" },
        projection: "KEYS_ONLY",
      },
    ],
    globalSecondaryIndexes: [],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: true,
  },
  transfers: {
    logicalName: "transfers",
    partitionKey: { name: "transferId", type: "S" },
    attributeDefinitions: [
      { name: "transferId", type: "S" },
      { name: "pendingShard", type: "S" },
      { name: "createdAt", type: "N" },
    ],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [
      {
        indexName: PENDING_TRANSFERS_INDEX,
        partitionKey: { name: "pendingShard", type: "S" },
        sortKey: { name: "createdAt", type: "N" },
        projection: "ALL",
      },
    ],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: false,
  },
  idempotency: {
    logicalName: "idempotency",
    partitionKey: { name: "scopeKey", type: "S" },
    attributeDefinitions: [
      { name: "scopeKey", type: "S" },
      { name: "walletId", type: "S" },
      { name: "createdAt", type: "N" },
    ],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [
      {
        indexName: IDEMPOTENCY_BY_WALLET_INDEX,
        partitionKey: { name: "walletId", type: "S" },
        sortKey: { name: "createdAt", type: "N" },
        projection: "KEYS_ONLY",
      },
    ],
    ttlAttribute: "ttl",
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: false,
  },
  /** Signed cell checkpoints: one partition ("cell"), sorted by sequence; written once (conditional Put). */
  checkpoints: {
    logicalName: "checkpoints",
    partitionKey: { name: "cell", type: "S" },
    sortKey: { name: "sequence", type: "N" },
    attributeDefinitions: [
      { name: "cell", type: "S" },
      { name: "sequence", type: "N" },
    ],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: true,
  },
  /** The wallet heads of each snapshot, sorted by walletId; written once (conditional Put in transactions). */
  snapshots: {
    logicalName: "snapshots",
    partitionKey: { name: "snapshotId", type: "S" },
    sortKey: { name: "walletId", type: "S" },
    attributeDefinitions: [
      { name: "snapshotId", type: "S" },
      { name: "walletId", type: "S" },
    ],
    localSecondaryIndexes: [],
    globalSecondaryIndexes: [],
    billingMode: "PAY_PER_REQUEST",
    ledgerImmutable: true,
  },
};

export const CELL_TABLE_NAMES: readonly CellTableName[] = [
  "wallets",
  "owners",
  "entries",
  "transfers",
  "idempotency",
  "checkpoints",
  "snapshots",
];

export const DEFAULT_TABLE_PREFIX = "cellwallet";

const CELL_ID = /^[a-z0-9-]{1,40}$/;
// Table names allow [A-Za-z0-9_.-]; 255 minus the cell id and suffixes leaves ample room.
const PREFIX = /^[A-Za-z0-9_.-]{1,160}$/;

export function assertValidCellId(cellId: string): void {
  if (!CELL_ID.test(cellId)) throw new Error(`invalid cellId ${JSON.stringify(cellId)}: 1..40 of [a-z0-9-]`);
}

/** Physical table names of one cell: `${prefix}-${cellId}-${logical}`. */
export function cellTableNames(cellId: string, prefix = DEFAULT_TABLE_PREFIX): Record<CellTableName, string> {
  assertValidCellId(cellId);
  if (!PREFIX.test(prefix)) throw new Error(`invalid table prefix ${JSON.stringify(prefix)}`);
  const name = (table: CellTableName) => `${prefix}-${cellId}-${table}`;
  return {
    wallets: name("wallets"),
    owners: name("owners"),
    entries: name("entries"),
    transfers: name("transfers"),
    idempotency: name("idempotency"),
    checkpoints: name("checkpoints"),
    snapshots: name("snapshots"),
  };
}
