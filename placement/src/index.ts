/**
 * Placement, shared by the router (data plane) and the control plane: the port, the records, the policy,
 * onboarding, both adapters, the table definitions and the store's configuration from the environment.
 */
export {
  DynamoDbPlacementStore,
  type DynamoDbPlacementStoreOptions,
} from "./dynamodb-placement-store.js";
export { ensurePlacementTables } from "./ensure-placement-tables.js";
export {
  type CellStateChange,
  type CellStateCondition,
  type CreateMigrationOutcome,
  type FlipOutcome,
  isFinalState,
  MIGRATION_STATES,
  MIGRATION_STEPS,
  type MigrationPatch,
  type MigrationRecord,
  type MigrationState,
  type MigrationStep,
  type NewMigration,
  type WalletRelocation,
} from "./migration-records.js";
export { type OnboardOptions, type OnboardResult, onboardUser } from "./onboard-user.js";
export {
  aboveOpsThreshold,
  assertOpsThreshold,
  type CellOpsRate,
  DEFAULT_OPS_THRESHOLD,
  type OpsLoad,
  opsHeadroomPercent,
} from "./ops-headroom.js";
export { choosePlacementCell, type PlacementChoice, stableHash } from "./placement-policy.js";
export { CELL_STATES, PlacementContentionError, placeableStates, placementRefusal } from "./placement-rules.js";
export type {
  CellEndpoint,
  CellRecord,
  CellState,
  PlacementStore,
  PlaceUserOutcome,
  UserPlacement,
} from "./placement-store.js";
export {
  openPlacementStore,
  type PlacementStoreConfig,
  type PlacementStoreEnv,
  placementStoreConfigFromEnv,
} from "./placement-store-config.js";
export {
  DEFAULT_PLACEMENT_TABLE_PREFIX,
  PLACEMENT_TABLE_NAMES,
  PLACEMENT_TABLES,
  type PlacementIndexDefinition,
  type PlacementKeyAttribute,
  type PlacementTableDefinition,
  type PlacementTableName,
  placementTableNames,
  USERS_BY_CELL_INDEX,
} from "./placement-tables.js";
export { SqlitePlacementStore, type SqlitePlacementStoreOptions } from "./sqlite-placement-store.js";
// DynamoDB transaction-failure parsing, shared with the control plane's rollout store.
