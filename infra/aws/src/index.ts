export { type AwsPlatformConfig, buildAwsApp, DEFAULT_AWS_PLATFORM, stackNames } from "./app.js";
export {
  CELL_READ_ACTIONS,
  CELL_TABLE_NAMES,
  CELL_WRITE_ACTIONS,
  CellStack,
  type CellStackProps,
  type CellTableName,
  ENTRIES_DENIED_ACTIONS,
} from "./cell-stack.js";
export { ControlPlaneStack, type ControlPlaneStackProps } from "./control-plane-stack.js";
export {
  type AlarmThresholds,
  AZ_WEIGHT_SERVING,
  type AzLoadBalancer,
  cellAlarmNames,
  DEFAULT_THRESHOLDS,
  EdgeStack,
  type EdgeStackProps,
} from "./edge-stack.js";
export { globalTableFromDefinition, type MultiRegionTables, type ReplicaRegion } from "./global-tables.js";
export type { ClusterOidc } from "./irsa.js";
export { addRegionalFailover, type RegionalFailover, type RegionalRouters } from "./regional-failover.js";
export { tableFromDefinition } from "./tables.js";
