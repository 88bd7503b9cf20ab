export {
  CONNECTION_TIMEOUT_MS,
  createDynamoDbClient,
  type DynamoDbClientOptions,
  REQUEST_TIMEOUT_MS,
} from "./client.js";
export { createTableInput, describeTable, ensureTable, waitActive } from "./ensure-table.js";
export {
  areTransientReasons,
  cancellationCodes,
  errorName,
  isConditionFailure,
  isThrottling,
  isTransient,
  isTransientError,
  TRANSIENT_ERROR_NAMES,
  TRANSIENT_REASON_CODES,
} from "./errors.js";
export type {
  GlobalIndexDefinition,
  IndexProjection,
  KeyAttribute,
  KeyAttributeType,
  LocalIndexDefinition,
  TableDefinition,
} from "./table-definition.js";
