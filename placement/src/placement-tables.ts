/**
 * The control plane's DynamoDB tables, as plain data (no SDK imports) so the
 * CDK stacks and ensure-placement-tables.ts read one description and cannot
 * drift apart. One set per platform, shared by every router and cellctl.
 */

import type { GlobalIndexDefinition, KeyAttribute, TableDefinition } from "@cellwallet/store-support/dynamodb";

export type PlacementTableName = "cells" | "placements" | "overrides" | "operatorAudit" | "migrations" | "relocations";

/** The key attribute type of `@cellwallet/store-support/dynamodb`, under the name placement has always used. */
export type PlacementKeyAttribute = KeyAttribute;
/** The global-index type of `@cellwallet/store-support/dynamodb`. */
export type PlacementIndexDefinition = GlobalIndexDefinition;

/** A control-plane table: the one table-definition type, named, with its physical-name suffix. */
export interface PlacementTableDefinition extends TableDefinition {
  readonly logicalName: PlacementTableName;
  /** Physical name: `${prefix}-${suffix}`. */
  readonly suffix: string;
}

/** The placements table's index of the users of each cell (draining, rebalancing). */
export const USERS_BY_CELL_INDEX = "users-by-cell";

export const PLACEMENT_TABLES: Readonly<Record<PlacementTableName, PlacementTableDefinition>> = {
  cells: {
    logicalName: "cells",
    suffix: "control-cells",
    partitionKey: { name: "cellId", type: "S" },
    attributeDefinitions: [{ name: "cellId", type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
  placements: {
    logicalName: "placements",
    suffix: "user-placements",
    partitionKey: { name: "userId", type: "S" },
    attributeDefinitions: [
      { name: "userId", type: "S" },
      { name: "cellId", type: "S" },
    ],
    globalSecondaryIndexes: [
      {
        indexName: USERS_BY_CELL_INDEX,
        partitionKey: { name: "cellId", type: "S" },
        sortKey: { name: "userId", type: "S" },
        projection: "ALL",
      },
    ],
    billingMode: "PAY_PER_REQUEST",
  },
  overrides: {
    logicalName: "overrides",
    suffix: "overrides",
    partitionKey: { name: "userId", type: "S" },
    attributeDefinitions: [{ name: "userId", type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
  /** The operators' hash-chained audit trail: `record#<seq>` items and one `head` item. Append-only. */
  operatorAudit: {
    logicalName: "operatorAudit",
    suffix: "control-operator-audit",
    partitionKey: { name: "recordKey", type: "S" },
    attributeDefinitions: [{ name: "recordKey", type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
  /** User migrations between cells: one item per migration (the whole record as JSON, step and state as attributes). */
  migrations: {
    logicalName: "migrations",
    suffix: "migrations",
    partitionKey: { name: "migrationId", type: "S" },
    attributeDefinitions: [{ name: "migrationId", type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
  /** Wallets that moved: walletId -> owning cell and epoch, written with the placement flip; routers read it. */
  relocations: {
    logicalName: "relocations",
    suffix: "wallet-relocations",
    partitionKey: { name: "walletId", type: "S" },
    attributeDefinitions: [{ name: "walletId", type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
};

export const PLACEMENT_TABLE_NAMES: readonly PlacementTableName[] = [
  "cells",
  "placements",
  "overrides",
  "operatorAudit",
  "migrations",
  "relocations",
];

export const DEFAULT_PLACEMENT_TABLE_PREFIX = "cellwallet";

// Table names allow [A-Za-z0-9_.-] up to 255 characters; the suffixes are short.
const PREFIX = /^[A-Za-z0-9_.-]{1,200}$/;

/** Physical table names: `${prefix}-control-cells`, `${prefix}-user-placements`, `${prefix}-overrides`. */
export function placementTableNames(prefix = DEFAULT_PLACEMENT_TABLE_PREFIX): Record<PlacementTableName, string> {
  if (!PREFIX.test(prefix)) throw new Error(`invalid table prefix ${JSON.stringify(prefix)}`);
  return {
    cells: `${prefix}-${PLACEMENT_TABLES.cells.suffix}`,
    placements: `${prefix}-${PLACEMENT_TABLES.placements.suffix}`,
    overrides: `${prefix}-${PLACEMENT_TABLES.overrides.suffix}`,
    operatorAudit: `${prefix}-${PLACEMENT_TABLES.operatorAudit.suffix}`,
    migrations: `${prefix}-${PLACEMENT_TABLES.migrations.suffix}`,
    relocations: `${prefix}-${PLACEMENT_TABLES.relocations.suffix}`,
  };
}
